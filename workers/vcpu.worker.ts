/**
 * One vCPU (a Web Worker started by src/web/worker/vcpuHostWeb.ts): takes its VcpuBoot from the
 * first message, builds the hart and serves the hypervisor's commands on the control
 * block until told to quit. serve() blocks this thread in Atomics.wait between slices,
 * which workers may do and pages may not.
 */
import type { VcpuBoot } from '../src/core/xen/vcpu/vcpuControl';
import { VcpuRunner } from '../src/core/xen/vcpu/vcpuRunner';
import { warmUpInterpreter } from '../src/core/cpu/warmup';
import type { VcpuWorkerMessage } from '../src/web/worker/vcpuHostWeb';

const report = (message: string): void => postMessage({ type: 'crash', message } satisfies VcpuWorkerMessage);

self.addEventListener(
  'message',
  (e: MessageEvent<VcpuBoot>) => {
    try {
      new VcpuRunner(e.data, report).serve();
    } catch (err) {
      report(`vCPU ${e.data.vcpuId} of domain ${e.data.domid}: ${err instanceof Error ? err.message : String(err)}`);
    }
    close();
  },
  { once: true },
);

// While the boot message is on its way: give the compiler the interpreter's full type
// feedback before the guest runs (warmup.ts; about 50 ms, and it halves a Linux boot).
warmUpInterpreter();
