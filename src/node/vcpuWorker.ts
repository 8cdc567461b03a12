/** Entry point of a vCPU worker under node:worker_threads (the only file here that knows it). */
import { parentPort, workerData } from 'node:worker_threads';
import type { VcpuBoot } from '../core/xen/vcpuControl';
import { VcpuRunner } from '../core/xen/vcpuRunner';

const runner = new VcpuRunner(workerData as VcpuBoot, (message) => parentPort?.postMessage({ type: 'crash', message }));
runner.serve();
process.exit(0);
