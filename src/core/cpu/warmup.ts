/**
 * Interpreter warm-up: run a short generated program that executes every RV32IMA
 * instruction, the trap path and Sv32 translation on a scratch hart, before a worker
 * starts its guest.
 *
 * Why: the JavaScript engine compiles `execBlock` from the type feedback it has collected.
 * A guest reaches new cases of the big switch (a first DIVU, a first LHU, a first value
 * above 2^30 in a register) for seconds while it boots, and in Chromium each one threw
 * the optimized code away and recompiled it (0.2 to 0.7 s per compile on a 2-core
 * machine); values outside the engine's small-integer range are also boxed on the heap
 * until the code is optimized. Running every case once, with large and small operands,
 * in both M-mode and S-mode with Sv32, gives the compiler complete feedback from the start
 * (docs/bench.md, "Linux in Chromium"). About 7,700 instructions: 40 to 100 ms in a Chromium
 * worker, less in Node.
 *
 * The program is also a self-check: the body runs ITERATIONS times in M-mode (bare) and
 * ITERATIONS times in S-mode through an Sv32 megapage that maps it at the same addresses,
 * so the checksum it builds must come out exactly doubled (warmup.test.ts).
 */
import { Bus } from '../bus/bus';
import type { AccessWidth, MmioDevice } from '../bus/mmio';
import { assemble, type Operands } from './asm';
import { Hart } from './hart';

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 64 * 1024;
const HANDLER = RAM_BASE + 0x1800; // M-mode trap handler
const DATA = RAM_BASE + 0x4000; // the body's loads, stores and AMOs
const ROOT = RAM_BASE + 0x8000; // Sv32 root page table
const DEVICE = 0x1000_0000; // a scratch MMIO register, where the virt board has its UART
/** Times the body runs in each mode. */
export const ITERATIONS = 8;

// Registers: x1 loop count, x2 data pointer, x3 an address with nothing behind it, x4 DEVICE,
// x8..x14 operands, x7 result, x31 checksum, x30 return address, x29 trap count,
// x28 checksum after the M-mode half, x5/x6 scratch.
const OPERANDS = [
  [8, 9],
  [10, 11],
  [12, 10],
  [13, 14],
  [9, 0],
] as const;
const R_OPS = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];
const I_OPS: [string, number][] = [
  ['addi', -5],
  ['addi', 2047],
  ['slti', -1],
  ['sltiu', -1],
  ['xori', -1],
  ['ori', 0x555],
  ['andi', -16],
  ['slli', 3],
  ['srli', 31],
  ['srai', 7],
];
const AMOS = ['amoswap.w', 'amoadd.w', 'amoxor.w', 'amoand.w', 'amoor.w', 'amomin.w', 'amomax.w', 'amominu.w', 'amomaxu.w'];
const BRANCHES = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];
/** Accesses made at UNMAPPED, where neither RAM nor a device nor a page table entry is. */
const FAULTING = ['sw', 'sh', 'sb', 'lw', 'lh', 'lhu', 'lb', 'lbu'];
const UNMAPPED = 0x0000_1000;
/**
 * Traps the body takes per run: ebreak, an illegal word and the FAULTING accesses
 * (misaligned RAM accesses are done, as on QEMU, and do not trap).
 */
export const TRAPS_PER_BODY = 2 + FAULTING.length;
const SSCRATCH = 0x140,
  SEPC = 0x141,
  STVAL = 0x143,
  SATP = 0x180;
const MSTATUS = 0x300,
  MTVEC = 0x305,
  MEPC = 0x341,
  MCAUSE = 0x342;

/** A tiny assembler with forward labels, enough for the program below. */
class Program {
  readonly words: number[] = [];
  private readonly fixups: { at: number; label: string; make: (off: number) => number }[] = [];
  private readonly labels = new Map<string, number>();

  get pc(): number {
    return RAM_BASE + 4 * this.words.length;
  }
  op(name: string, o: Operands = {}): void {
    this.words.push(assemble(name, o));
  }
  word(w: number): void {
    this.words.push(w | 0);
  }
  label(name: string): void {
    this.labels.set(name, this.pc);
  }
  to(name: string, make: (off: number) => number): void {
    this.fixups.push({ at: this.words.length, label: name, make });
    this.words.push(0);
  }
  li(rd: number, value: number): void {
    const lo = (value << 20) >> 20;
    this.op('lui', { rd, imm: ((value - lo) >>> 12) & 0xfffff });
    this.op('addi', { rd, rs1: rd, imm: lo });
  }
  padTo(addr: number): void {
    while (this.pc < addr) this.op('addi'); // nop
  }
  link(): number[] {
    for (const f of this.fixups) this.words[f.at] = f.make(this.labels.get(f.label)! - (RAM_BASE + 4 * f.at));
    return this.words;
  }
}

