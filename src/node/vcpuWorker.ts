/** Entry point of a vCPU worker under node:worker_threads (the only file here that knows it). */
import { parentPort, workerData } from 'node:worker_threads';
import type { VcpuBoot } from '../core/xen/vcpu/vcpuControl';
import { VcpuRunner } from '../core/xen/vcpu/vcpuRunner';
import { warmUpInterpreter } from '../core/cpu/warmup';

warmUpInterpreter(); // as the browser's vCPU worker does (workers/vcpu.worker.ts)

const runner = new VcpuRunner(workerData as VcpuBoot, (message) => parentPort?.postMessage({ type: 'crash', message }));
runner.serve();
process.exit(0);
