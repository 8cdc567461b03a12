import { describe, expect, it } from 'vitest';
import type { InterruptTarget } from '../bus/mmio';
import { Plic, PLIC_CONTEXT_BASE, PLIC_CONTEXT_STRIDE, PLIC_ENABLE_BASE, PLIC_ENABLE_STRIDE, PLIC_PENDING_BASE, plicSharedBytes } from './plic';

class FakeHart implements InterruptTarget {
  mip = 0;
  calls = 0;
  setInterruptLevel(bit: number, level: boolean): void {
    this.calls++;
    this.mip = level ? this.mip | (1 << bit) : this.mip & ~(1 << bit);
  }
}

const MEIP = 1 << 11;
const SEIP = 1 << 9;

function setup(harts = 1) {
  const hs = Array.from({ length: harts }, () => new FakeHart());
  const plic = new Plic({ harts: hs });
  const rd = (off: number) => plic.read(off, 4);
  const wr = (off: number, v: number) => plic.write(off, 4, v);
  const prio = (src: number, p: number) => wr(4 * src, p);
  const enable = (ctx: number, src: number) => {
    const off = PLIC_ENABLE_BASE + ctx * PLIC_ENABLE_STRIDE + 4 * (src >> 5);
    wr(off, rd(off) | (1 << (src & 31)));
  };
  const ctxReg = (ctx: number, reg: 0 | 4) => PLIC_CONTEXT_BASE + ctx * PLIC_CONTEXT_STRIDE + reg;
  const claim = (ctx: number) => rd(ctxReg(ctx, 4));
  const complete = (ctx: number, src: number) => wr(ctxReg(ctx, 4), src);
  const threshold = (ctx: number, t: number) => wr(ctxReg(ctx, 0), t);
  return { plic, hs, hart: hs[0]!, rd, wr, prio, enable, claim, complete, threshold, ctxReg };
}

describe('Plic registers', () => {
  it('makes priorities WARL over 3 bits and hardwires source 0', () => {
    const { rd, prio } = setup();
    prio(5, 0xff);
    expect(rd(4 * 5)).toBe(7);
    prio(5, 9);
    expect(rd(4 * 5)).toBe(1);
    prio(0, 3);
    expect(rd(0)).toBe(0);
    expect(rd(4 * 96)).toBe(0);
  });

  it('keeps pending read-only and masks enable bits of nonexistent sources', () => {
    const { plic, rd, wr } = setup();
    plic.irqLine(33).set(true);
    expect(rd(PLIC_PENDING_BASE + 4)).toBe(2);
    wr(PLIC_PENDING_BASE + 4, 0);
    expect(rd(PLIC_PENDING_BASE + 4)).toBe(2);
    wr(PLIC_ENABLE_BASE, 0xffff_ffff);
    expect(rd(PLIC_ENABLE_BASE)).toBe(0xffff_fffe);
    wr(PLIC_ENABLE_BASE + 8, 0xffff_ffff);
    expect(rd(PLIC_ENABLE_BASE + 8)).toBe(0xffff_ffff); // sources 64..95 all exist
    wr(PLIC_ENABLE_BASE + 12, 0xffff_ffff);
    expect(rd(PLIC_ENABLE_BASE + 12)).toBe(0);
  });

  it('ignores narrow and misaligned accesses and contexts past the last hart', () => {
    const { plic, rd, prio, ctxReg } = setup();
    prio(3, 5);
    expect(plic.read(12, 1)).toBe(0);
    expect(plic.read(13, 4)).toBe(0);
    plic.write(12, 2, 1);
    expect(rd(12)).toBe(5);
    plic.write(ctxReg(2, 0), 4, 3);
    expect(rd(ctxReg(2, 0))).toBe(0);
  });

  it('rejects out-of-range source lines', () => {
    const { plic } = setup();
    expect(() => plic.irqLine(0)).toThrow(RangeError);
    expect(() => plic.irqLine(96)).toThrow(RangeError);
    expect(() => plic.irqLine(95)).not.toThrow();
  });
});

