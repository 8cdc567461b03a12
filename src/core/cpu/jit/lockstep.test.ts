/**
 * Lockstep over random programs: the interpreter alone and the translation tier (every
 * entry translated on first execution) run the same guest; state must match after every
 * step and RAM at the end. Two kinds of program: fuzz.test.ts's hostile streams (random
 * well-formed words: mostly traps) and structured ones (ALU, loads and stores, some
 * misaligned, branches and loops, M extension, CSR reads of the counters, ecall to a
 * handler that returns, fence.i, and stores into the code itself).
 */
import { describe, expect, it } from 'vitest';
import { Bus } from '../../bus/bus';
import { assemble } from '../asm';
import { Hart } from '../hart';
import { randomStreamHart, rng } from '../testing';
import { setJit, type JitStats } from './engine';
import { lockstep, type Side } from './lockstep';

const RAM = 0x8000_0000;
const MiB = 1 << 20;
const HANDLER = RAM + 0x7_0000;
const DATA = RAM + 0x8_0000;

function side(h: Hart): Side {
  return { hart: h, run: (b) => h.run(b) };
}

/** A structured random program: code at RAM, data at DATA (x31), code base in x30. */
function structured(seed: number, buffer: ArrayBuffer): Hart {
  const bus = new Bus({ ramBase: RAM, ramSize: MiB, buffer });
  const h = new Hart(bus, 0);
  h.reset(RAM);
  h.pmpaddr[0] = -1;
  h.pmpcfg[0] = 0x1f;
  const next = rng(seed);
  const r = (n: number): number => (next() >>> 0) % n;
  const reg = (): number => 1 + r(26); // x1..x26: x27, x28 count loops, x30 and x31 stay bases
  const words: number[] = [];
  const N = 600;
  const alu = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu'];
  const alui = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi'];
  const loads = ['lb', 'lh', 'lw', 'lbu', 'lhu'];
  const stores = ['sb', 'sh', 'sw'];
  const branches = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];
  for (let i = 0; i < N; i++) {
    const k = r(100);
    if (k < 30) words.push(assemble(alu[r(alu.length)]!, { rd: reg(), rs1: reg(), rs2: reg() }));
    else if (k < 45) words.push(assemble(alui[r(alui.length)]!, { rd: reg(), rs1: reg(), imm: r(4096) - 2048 }));
    else if (k < 50) words.push(assemble(['slli', 'srli', 'srai'][r(3)]!, { rd: reg(), rs1: reg(), imm: r(32) }));
    else if (k < 53) words.push(assemble(r(2) ? 'lui' : 'auipc', { rd: reg(), imm: r(1 << 20) }));
    else if (k < 65) words.push(assemble(loads[r(loads.length)]!, { rd: reg(), rs1: 31, imm: r(2048) }));
    else if (k < 74) words.push(assemble(stores[r(stores.length)]!, { rs1: 31, rs2: reg(), imm: r(2048) }));
    else if (k < 75)
      words.push(assemble('sw', { rs1: 30, rs2: reg(), imm: 4 * r(500) })); // self-modifying
    else if (k < 84) words.push(assemble(branches[r(branches.length)]!, { rs1: reg(), rs2: reg(), imm: 4 * (1 + r(20)) }));
    else if (k < 88 && i > 0) {
      // A loop that ends: x28 counts passes, and the branch is taken three passes in four.
      const back = -4 * (2 + r(Math.min(words.length, 20)));
      words.push(
        assemble('addi', { rd: 28, rs1: 28, imm: 1 }),
        assemble('andi', { rd: 27, rs1: 28, imm: 3 }),
        assemble('bne', { rs1: 27, rs2: 0, imm: back - 4 }),
      );
    } else if (k < 90) words.push(assemble('jal', { rd: reg(), imm: 4 * (1 + r(8)) }));
    else if (k < 93) words.push(assemble('csrrs', { rd: reg(), rs1: 0, csr: [0xb00, 0xb02, 0xc00, 0xc02][r(4)]! }));
    else if (k < 95) words.push(assemble('ecall'));
    else if (k < 96) words.push(assemble('fence.i'));
    else if (k < 98) words.push(assemble('lr.w', { rd: reg(), rs1: 31 }), assemble('sc.w', { rd: reg(), rs1: 31, rs2: reg() }));
    else words.push(assemble('jalr', { rd: reg(), rs1: 30, imm: Math.min(2044, 4 * (words.length + 1 + r(16))) })); // forward, or to the early part
  }
  words.push(assemble('jal', { rd: 0, imm: -4 * words.length }));
  bus.ram.i32.set(words, 0);
  // The trap handler: skip the trapping instruction and return.
  const handler = [
    assemble('csrrs', { rd: 29, rs1: 0, csr: 0x341 }),
    assemble('addi', { rd: 29, rs1: 29, imm: 4 }),
    assemble('csrrw', { rd: 0, rs1: 29, csr: 0x341 }),
    assemble('mret'),
  ];
  bus.ram.i32.set(handler, (HANDLER - RAM) >> 2);
  h.mtvec = HANDLER;
  for (let i = 1; i < 30; i++) h.x[i] = next();
  h.x[30] = RAM;
  h.x[31] = DATA;
  for (let i = 0; i < 1024; i++) bus.ram.i32[((DATA - RAM) >> 2) + i] = next();
  return h;
}

function pair(make: (buffer: ArrayBuffer) => Hart): [Hart, Hart] {
  const a = make(new ArrayBuffer(MiB));
  const b = make(new ArrayBuffer(MiB));
  setJit(b, 'always');
  return [a, b];
}

describe('lockstep: interpreter vs translation tier', () => {
  it.each([0, 1, 2, 3])('structured random programs, group %i of 20 seeds', (group) => {
    let translated = 0,
      translations = 0;
    for (let seed = group * 100; seed < group * 100 + 20; seed++) {
      const [a, b] = pair((buf) => structured(seed, buf));
      const res = lockstep(side(a), side(b), 40_000, 997);
      expect(res.divergence, `seed ${seed}`).toBeNull();
      expect(res.executed).toBeGreaterThanOrEqual(40_000);
      const stats = (b.jit as unknown as { stats: JitStats }).stats;
      translated += stats.translated;
      translations += stats.translations;
    }
    expect(translated).toBeGreaterThan(20 * 20_000); // most of it ran translated
    expect(translations).toBeGreaterThan(20 * 25);
  });

  it.each([11, 12, 13])('hostile random words (fuzz.test.ts streams), seed %i', (seed) => {
    const a = randomStreamHart(seed, true).hart;
    const b = randomStreamHart(seed, true).hart;
    setJit(b, 'always');
    const wake = (s: Side): void => {
      s.hart.wfi = false;
    };
    const res = lockstep(side(a), side(b), 200_000, 1000, wake);
    expect(res.divergence).toBeNull();
  });

  it('finds a difference when there is one', () => {
    const [a, b] = pair((buf) => structured(1, buf));
    b.x[31] = b.x[31]! ^ 4; // the data base: every later load and store differs
    expect(lockstep(side(a), side(b), 10_000).divergence).not.toBeNull();
  });
});
