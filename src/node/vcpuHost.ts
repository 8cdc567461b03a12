/** Starts vCPU workers as node:worker_threads, from the bundle that bin/bundle.js builds. */
import { Worker } from 'node:worker_threads';
import type { VcpuWorker } from '../core/xen/common/domain';
import type { VcpuHost } from '../core/xen/common/hypervisor';
import type { VcpuBoot } from '../core/xen/vcpu/vcpuControl';

export function nodeVcpuHost(workerScript: string): VcpuHost {
  return {
    start(boot: VcpuBoot, onError: (message: string) => void): VcpuWorker {
      const w = new Worker(workerScript, { workerData: boot });
      w.on('message', (m: { type: string; message: string }) => {
        if (m.type === 'crash') onError(m.message);
      });
      w.on('error', (e) => onError(`vCPU ${boot.vcpuId} of domain ${boot.domid}: worker failed: ${e.message}`));
      w.unref();
      return { terminate: () => void w.terminate() };
    },
  };
}
