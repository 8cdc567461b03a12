/**
 * Chaining (docs/jit.md "Chaining"): a translation that leaves by a direct branch to another
 * translated entry of its page runs the next one through its exit's link, and a link never
 * outlives the code it leads to (a write to the page, a write behind the watch's back
 * followed by FENCE.I), nor the budget (run(n) stops after exactly n instructions).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../asm';
import type { Hart } from '../hart';
import { load, makeHart, RAM_BASE, setWord, type Insn } from '../testing';
import { setJit, type Jit, type JitMode } from './engine';

const P = RAM_BASE + 0x3000;
const B = P + 16;

/**
 * Two translations that leave into each other: A at P (x1 += 1, then a taken branch to B,
 * which its trace does not follow) and B at P+16 (x2 += 1, then a taken branch back to A).
 * Behind each branch, code that never runs (the trace follows the not-taken path).
 */
const AB: Insn[] = [
  ['addi', { rd: 1, rs1: 1, imm: 1 }], // A
  ['beq', { rs1: 0, rs2: 0, imm: 12 }], // to B
  ['addi', { rd: 5, rs1: 5, imm: 1 }], // never
  ['jal', { rd: 0, imm: 0 }], // never
  ['addi', { rd: 2, rs1: 2, imm: 1 }], // B
  ['beq', { rs1: 0, rs2: 0, imm: -20 }], // to A
];

function hartAB(mode: JitMode): { h: Hart; jit: Jit | undefined } {
  const h = makeHart([['jal', { rd: 0, imm: 0 }]]);
  load(h, P, AB);
  h.pc = P;
  return { h, jit: setJit(h, mode) };
}

const state = (h: Hart): number[] => [h.pc, h.x[1]!, h.x[2]!, h.x[5]!, h.instret];

describe('chaining', () => {
  it('direct branches between translations go through links, with the interpreter’s results', () => {
    const ref = hartAB('off').h;
    const { h, jit } = hartAB('always');
    ref.run(40_000);
    h.run(40_000);
    expect(state(h)).toEqual(state(ref));
    expect(h.x[1]).toBe(10_000);
    // A and B (and an entry or two where a budget's end left the interpreter a piece).
    expect(jit!.stats.translations).toBeLessThanOrEqual(4);
    // 10 000 round trips; all but the first few and one per 4096-instruction block chained.
    expect(jit!.chained).toBeGreaterThan(19_000);
  });

  it('run(n) stops after exactly n instructions across chained translations', () => {
    for (let n = 1; n <= 60; n++) {
      const ref = hartAB('off').h;
      const { h } = hartAB('always');
      ref.run(40);
      h.run(40); // translate and link
      ref.run(n);
      h.run(n);
      expect(state(h), `n = ${n}`).toEqual(state(ref));
    }
  });

  it('a link to a translation whose code was rewritten is cut (Domain-0 write)', () => {
    const { h, jit } = hartAB('always');
    h.run(4000); // 1000 round trips, ends at A
    expect(h.pc).toBe(P | 0);
    expect(jit!.chained).toBeGreaterThan(0);
    // B now adds 100. A's words are unchanged, so A survives its recheck and leaves through
    // its link to B: that link must not run the old B.
    const off = B - RAM_BASE;
    h.bus.ram.i32[off >> 2] = assemble('addi', { rd: 2, rs1: 2, imm: 100 });
    jit!.watch.noteRange(off, 4);
    h.run(4000);
    expect([h.x[1], h.x[2]]).toEqual([2000, 1000 + 1000 * 100]);
    expect(jit!.stats.invalidations).toBe(1);
  });

  it("a link is cut when the guest's own store rewrites the target, mid-loop", () => {
    // A also stores x6 into B's first word on every pass: after the first pass B adds 7.
    const prog: Insn[] = [
      ['addi', { rd: 1, rs1: 1, imm: 1 }], // A
      ['sw', { rs1: 7, rs2: 6 }],
      ['beq', { rs1: 0, rs2: 0, imm: 8 }], // to B
      ['jal', { rd: 0, imm: 0 }], // never
      ['addi', { rd: 2, rs1: 2, imm: 1 }], // B, rewritten to x2 += 7
      ['beq', { rs1: 0, rs2: 0, imm: -20 }], // to A
    ];
    const results = (['off', 'always'] as const).map((mode) => {
      const h = makeHart([['jal', { rd: 0, imm: 0 }]]);
      load(h, P, prog);
      h.pc = P;
      h.x[6] = assemble('addi', { rd: 2, rs1: 2, imm: 7 });
      h.x[7] = B;
      setJit(h, mode);
      h.run(5 * 500);
      return state(h);
    });
    expect(results[1]).toEqual(results[0]);
    expect(results[0]![2]).toBe(500 * 7);
  });

  it('a link is cut by FENCE.I after a write the watch could not see', () => {
    const { h, jit } = hartAB('always');
    load(h, RAM_BASE + 0x100, [['fence.i'], ['jal', { rd: 0, imm: P - (RAM_BASE + 0x104) }]]);
    h.run(4000);
    expect(h.pc).toBe(P | 0);
    setWord(h, B, assemble('addi', { rd: 2, rs1: 2, imm: 100 })); // behind the watch's back
    h.pc = RAM_BASE + 0x100;
    h.run(2 + 4000);
    expect([h.x[1], h.x[2]]).toEqual([2000, 1000 + 1000 * 100]);
    expect(jit!.stats.invalidations).toBe(1);
  });
});
