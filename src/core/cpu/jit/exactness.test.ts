/**
 * The translation tier's exactness items, one test each (docs/jit.md): self-modifying code,
 * cross-modifying code from another vCPU and from a Domain-0 writer, FENCE.I, one physical
 * page at two virtual addresses, budgets, precise traps, interrupts, PMP, the bounded cache.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../asm';
import { Hart } from '../hart';
import * as S from '../status';
import { load, makeHart, RAM_BASE, setWord, type Insn } from '../testing';
import { PRV_S } from '../trap';
import { WriteWatch } from '../writeWatch';
import { Jit, setJit } from './engine';

const P = RAM_BASE + 0x3000; // a code page
const HANDLER = RAM_BASE + 0x8000;

/** A hart on the test program, with a trap handler that spins (so mcause stays the first trap's). */
function hart(program: Insn[] = []): Hart {
  const h = makeHart(program);
  load(h, HANDLER, [['jal', { rd: 0, imm: 0 }]]);
  return h;
}

function jitOf(h: Hart): Jit {
  return h.jit as Jit;
}

/** At P: x1 += 1 forever (a loop the tier translates into one function). */
function loopAtP(h: Hart, step = 1): void {
  load(h, P, [
    ['addi', { rd: 1, rs1: 1, imm: step }],
    ['jal', { rd: 0, imm: -4 }],
  ]);
}

describe('self- and cross-modifying code', () => {
  it('a store by the same hart into a translated page takes effect before the next instruction from it', () => {
    // Loop 10 times over [addi x1, +1; addi x2, +1; blt x2, x3], then patch the first
    // instruction to +100 and run the loop again.
    const prog: Insn[] = [
      ['addi', { rd: 1, rs1: 1, imm: 1 }],
      ['addi', { rd: 2, rs1: 2, imm: 1 }],
      ['blt', { rs1: 2, rs2: 3, imm: -8 }],
      ['sw', { rs1: 6, rs2: 5 }],
      ['addi', { rd: 2, rs1: 0, imm: 0 }],
      ['addi', { rd: 4, rs1: 4, imm: 1 }],
      ['blt', { rs1: 4, rs2: 7, imm: -24 }],
      ['jal', { rd: 0, imm: 0 }],
    ];
    const results = (['off', 'always'] as const).map((mode) => {
      const h = hart(prog);
      h.x[3] = 10;
      h.x[5] = assemble('addi', { rd: 1, rs1: 1, imm: 100 });
      h.x[6] = RAM_BASE;
      h.x[7] = 2;
      const jit = setJit(h, mode);
      h.run(200);
      return { x1: h.x[1], instret: h.instret, invalidations: jit?.stats.invalidations };
    });
    expect(results[0]!.x1).toBe(10 + 10 * 100);
    expect(results[1]).toEqual({ ...results[0], invalidations: 1 });
  });

  it("another vCPU's store into a page that became code is noticed, even through a write TLB entry it filled before", () => {
    const a = hart();
    const b = new Hart(a.bus, 1);
    b.reset(RAM_BASE);
    b.pmpaddr[0] = -1;
    b.pmpcfg[0] = 0x1f;
    const watch = new WriteWatch(a.bus.ram.u8.length >>> 12);
    setJit(a, 'always', { writeWatch: watch });
    setJit(b, 'on', { writeWatch: watch });
    loopAtP(a);
    a.pc = P;
    // B: one store into P (at P+0x100, a data word beside the code) fills its write TLB.
    load(b, RAM_BASE, [['sw', { rs1: 6, rs2: 5 }]]);
    b.x[6] = P + 0x100;
    b.run(1);
    expect(b.tlbWTag[(P >>> 12) & 255]).toBe(P & ~0xfff);
    a.run(101); // translates the loop (entered at P+4, after one interpreted addi): P is now watched
    expect([a.x[1], a.pc]).toEqual([51, (P + 4) | 0]);
    // B patches the loop's addi to +7. Its next run drops the stale fast entry first.
    b.pc = RAM_BASE;
    b.x[6] = P;
    b.x[5] = assemble('addi', { rd: 1, rs1: 1, imm: 7 });
    b.run(1);
    expect(b.tlbWTag[(P >>> 12) & 255]).toBe(-1);
    a.run(100);
    expect(a.x[1]).toBe(51 + 50 * 7);
    expect(jitOf(a).stats.invalidations).toBe(1);
  });

  it('a Domain-0 writer (a backend filling guest memory) invalidates through WriteWatch.noteRange', () => {
    const h = hart();
    const jit = setJit(h, 'always')!;
    loopAtP(h);
    h.pc = P;
    h.run(101);
    const off = P - RAM_BASE;
    h.bus.ram.i32[off >> 2] = assemble('addi', { rd: 1, rs1: 1, imm: 3 });
    jit.watch.noteRange(off, 4);
    h.run(100);
    expect(h.x[1]).toBe(51 + 50 * 3);
    expect(jit.stats.invalidations).toBe(1);
  });

  it('FENCE.I makes every translation recheck its code (a write the watch could not see)', () => {
    const h = hart();
    setJit(h, 'always');
    loopAtP(h);
    load(h, RAM_BASE + 0x100, [['fence.i'], ['jal', { rd: 0, imm: P + 4 - (RAM_BASE + 0x104) }]]); // back into the translation
    h.pc = P;
    h.run(101); // ends at P+4, where the translation starts
    setWord(h, P, assemble('addi', { rd: 1, rs1: 1, imm: 5 })); // behind the watch's back
    h.run(100);
    expect(h.x[1]).toBe(101); // stale: no FENCE.I yet (what the ISA allows for such a write)
    h.pc = RAM_BASE + 0x100;
    h.run(2 + 100);
    expect(h.x[1]).toBe(101 + 50 * 5);
    expect(jitOf(h).stats.invalidations).toBe(1);
  });
});