function body(p: Program): void {
  const sum = (): void => p.op('add', { rd: 31, rs1: 31, rs2: 7 });
  for (const name of R_OPS)
    for (const [rs1, rs2] of OPERANDS) {
      p.op(name, { rd: 7, rs1, rs2 });
      sum();
    }
  for (const [name, imm] of I_OPS)
    for (const rs1 of [8, 10, 12]) {
      p.op(name, { rd: 7, rs1, imm });
      sum();
    }
  p.op('lui', { rd: 7, imm: 0x80000 });
  sum();
  p.op('auipc', { rd: 7, imm: 1 });
  sum();
  // Stores then loads of every width and signedness, each once through the TLB refill
  // (after a flush) and once through the inline hit check; then each at an address with
  // nothing behind it, which traps.
  for (const [name, rs2, imm] of [
    ['sw', 8, 0],
    ['sh', 10, 4],
    ['sb', 12, 6],
    ['sw', 11, 8],
  ] as const) {
    p.op('sfence.vma');
    p.op(name, { rs1: 2, rs2, imm });
    p.op(name, { rs1: 2, rs2, imm });
  }
  for (const [name, imm] of [
    ['lw', 0],
    ['lh', 4],
    ['lhu', 4],
    ['lb', 6],
    ['lbu', 6],
    ['lw', 8],
  ] as const) {
    p.op('sfence.vma');
    p.op(name, { rd: 7, rs1: 2, imm });
    sum();
    p.op(name, { rd: 7, rs1: 2, imm });
    sum();
  }
  for (const name of FAULTING) p.op(name, name.startsWith('s') ? { rs1: 3, rs2: 8 } : { rd: 7, rs1: 3 });
  // MMIO: each width stored (a store to a device ends the block) and loaded back.
  for (const name of ['sw', 'sh', 'sb']) p.op(name, { rs1: 4, rs2: 8 });
  for (const name of ['lw', 'lh', 'lhu', 'lb', 'lbu']) {
    p.op(name, { rd: 7, rs1: 4 });
    sum();
  }
  // Each branch taken and not taken: a taken one skips the addi.
  for (const name of BRANCHES) {
    for (const [rs1, rs2] of [
      [8, 9],
      [9, 9],
      [10, 11],
      [9, 8],
    ] as const) {
      p.op(name, { rs1, rs2, imm: 8 });
      p.op('addi', { rd: 31, rs1: 31, imm: 1 });
    }
  }
  p.op('jal', { rd: 7, imm: 8 });
  p.op('addi', { rd: 31, rs1: 31, imm: 1 });
  p.op('auipc', { rd: 6, imm: 0 });
  p.op('jalr', { rd: 7, rs1: 6, imm: 12 });
  p.op('addi', { rd: 31, rs1: 31, imm: 1 });
  // CSRs a supervisor may use, with large values (sscratch starts from 0 every time).
  p.op('csrrw', { csr: SSCRATCH });
  p.op('csrrw', { rd: 7, rs1: 8, csr: SSCRATCH });
  sum();
  p.op('csrrs', { rd: 7, rs1: 9, csr: SSCRATCH });
  sum();
  p.op('csrrc', { rd: 7, rs1: 10, csr: SSCRATCH });
  sum();
  p.op('csrrwi', { rd: 7, imm: 5, csr: SSCRATCH });
  sum();
  p.op('csrrsi', { rd: 7, imm: 18, csr: SSCRATCH });
  sum();
  p.op('csrrci', { rd: 7, imm: 1, csr: SSCRATCH });
  sum();
  p.op('csrrw', { rs1: 13, csr: SEPC });
  p.op('csrrw', { rs1: 8, csr: STVAL });
  p.op('csrrs', { rd: 7, csr: SEPC });
  sum();
  // Atomics on one word, and an LR/SC pair that succeeds and an SC that fails.
  p.op('addi', { rd: 6, rs1: 2, imm: 12 });
  p.op('sw', { rs1: 6, rs2: 9, imm: 0 });
  for (const name of AMOS) {
    p.op(name, { rd: 7, rs1: 6, rs2: 8 });
    sum();
  }
  p.op('lr.w', { rd: 7, rs1: 6 });
  sum();
  p.op('sc.w', { rd: 7, rs1: 6, rs2: 9 });
  sum();
  p.op('sc.w', { rd: 7, rs1: 6, rs2: 10 });
  sum();
  p.op('fence');
  p.op('fence.i');
  p.op('sfence.vma');
  p.op('ebreak'); // traps
  p.word(0); // illegal: traps
  p.op('jalr', { rs1: 30 });
}

