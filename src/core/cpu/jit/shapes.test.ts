/**
 * What the translator keeps inside one translation (translate.ts) and how `on` picks code
 * (engine.ts): a forward branch over a few instructions of the trace stays inside it, a loop
 * whose head is not the entry runs as a loop of the function, and cold pages are left to the
 * interpreter. Exactness of these shapes is lockstep.test.ts's job; these check the shapes
 * happen (so a regression to "every branch leaves" shows) and count the same as the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { load, makeHart, RAM_BASE, type Insn } from '../testing';
import { setJit, type Jit } from './engine';

/** A prefix, then a loop (head after the entry) whose body has an if-then: x5 counts odd x2. */
const PROGRAM: Insn[] = [
  ['addi', { rd: 1, rs1: 0, imm: 1000 }], // prefix: x1 = 1000 passes
  ['addi', { rd: 2, rs1: 0, imm: 0 }],
  ['addi', { rd: 2, rs1: 2, imm: 1 }], // loop head (index 2)
  ['andi', { rd: 3, rs1: 2, imm: 1 }],
  ['beq', { rs1: 3, rs2: 0, imm: 8 }], // skip the next one when x2 is even
  ['addi', { rd: 5, rs1: 5, imm: 1 }],
  ['bne', { rs1: 2, rs2: 1, imm: -16 }], // back to the loop head
  ['jal', { rd: 0, imm: 0 }],
];

function run(mode: 'off' | 'always'): { x5: number; instret: number; pc: number; jit: Jit | undefined } {
  const h = makeHart(PROGRAM);
  const jit = setJit(h, mode);
  h.run(6000);
  return { x5: h.x[5]!, instret: h.instret, pc: h.pc, jit };
}

describe('translation shapes', () => {
  it('a loop behind a prefix, with an if-then inside, runs in one translation call per block', () => {
    const a = run('off');
    const b = run('always');
    expect({ x5: b.x5, instret: b.instret, pc: b.pc }).toEqual({ x5: a.x5, instret: a.instret, pc: a.pc });
    expect(a.x5).toBe(500);
    const t = b.jit!.hottest(1)[0]!;
    expect(t.off).toBeLessThan(8); // an entry before the loop's head (the first instruction is interpreted: fetch TLB refill)
    expect(t.src.code).toContain('body: for (;;)');
    expect(t.src.code).toContain('} else {');
    // Each of the two blocks of 4096 instructions enters it once or twice (budget checks), not once per pass.
    expect(t.uses).toBeLessThan(10);
  });

  it('`on` leaves a page to the interpreter until it has run `frameHot` instructions, then counts its entries', () => {
    const h = makeHart(PROGRAM);
    const jit = setJit(h, 'on', { frameHot: 3000, threshold: 2 })!;
    h.run(2000);
    expect(jit.stats.translations).toBe(0);
    expect(jit.stats.translated).toBe(0);
    h.run(3000); // the page reaches 5000 interpreted instructions
    expect(jit.stats.translations).toBe(0);
    h.run(3000);
    expect(jit.stats.translations).toBeGreaterThan(0);
    expect(jit.stats.translated).toBeGreaterThan(0);
    const a = makeHart(PROGRAM);
    a.run(8000);
    expect([h.x[5], h.instret, h.pc]).toEqual([a.x[5], a.instret, a.pc]);
  });

  it('an exit to another page from the prefix before a loop counts only the prefix (found by lockstep over Linux)', () => {
    // Page Q starts with the tail of a loop whose head is on the page before (as Linux's
    // 0x8020a000 did): [bne x5, x6 back to Q-8]; then a prefix and a loop on Q.
    const Q = RAM_BASE + 0x2000;
    const build = (mode: 'off' | 'always', budget: number): number[] => {
      const h = makeHart([['jal', { rd: 0, imm: 0x2000 - 8 }]]); // to Q-8
      load(h, Q - 8, [
        ['addi', { rd: 5, rs1: 5, imm: 1 }], // the loop on the page before
        ['addi', { rd: 7, rs1: 7, imm: 1 }],
        ['addi', { rd: 8, rs1: 8, imm: 3 }], // Q: the entry
        ['bne', { rs1: 5, rs2: 6, imm: -12 }], // back to Q-8 while x5 != x6
        ['addi', { rd: 9, rs1: 0, imm: 40 }], // prefix
        ['addi', { rd: 10, rs1: 10, imm: 1 }], // loop head
        ['bne', { rs1: 10, rs2: 9, imm: -4 }],
        ['jal', { rd: 0, imm: 0 }],
      ]);
      h.x[6] = 5;
      setJit(h, mode);
      h.run(budget);
      return [h.pc, h.instret, ...h.x];
    };
    for (let budget = 1; budget < 80; budget++) expect(build('always', budget)).toEqual(build('off', budget));
  });
});
