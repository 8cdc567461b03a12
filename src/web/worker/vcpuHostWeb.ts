/**
 * The browser's VcpuHost: every vCPU runs in a module Web Worker of its own
 * (workers/vcpu.worker.ts), started from the hypervisor worker (nested workers). The
 * worker gets its VcpuBoot in one message, then talks to the hypervisor only through the
 * control block in shared memory. The twin of src/node/vcpuHost.ts.
 *
 * Loading a worker's module takes a few hundred milliseconds on a busy page, and a new
 * worker then warms its interpreter up (cpu/warmup.ts), so a spare or two are started
 * ahead of time: a new domain's vCPU takes one that is ready. The spare taken is replaced
 * a moment later, not at once, so that loading and warming the replacement does not take
 * a core from the guest that is booting.
 */
import type { VcpuWorker } from '../../core/xen/common/domain';
import type { VcpuHost } from '../../core/xen/common/hypervisor';
import type { VcpuBoot } from '../../core/xen/vcpu/vcpuControl';

/** What a vCPU worker posts back: only a report of why its guest cannot go on. */
export interface VcpuWorkerMessage {
  readonly type: 'crash';
  readonly message: string;
}

let started = 0;

/** How long after taking a spare its replacement is started (ms). */
const REFILL_DELAY_MS = 1500;

function spawn(): Worker {
  return new Worker(new URL('../../../workers/vcpu.worker.ts', import.meta.url), { type: 'module', name: `vcpu-${++started}` });
}

export function webVcpuHost(options: { spares?: number } = {}): VcpuHost {
  const spares: Worker[] = [];
  const want = options.spares ?? 2;
  let refillTimer: ReturnType<typeof setTimeout> | undefined;
  const refill = (): void => {
    refillTimer = undefined;
    while (spares.length < want) spares.push(spawn());
  };
  refill();
  return {
    start(boot: VcpuBoot, onError: (message: string) => void): VcpuWorker {
      const w = spares.shift() ?? spawn();
      refillTimer ??= setTimeout(refill, REFILL_DELAY_MS);
      w.addEventListener('message', (e: MessageEvent<VcpuWorkerMessage>) => {
        if (e.data.type === 'crash') onError(e.data.message);
      });
      w.addEventListener('error', (e) => {
        e.preventDefault();
        onError(`vCPU ${boot.vcpuId} of domain ${boot.domid}: worker failed: ${e.message || 'script error'}`);
      });
      w.postMessage(boot);
      return { terminate: () => w.terminate() };
    },
  };
}