describe('Plic claim/complete', () => {
  it('claims the highest priority, ties to the lowest id, above threshold', () => {
    const { plic, prio, enable, claim, complete, threshold, hart } = setup();
    for (const s of [3, 7, 10]) {
      enable(0, s);
      plic.irqLine(s).set(true);
    }
    prio(3, 2);
    prio(7, 5);
    prio(10, 5);
    expect(hart.mip & MEIP).toBe(MEIP);
    threshold(0, 5);
    expect(hart.mip & MEIP).toBe(0);
    expect(claim(0)).toBe(0);
    threshold(0, 1);
    expect(claim(0)).toBe(7);
    expect(claim(0)).toBe(10);
    expect(claim(0)).toBe(3);
    expect(claim(0)).toBe(0);
    expect(hart.mip & MEIP).toBe(0);
    complete(0, 3);
    expect(hart.mip & MEIP).toBe(MEIP); // line 3 is still high
  });

  it('does not re-pend a claimed source until it is completed', () => {
    const { plic, rd, prio, enable, claim, complete, hart } = setup();
    const line = plic.irqLine(10);
    prio(10, 1);
    enable(0, 10);
    line.set(true);
    expect(claim(0)).toBe(10);
    expect(rd(PLIC_PENDING_BASE)).toBe(0);
    line.set(false);
    line.set(true);
    expect(rd(PLIC_PENDING_BASE)).toBe(0);
    expect(hart.mip & MEIP).toBe(0);
    complete(0, 10);
    expect(rd(PLIC_PENDING_BASE)).toBe(1 << 10);
    expect(hart.mip & MEIP).toBe(MEIP);
    expect(claim(0)).toBe(10);
    line.set(false);
    complete(0, 10);
    expect(rd(PLIC_PENDING_BASE)).toBe(0);
    expect(hart.mip & MEIP).toBe(0);
  });

  it('drops a pending source whose line falls before the claim (QEMU level semantics)', () => {
    const { plic, prio, enable, claim, hart } = setup();
    prio(1, 1);
    enable(0, 1);
    plic.irqLine(1).set(true);
    expect(hart.mip & MEIP).toBe(MEIP);
    plic.irqLine(1).set(false);
    expect(hart.mip & MEIP).toBe(0);
    expect(claim(0)).toBe(0);
  });

  it('routes context 2h to MEIP and 2h+1 to SEIP of hart h', () => {
    const { plic, hs, prio, enable, claim } = setup(2);
    prio(5, 1);
    enable(3, 5);
    plic.irqLine(5).set(true);
    expect(hs[0]!.mip).toBe(0);
    expect(hs[1]!.mip).toBe(SEIP);
    enable(2, 5);
    expect(hs[1]!.mip).toBe(SEIP | MEIP);
    expect(claim(2)).toBe(5);
    expect(hs[1]!.mip).toBe(0); // claimed for everybody
    expect(claim(3)).toBe(0);
  });

  it('signals only level changes to the hart', () => {
    const { plic, hart, prio, enable } = setup();
    prio(2, 1);
    enable(0, 2);
    const before = hart.calls;
    plic.irqLine(2).set(true);
    plic.irqLine(2).set(true);
    expect(hart.calls - before).toBe(1);
  });
});

describe('Plic save/restore', () => {
  it('round-trips and re-drives outputs', () => {
    const a = setup();
    a.prio(4, 3);
    a.enable(0, 4);
    a.plic.irqLine(4).set(true);
    const state = JSON.parse(JSON.stringify(a.plic.saveState()));
    const b = setup();
    b.plic.restore(state);
    expect(b.hart.mip).toBe(MEIP);
    expect(b.claim(0)).toBe(4);
    a.plic.reset();
    expect(a.hart.mip).toBe(0);
    expect(a.rd(PLIC_PENDING_BASE)).toBe(1 << 4); // line still high
  });
});

describe('Plic shared between workers (SMP domains)', () => {
  /** Two Plic views over one register file, as two vCPU workers hold them. */
  function pair() {
    const shared = new SharedArrayBuffer(plicSharedBytes(2));
    const h0 = new FakeHart(),
      h1 = new FakeHart();
    const p0 = new Plic({ harts: [h0, null], shared });
    const p1 = new Plic({ harts: [null, h1], shared });
    const ctxReg = (ctx: number, reg: 0 | 4) => PLIC_CONTEXT_BASE + ctx * PLIC_CONTEXT_STRIDE + reg;
    return { p0, p1, h0, h1, ctxReg };
  }

  it('sees registers written by the other worker, and a line raised anywhere reaches the right hart', () => {
    const { p0, p1, h0, h1 } = pair();
    p0.write(4 * 10, 4, 1); // priority of source 10, written by hart 0
    p0.write(PLIC_ENABLE_BASE + 3 * PLIC_ENABLE_STRIDE, 4, 1 << 10); // enabled for hart 1, S-mode
    expect(p1.read(4 * 10, 4)).toBe(1);
    p0.setLine(10, true);
    p1.setLine(10, true);
    p1.poll();
    expect(h1.mip & SEIP).toBe(SEIP);
    expect(h0.mip & SEIP).toBe(0);
  });

  it('never lets two harts claim the same source', () => {
    const { p0, p1, h0, h1, ctxReg } = pair();
    for (const p of [p0, p1]) p.setLine(10, true);
    p0.write(4 * 10, 4, 1);
    p0.write(PLIC_ENABLE_BASE + 1 * PLIC_ENABLE_STRIDE, 4, 1 << 10);
    p0.write(PLIC_ENABLE_BASE + 3 * PLIC_ENABLE_STRIDE, 4, 1 << 10);
    p1.poll();
    expect(h0.mip & SEIP).toBe(SEIP);
    expect(h1.mip & SEIP).toBe(SEIP);
    expect(p1.read(ctxReg(3, 4), 4)).toBe(10);
    expect(p0.read(ctxReg(1, 4), 4)).toBe(0); // in service on hart 1
    expect(h0.mip & SEIP).toBe(0);
    // Hart 1 completes while the line is still high: pending again, for both.
    p1.write(ctxReg(3, 4), 4, 10);
    p0.poll();
    expect(h0.mip & SEIP).toBe(SEIP);
    expect(p0.read(ctxReg(1, 4), 4)).toBe(10);
    p1.poll();
    expect(h1.mip & SEIP).toBe(0);
  });

  it('refuses shared state that is too small', () => {
    expect(() => new Plic({ harts: [null, null], shared: new SharedArrayBuffer(16) })).toThrow(/needs \d+ bytes/);
  });
});