describe('addresses, budgets, traps', () => {
  /** S-mode with VA 0x00400000 and 0x00800000 both mapped to the page at P (one L2 table). */
  function twoMappings(program: Insn[]): Hart {
    const h = hart();
    const root = RAM_BASE + 0x1_0000,
      l2 = RAM_BASE + 0x1_1000;
    setWord(h, root + 4 * 1, ((l2 / 4096) << 10) | 1);
    setWord(h, root + 4 * 2, ((l2 / 4096) << 10) | 1);
    setWord(h, l2, ((P / 4096) << 10) | 0xcf); // V R W X A D
    setWord(h, l2 + 4, (((P + 0x1000) / 4096) << 10) | 0xc7); // a data page: V R W A D
    h.satp = S.SATP_MODE_SV32 | (root / 4096);
    h.priv = PRV_S;
    h.mtvec = HANDLER;
    load(h, P, program);
    return h;
  }

  it('one physical page at two virtual addresses: one translation, the right pc-relative values at each', () => {
    const h = twoMappings([
      ['auipc', { rd: 10 }],
      ['addi', { rd: 11, rs1: 11, imm: 1 }],
      ['jalr', { rd: 0, rs1: 12 }],
    ]);
    const jit = setJit(h, 'always')!;
    h.pc = 0x40_0000;
    h.x[12] = 0x40_0000;
    h.run(6); // the first fetch fills the TLB in the interpreter; then the loop runs translated
    expect(h.x[10]).toBe(0x40_0000);
    const made = jit.stats.translations;
    const before = jit.stats.translated;
    h.pc = 0x80_0000;
    h.x[12] = 0x80_0000;
    h.x[10] = 0;
    h.run(6);
    expect(h.x[10]).toBe(0x80_0000);
    expect(h.pc).toBe(0x80_0000);
    expect(jit.stats.translations).toBe(made); // the same translations, found by physical address
    expect(jit.stats.translated - before).toBeGreaterThanOrEqual(3);
  });

  it('a fault inside a translation is precise: mepc, mtval, mcause, and only the instructions before it retire', () => {
    const prog: Insn[] = [
      ['addi', { rd: 1, rs1: 1, imm: 1 }],
      ['lw', { rd: 2, rs1: 3, imm: 8 }],
      ['addi', { rd: 4, rs1: 4, imm: 1 }],
      ['jal', { rd: 0, imm: -12 }],
    ];
    const runs = (['off', 'always'] as const).map((mode) => {
      const h = twoMappings(prog);
      setJit(h, mode);
      h.pc = 0x40_0000;
      h.x[3] = 0x40_1000; // the data page, mapped
      h.run(4 * 5); // five passes
      h.x[3] = 0x40_3000; // unmapped: the next pass faults at the lw
      h.run(2);
      return { mcause: h.mcause, mepc: h.mepc, mtval: h.mtval, x1: h.x[1], x4: h.x[4], instret: h.instret, pc: h.pc };
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[1]).toMatchObject({ mcause: 13, mepc: 0x40_0004, mtval: 0x40_3008, x1: 6, x4: 5, instret: 21, pc: HANDLER | 0 });
  });

  it('run(n) stops after exactly n instructions, wherever n falls in a translation', () => {
    for (let n = 1; n <= 40; n++) {
      const states = (['off', 'always'] as const).map((mode) => {
        const h = hart([
          ['addi', { rd: 1, rs1: 1, imm: 1 }],
          ['addi', { rd: 2, rs1: 2, imm: 3 }],
          ['add', { rd: 3, rs1: 1, rs2: 2 }],
          ['jal', { rd: 0, imm: -12 }],
        ]);
        setJit(h, mode);
        h.run(n);
        return [h.pc, h.x[1], h.x[2], h.x[3], h.instret];
      });
      expect(states[1], `n = ${n}`).toEqual(states[0]);
    }
  });

  it('a device reading time from instret (icount) sees the same count as under the interpreter', () => {
    // A loop of stores and a load from a device that answers with h.retired(): the load
    // leaves the translation for the interpreter, which must see instret as at the block's start.
    const prog: Insn[] = [
      ['addi', { rd: 1, rs1: 1, imm: 1 }],
      ['sw', { rs1: 2, rs2: 1 }],
      ['lw', { rd: 3, rs1: 4 }],
      ['add', { rd: 5, rs1: 5, rs2: 3 }],
      ['jal', { rd: 0, imm: -16 }],
    ];
    const sums = (['off', 'always'] as const).map((mode) => {
      const h = hart(prog);
      h.bus.attach(0x1000_0000, { name: 'clock', size: 8, read: () => h.retired(), write: () => {} });
      h.x[2] = RAM_BASE + 0x5000;
      h.x[4] = 0x1000_0000;
      setJit(h, mode);
      for (let i = 0; i < 20; i++) h.run(777);
      return [h.x[5], h.instret];
    });
    expect(sums[1]).toEqual(sums[0]);
  });

  it('an interrupt is taken at the next block boundary while a translated loop spins', () => {
    const h = hart([['jal', { rd: 0, imm: 0 }]]);
    setJit(h, 'always');
    h.mtvec = HANDLER;
    h.mie = 1 << 7;
    h.mstatus |= S.MIE;
    h.run(100_000);
    expect(h.pc).toBe(RAM_BASE | 0);
    h.setInterruptLevel(7, true);
    h.run(1);
    expect([h.mcause >>> 0, h.mepc >>> 0, h.pc >>> 0]).toEqual([0x8000_0007, RAM_BASE, HANDLER]);
  });

  it('PMP: a translated load from a word PMP denies faults as in the interpreter', () => {
    const runs = (['off', 'always'] as const).map((mode) => {
      const h = hart([
        ['lw', { rd: 1, rs1: 2 }],
        ['addi', { rd: 2, rs1: 2, imm: 4 }],
        ['jal', { rd: 0, imm: -8 }],
      ]);
      // Entry 0: TOR up to DATA+0x20 allows RWX; entry 1: NAPOT everything, no permission.
      h.pmpaddr[0] = (RAM_BASE + 0x5020) >>> 2;
      h.pmpcfg[0] = 0x0f;
      h.pmpaddr[1] = -1;
      h.pmpcfg[1] = 0x18;
      h.priv = PRV_S;
      h.mtvec = HANDLER;
      h.x[2] = RAM_BASE + 0x5000;
      setJit(h, mode);
      h.run(100);
      return { mcause: h.mcause, mepc: h.mepc, mtval: h.mtval, x2: h.x[2], instret: h.instret };
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[1]).toMatchObject({ mcause: 5, mtval: (RAM_BASE + 0x5020) | 0 });
  });
});

describe('the cache', () => {
  it('stays within its bound, evicting the less used, and reports its size', () => {
    // 64 small loops in a row, each run 20 times: 64 translations wanted, 16 allowed.
    const prog: Insn[] = [];
    for (let i = 0; i < 64; i++) prog.push(['addi', { rd: 2, rs1: 2, imm: 1 }], ['andi', { rd: 3, rs1: 2, imm: 31 }], ['bne', { rs1: 3, rs2: 0, imm: -8 }]);
    prog.push(['jal', { rd: 0, imm: 0 }]);
    const a = hart(prog);
    const b = hart(prog);
    const jit = setJit(b, 'always', { maxTranslations: 16 })!;
    a.run(10_000);
    b.run(10_000);
    expect([b.pc, b.x[2], b.instret]).toEqual([a.pc, a.x[2], a.instret]);
    expect(jit.stats.cached).toBeLessThanOrEqual(16);
    expect(jit.stats.evictions).toBeGreaterThan(0);
    expect(jit.stats.codeBytes).toBeGreaterThan(0);
    expect(jit.hottest(3).length).toBe(3);
  });
});
