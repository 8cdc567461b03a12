/** Starts vCPU workers as node:worker_threads, from the bundle that bin/bundle.js builds. */
import { Worker } from 'node:worker_threads';
import type { VcpuWorker } from '../core/xen/common/domain';
import type { VcpuHost } from '../core/xen/common/hypervisor';
import type { VcpuBoot } from '../core/xen/vcpu/vcpuControl';
import { SPARE_WORKER } from './vcpuWorkerData';

export interface NodeVcpuHostOptions {
  /**
   * Keep one worker started ahead (its bundle loaded, its interpreter warmed up), waiting for
   * a boot record: a new vCPU (xl create, restore, the receiving end of a migration) then
   * starts running at once instead of after the 100-150 ms a worker takes to start (and its
   * first slices on a cold interpreter). As the browser's host does (web/worker/vcpuHostWeb.ts).
   * For long-lived hosts (`hyperlab host`); tests start many hypervisors and leave it off.
   */
  spare?: boolean;
}

/** A VcpuHost with its counts: vCPUs started on the spare, and on a worker started for them. */
export interface NodeVcpuHost extends VcpuHost {
  readonly counts: { fromSpare: number; cold: number };
}

/** How long after a vCPU starts the next spare is made. */
const SPARE_DELAY_MS = 500;

export function nodeVcpuHost(workerScript: string, opts: NodeVcpuHostOptions = {}): NodeVcpuHost {
  let spare: Worker | undefined;
  const counts = { fromSpare: 0, cold: 0 };
  let replacing = false;
  const prepare = (): void => {
    if (!opts.spare) return;
    const w = new Worker(workerScript, { workerData: SPARE_WORKER });
    w.unref();
    const lost = (): void => {
      if (spare === w) spare = undefined;
    };
    w.once('error', lost);
    w.once('exit', lost);
    spare = w;
  };
  prepare();
  return {
    counts,
    start(boot: VcpuBoot, onError: (message: string) => void): VcpuWorker {
      let w = spare;
      spare = undefined;
      if (w) {
        w.postMessage(boot);
        counts.fromSpare++;
      } else {
        counts.cold++;
        w = new Worker(workerScript, { workerData: boot });
        w.unref();
      }
      w.on('message', (m: { type: string; message: string }) => {
        if (m.type === 'crash') onError(m.message);
      });
      w.on('error', (e) => onError(`vCPU ${boot.vcpuId} of domain ${boot.domid}: worker failed: ${e.message}`));
      // The next spare a little later: loading and warming up takes a core for a few hundred
      // ms, which the vCPU just started (a migration's resume, a boot) needs more now.
      if (opts.spare && !replacing) {
        replacing = true;
        setTimeout(() => {
          replacing = false;
          if (spare === undefined) prepare();
        }, SPARE_DELAY_MS).unref();
      }
      const worker = w;
      return { terminate: () => void worker.terminate() };
    },
  };
}
