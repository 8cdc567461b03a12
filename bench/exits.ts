/**
 * The cost of one exit to a device model in the hypervisor: an hvm domain writes the
 * UART's scratch register N times (each write is a synchronous REQUEST to the hypervisor
 * thread and back, vcpuControl.ts), and the wall time divided by N is the round trip.
 */
import { assemble } from '../src/core/cpu/asm';
import { Hypervisor } from '../src/core/xen/common/hypervisor';
import { parseXlConfig } from '../src/core/tools/xlConfig';
import { nodeVcpuHost } from '../src/node/vcpuHost';
import { ensureWorkerScript } from '../src/node/workerScript';
import { elf32Executable } from '../src/core/loader/elfWrite';

function li(rd: number, v: number): number[] {
  const lo = (v << 20) >> 20;
  return [assemble('lui', { rd, imm: ((v - lo) >>> 12) & 0xfffff }), assemble('addi', { rd, rs1: rd, imm: lo })];
}

/** N stores to UART SCR (offset 7), then PASS to the finisher. */
export function exitLoopImage(n: number): Uint8Array {
  const words = [
    assemble('lui', { rd: 5, imm: 0x10000 }),
    ...li(6, n),
    assemble('sb', { rs1: 5, rs2: 6, imm: 7 }),
    assemble('addi', { rd: 6, rs1: 6, imm: -1 }),
    assemble('bne', { rs1: 6, rs2: 0, imm: -8 }),
    assemble('lui', { rd: 7, imm: 0x100 }),
    ...li(28, 0x5555),
    assemble('sw', { rs1: 7, rs2: 28 }),
  ];
  return new Uint8Array(Int32Array.from(words).buffer);
}

/** A pv guest: N calls of xen_version(XENVER_version) (a null hypercall), then SCHEDOP_shutdown. */
export function nullHypercallImage(n: number): Uint8Array {
  const words = [
    ...li(9, n),
    ...li(17, 0x0a00_0007), // a7: Xen
    assemble('addi', { rd: 16, imm: 17 }), // a6 = xen_version
    assemble('addi', { rd: 10, imm: 0 }), // a0 = XENVER_version
    assemble('ecall'),
    assemble('addi', { rd: 9, rs1: 9, imm: -1 }),
    assemble('bne', { rs1: 9, rs2: 0, imm: -12 }),
    // sched_op(SCHEDOP_shutdown, &reason) with reason = 0 at 0x80001000
    ...li(11, 0x8000_1000),
    assemble('sw', { rs1: 11, rs2: 0 }),
    assemble('addi', { rd: 16, imm: 29 }),
    assemble('addi', { rd: 10, imm: 2 }),
    assemble('ecall'),
    assemble('jal', { imm: 0 }),
  ];
  return new Uint8Array(Int32Array.from(words).buffer);
}

/** Microseconds per hypercall of a pv guest (a synchronous request to the hypervisor thread). */
export async function measureNullHypercall(n = 20_000): Promise<number> {
  const hv = new Hypervisor({ memoryMiB: 32, pcpus: 1, host: nodeVcpuHost(await ensureWorkerScript()) });
  hv.start();
  try {
    const cfg = parseXlConfig('name = "null"\ntype = "pv"\nmemory = 8\nkernel = "loop"\non_poweroff = "preserve"');
    const d = hv.createDomain(cfg, { kernel: elf32Executable(nullHypercallImage(n)) });
    const count = (): number => d.exits.get('hypercall:xen_version') ?? 0;
    while (count() === 0) await new Promise((r) => setTimeout(r, 1));
    const t0 = performance.now();
    const c0 = count();
    while (d.shutdownReason === null) await new Promise((r) => setTimeout(r, 1));
    return ((performance.now() - t0) * 1000) / (count() - c0);
  } finally {
    hv.shutdownHost();
  }
}

export async function measureExitRoundTrip(n = 20_000): Promise<{ exits: number; microsPerExit: number }> {
  const hv = new Hypervisor({ memoryMiB: 32, pcpus: 1, host: nodeVcpuHost(await ensureWorkerScript()) });
  hv.start();
  try {
    const cfg = parseXlConfig('name = "exits"\ntype = "hvm"\nmemory = 8\nkernel = "loop"\non_poweroff = "preserve"');
    const d = hv.createDomain(cfg, { kernel: exitLoopImage(n) });
    // Time from the first exit on, so worker start-up is not counted.
    while ((d.exits.get('mmio:uart0') ?? 0) === 0) await new Promise((r) => setTimeout(r, 1));
    const t0 = performance.now();
    const e0 = d.exits.get('mmio:uart0')!;
    while (d.shutdownReason === null) await new Promise((r) => setTimeout(r, 1));
    const exits = d.exits.get('mmio:uart0')! - e0;
    return { exits, microsPerExit: ((performance.now() - t0) * 1000) / exits };
  } finally {
    hv.shutdownHost();
  }
}
