/** Helpers for hart unit tests: a hart on 1 MiB of RAM at 0x80000000 running a program. */
import { Bus } from '../bus/bus';
import { ENCODINGS } from './encodings';
import { assemble, type Operands } from './asm';
import { Hart } from './hart';

export const RAM_BASE = 0x8000_0000;

export type Insn = [name: string, operands?: Operands] | number;

export function makeHart(program: readonly Insn[] = [], ramSize = 1 << 20): Hart {
  const bus = new Bus({ ramBase: RAM_BASE, ramSize });
  const h = new Hart(bus, 0);
  h.reset(RAM_BASE);
  openPmp(h);
  load(h, RAM_BASE, program);
  return h;
}

/** What firmware does before leaving M-mode: one NAPOT PMP entry granting RWX everywhere. */
export function openPmp(h: Hart): void {
  h.pmpaddr[0] = -1;
  h.pmpcfg[0] = 0x1f; // A = NAPOT, X W R
}

export function load(h: Hart, addr: number, program: readonly Insn[]): void {
  program.forEach((insn, i) => {
    h.bus.ram.i32[(addr - RAM_BASE) / 4 + i] = typeof insn === 'number' ? insn : assemble(insn[0], insn[1]);
  });
}

export function word(h: Hart, addr: number): number {
  return h.bus.ram.i32[(addr - RAM_BASE) >>> 2]!;
}

export function setWord(h: Hart, addr: number, v: number): void {
  h.bus.ram.i32[(addr - RAM_BASE) >>> 2] = v;
}

/** `li rd, value` as lui+addi. */
export function li(rd: number, value: number): Insn[] {
  const lo = (value << 20) >> 20;
  const hi = ((value - lo) >>> 12) & 0xfffff;
  return [
    ['lui', { rd, imm: hi }],
    ['addi', { rd, rs1: rd, imm: lo }],
  ];
}

/** A seeded xorshift32 generator of int32 values. */
export function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s | 0;
  };
}

/**
 * A hart on 1 MiB of RAM filled with random words (`wellFormed`: random rows of the encoding
 * table with random fields), in the middle of a 3 MiB shared buffer whose outer MiBs are
 * filled with `canary`, registers half pointing into RAM (fuzz.test.ts, jit/lockstep.test.ts).
 */
export function randomStreamHart(seed: number, wellFormed: boolean, canary = 0x5a): { hart: Hart; buffer: Uint8Array } {
  const MiB = 1 << 20;
  const buffer = new SharedArrayBuffer(3 * MiB);
  const bytes = new Uint8Array(buffer);
  bytes.fill(canary);
  const bus = new Bus({ ramBase: RAM_BASE, ramSize: MiB, buffer, bufferOffset: MiB });
  const next = rng(seed);
  const ram = bus.ram.i32;
  for (let i = 0; i < ram.length; i++) {
    const e = ENCODINGS[(next() >>> 0) % ENCODINGS.length]!;
    ram[i] = wellFormed ? e.match | (next() & ~e.mask) : next();
  }
  const hart = new Hart(bus, 0);
  hart.reset(RAM_BASE);
  for (let r = 1; r < 32; r++) hart.x[r] = r & 1 ? RAM_BASE + ((next() >>> 0) % MiB) : next();
  hart.mtvec = RAM_BASE + (((next() >>> 0) % MiB) & ~3);
  return { hart, buffer: bytes };
}
