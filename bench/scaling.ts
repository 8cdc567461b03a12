/**
 * Aggregate guest MIPS of 1, 2 and 4 CPU-bound hvm domains on as many pCPUs (one vCPU
 * worker thread each), over a fixed stretch of wall time after they all run. Scaling is
 * aggregate(n) / (n x aggregate(1)); it can only reach 1 where the host has n free cores.
 */
import { assemble } from '../src/core/cpu/asm';
import { Hypervisor } from '../src/core/xen/common/hypervisor';
import { parseXlConfig } from '../src/core/tools/xlConfig';
import { nodeVcpuHost } from '../src/node/vcpuHost';
import { ensureWorkerScript } from '../src/node/workerScript';

/** A CPU-bound loop that never ends (a few ALU instructions and a branch). */
const SPIN = new Uint8Array(
  Int32Array.of(
    assemble('addi', { rd: 5, rs1: 5, imm: 1 }),
    assemble('xor', { rd: 6, rs1: 6, rs2: 5 }),
    assemble('add', { rd: 7, rs1: 7, rs2: 6 }),
    assemble('jal', { imm: -12 }),
  ).buffer,
);

export async function aggregateMips(n: number, ms = 3000): Promise<number> {
  const hv = new Hypervisor({ memoryMiB: 16 * n + 16, pcpus: n, host: nodeVcpuHost(await ensureWorkerScript()) });
  hv.start();
  try {
    const doms = Array.from({ length: n }, (_, i) =>
      hv.createDomain(parseXlConfig(`name = "spin${i}"\ntype = "hvm"\nmemory = 8\nkernel = "spin"`), { kernel: SPIN }),
    );
    while (doms.some((d) => d.vcpus[0]!.instret === 0)) await new Promise((r) => setTimeout(r, 10));
    const sum = (): number => doms.reduce((s, d) => s + d.vcpus[0]!.instret, 0);
    const i0 = sum(),
      t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    return (sum() - i0) / ((performance.now() - t0) * 1000);
  } finally {
    hv.shutdownHost();
  }
}
