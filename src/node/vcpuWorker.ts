/** Entry point of a vCPU worker under node:worker_threads (the only file here that knows it). */
import { parentPort, workerData } from 'node:worker_threads';
import type { VcpuBoot } from '../core/xen/vcpu/vcpuControl';
import { VcpuRunner } from '../core/xen/vcpu/vcpuRunner';
import { warmUpInterpreter } from '../core/cpu/warmup';
import { isSpare } from './vcpuWorkerData';

warmUpInterpreter(); // as the browser's vCPU worker does (workers/vcpu.worker.ts)

function run(boot: VcpuBoot): void {
  const runner = new VcpuRunner(boot, (message) => parentPort?.postMessage({ type: 'crash', message }));
  runner.serve();
  process.exit(0);
}

// A spare (vcpuHost.ts `spare`) was started ahead of need: its boot record comes as a message.
if (isSpare(workerData)) parentPort?.once('message', (boot: VcpuBoot) => run(boot));
else run(workerData as VcpuBoot);