/** The warm-up program, linked at RAM_BASE. */
export function warmupProgram(): number[] {
  const p = new Program();
  p.li(2, DATA);
  p.li(3, UNMAPPED);
  p.li(4, DEVICE);
  for (const [r, v] of [
    [8, 0x8000_0123],
    [9, 5],
    [10, -7],
    [11, 0x4000_0000],
    [12, 0x7fff_fff0],
    [13, 0x8000_0000],
    [14, -1],
  ] as const)
    p.li(r, v);
  p.li(5, HANDLER);
  p.op('csrrw', { rs1: 5, csr: MTVEC });
  p.li(1, ITERATIONS);
  p.label('loopM');
  p.to('body', (off) => assemble('jal', { rd: 30, imm: off }));
  p.op('addi', { rd: 1, rs1: 1, imm: -1 });
  p.to('loopM', (off) => assemble('bne', { rs1: 1, imm: off }));
  p.op('add', { rd: 28, rs1: 31 });
  // To S-mode with Sv32: 4 MiB megapages map RAM_BASE (V R W X A D) and DEVICE (V R W A D) to themselves.
  p.li(5, ROOT + 4 * (RAM_BASE >>> 22));
  p.li(6, ((RAM_BASE >>> 12) << 10) | 0xcf);
  p.op('sw', { rs1: 5, rs2: 6 });
  p.li(5, ROOT + 4 * (DEVICE >>> 22));
  p.li(6, ((DEVICE >>> 12) << 10) | 0xc7);
  p.op('sw', { rs1: 5, rs2: 6 });
  p.li(6, 0x8000_0000 | (ROOT >>> 12) | 0);
  p.op('csrrw', { rs1: 6, csr: SATP });
  p.li(6, 1 << 11);
  p.op('csrrw', { rs1: 6, csr: MSTATUS }); // MPP = S
  p.op('auipc', { rd: 6, imm: 0 }); // mepc = loopS
  p.to('loopS', (off) => assemble('addi', { rd: 6, rs1: 6, imm: off + 4 }));
  p.op('csrrw', { rs1: 6, csr: MEPC });
  p.li(1, ITERATIONS);
  p.op('mret');
  p.label('loopS');
  p.to('body', (off) => assemble('jal', { rd: 30, imm: off }));
  p.op('addi', { rd: 1, rs1: 1, imm: -1 });
  p.to('loopS', (off) => assemble('bne', { rs1: 1, imm: off }));
  p.op('ecall'); // from S: the handler ends the run
  p.label('body');
  body(p);
  p.padTo(HANDLER);
  // M-mode handler: an ECALL from S ends the program (WFI with nothing enabled); any other
  // trap is counted and skipped.
  p.op('csrrs', { rd: 5, csr: MCAUSE });
  p.op('addi', { rd: 6, imm: 9 });
  p.to('done', (off) => assemble('beq', { rs1: 5, rs2: 6, imm: off }));
  p.op('addi', { rd: 29, rs1: 29, imm: 1 });
  p.op('csrrs', { rd: 5, csr: MEPC });
  p.op('addi', { rd: 5, rs1: 5, imm: 4 });
  p.op('csrrw', { rs1: 5, csr: MEPC });
  p.op('mret');
  p.label('done');
  p.op('csrrw', { csr: SATP });
  p.op('wfi');
  return p.link();
}

/** One 32-bit register that reads back what was written, at any width. */
class ScratchRegister implements MmioDevice {
  readonly name = 'warmup';
  readonly size = 4096;
  private value = 0;
  read(offset: number, width: AccessWidth): number {
    const v = this.value >>> (8 * (offset & 3));
    return width === 4 ? v : v & ((1 << (8 * width)) - 1);
  }
  write(offset: number, width: AccessWidth, value: number): void {
    const shift = 8 * (offset & 3),
      mask = width === 4 ? -1 : ((1 << (8 * width)) - 1) << shift;
    this.value = (this.value & ~mask) | ((value << shift) & mask);
  }
}

/** Run the warm-up program on a scratch hart; returns the hart for inspection. */
export function warmUpInterpreter(): Hart {
  // Shaped like a vCPU's bus: views over a shared buffer, RAM through a P2M.
  const buffer = typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(RAM_SIZE) : new ArrayBuffer(RAM_SIZE);
  const p2m = Int32Array.from({ length: RAM_SIZE / 4096 }, (_, i) => i);
  const bus = new Bus({ ramBase: RAM_BASE, ramSize: RAM_SIZE, buffer, p2m, p2mGeneration: new Int32Array(1) });
  const h = new Hart(bus, 0);
  h.reset(RAM_BASE);
  h.pmpaddr[0] = -1;
  h.pmpcfg[0] = 0x1f; // NAPOT over everything, R W X: S-mode may use all of RAM
  bus.attach(DEVICE, new ScratchRegister());
  bus.ram.i32.set(warmupProgram(), 0);
  h.run(200_000);
  settleFieldShapes(h);
  return h;
}

/**
 * Give every number field of the hart a value outside the engine's small-integer range, then
 * its own value back. V8 keeps one field layout for all harts: a field that has only held
 * small integers (or one value) is compiled as such, and the first guest to write, say, an
 * interrupt cause (bit 31 set) to mcause changes the layout and discards every compiled
 * function that reads a hart (they were recompiled about 30 at a time during a Linux boot).
 * Doing it here settles each field on its general form before the guest runs.
 */
function settleFieldShapes(h: Hart): void {
  const fields = h as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (typeof v !== 'number') continue;
    fields[key] = 0x8000_0000 | 0;
    fields[key] = v;
  }
}
