import { describe, expect, it } from 'vitest';
import type { Clock, InterruptTarget } from '../bus/mmio';
import { Clint, CLINT_MTIME, CLINT_MTIMECMP_BASE } from './clint';

class FakeHart implements InterruptTarget {
  mip = 0;
  setInterruptLevel(bit: number, level: boolean): void {
    this.mip = level ? this.mip | (1 << bit) : this.mip & ~(1 << bit);
  }
}

const MSIP = 1 << 3;
const MTIP = 1 << 7;

class ManualClock implements Clock {
  readonly frequency = 10_000_000;
  t = 0;
  now(): number {
    return this.t;
  }
}

function setup(harts = 2, start = 0) {
  const clock = new ManualClock();
  clock.t = start;
  const hs = Array.from({ length: harts }, () => new FakeHart());
  const clint = new Clint({ harts: hs, clock });
  const rd = (off: number) => clint.read(off, 4);
  const wr = (off: number, v: number) => clint.write(off, 4, v);
  const setCmp = (h: number, value: bigint) => {
    wr(CLINT_MTIMECMP_BASE + 8 * h + 4, 0xffff_ffff); // avoid a spurious match, as guests do
    wr(CLINT_MTIMECMP_BASE + 8 * h, Number(value & 0xffff_ffffn));
    wr(CLINT_MTIMECMP_BASE + 8 * h + 4, Number(value >> 32n));
  };
  return { clint, clock, hs, rd, wr, setCmp };
}

describe('Clint msip', () => {
  it('drives MSIP from bit 0 only', () => {
    const { hs, rd, wr } = setup();
    wr(4, 0xffff_fffe);
    expect(rd(4)).toBe(0);
    expect(hs[1]!.mip & MSIP).toBe(0);
    wr(4, 3);
    expect(rd(4)).toBe(1);
    expect(hs[1]!.mip & MSIP).toBe(MSIP);
    expect(hs[0]!.mip & MSIP).toBe(0);
    wr(4, 0);
    expect(hs[1]!.mip & MSIP).toBe(0);
    wr(8, 1); // no hart 2
    expect(rd(8)).toBe(0);
  });
});

describe('Clint mtime', () => {
  it('starts at 0 and follows the clock', () => {
    const { clint, clock, rd } = setup(1, 12345);
    expect(rd(CLINT_MTIME)).toBe(0);
    clock.t += 1000;
    expect(rd(CLINT_MTIME)).toBe(1000);
    expect(clint.mtime()).toBe(1000);
  });

  it('reads in 32-bit halves across the carry', () => {
    const { clock, rd } = setup(1);
    clock.t = 0x1_0000_0005;
    expect(rd(CLINT_MTIME)).toBe(5);
    expect(rd(CLINT_MTIME + 4)).toBe(1);
  });

  it('keeps an offset when written, half by half as QEMU', () => {
    const { clint, clock, rd, wr } = setup(1);
    clock.t = 500;
    wr(CLINT_MTIME + 4, 0xffff_ffff);
    expect(rd(CLINT_MTIME + 4)).toBe(0xffff_ffff);
    expect(rd(CLINT_MTIME)).toBe(500);
    wr(CLINT_MTIME, 0xffff_fff0);
    clock.t += 0x20;
    // wraps modulo 2^64
    expect(rd(CLINT_MTIME)).toBe(0x10);
    expect(rd(CLINT_MTIME + 4)).toBe(0);
    wr(CLINT_MTIME, 7);
    expect(clint.mtimeLo()).toBe(7);
    expect(clint.mtimeHi()).toBe(0);
  });

  it('ignores narrow accesses', () => {
    const { clint, clock } = setup(1);
    clock.t = 0x1234;
    expect(clint.read(CLINT_MTIME, 2)).toBe(0);
    clint.write(CLINT_MTIME, 1, 0);
    expect(clint.read(CLINT_MTIME, 4)).toBe(0x1234);
  });
});

describe('Clint timer', () => {
  it('has MTIP pending from reset because mtimecmp resets to 0', () => {
    const { clint, hs, rd } = setup();
    expect(rd(CLINT_MTIMECMP_BASE)).toBe(0);
    expect(rd(CLINT_MTIMECMP_BASE + 4)).toBe(0);
    clint.update();
    expect(hs[0]!.mip & MTIP).toBe(MTIP);
    expect(hs[1]!.mip & MTIP).toBe(MTIP);
  });

  it('updates MTIP on mtimecmp writes and on update()', () => {
    const { clint, clock, hs, setCmp } = setup();
    clint.update();
    setCmp(0, 1000n);
    expect(hs[0]!.mip & MTIP).toBe(0);
    expect(hs[1]!.mip & MTIP).toBe(MTIP);
    clock.t = 999;
    clint.update();
    expect(hs[0]!.mip & MTIP).toBe(0);
    clock.t = 1000;
    clint.update();
    expect(hs[0]!.mip & MTIP).toBe(MTIP);
    setCmp(0, 5000n);
    expect(hs[0]!.mip & MTIP).toBe(0);
  });

  it('compares all 64 bits', () => {
    const { clint, clock, hs, setCmp } = setup(1);
    setCmp(0, 0x1_0000_0000n);
    clock.t = 0xffff_ffff;
    clint.update();
    expect(hs[0]!.mip & MTIP).toBe(0);
    clock.t = 0x1_0000_0000;
    clint.update();
    expect(hs[0]!.mip & MTIP).toBe(MTIP);
  });

  it('re-evaluates timers when mtime is written', () => {
    const { hs, wr, setCmp } = setup(1);
    setCmp(0, 100n);
    expect(hs[0]!.mip & MTIP).toBe(0);
    wr(CLINT_MTIME, 200);
    expect(hs[0]!.mip & MTIP).toBe(MTIP);
    wr(CLINT_MTIME, 0);
    expect(hs[0]!.mip & MTIP).toBe(0);
  });

  it('reports the next deadline in clock ticks', () => {
    const { clint, clock, wr, setCmp } = setup(2, 1_000_000);
    setCmp(0, 300n);
    setCmp(1, 0xffff_ffff_ffff_ffffn);
    expect(clint.nextDeadline(0)).toBe(1_000_300);
    expect(clint.nextDeadline(1)).toBe(Infinity);
    expect(clint.nextDeadline()).toBe(1_000_300);
    wr(CLINT_MTIME, 100); // mtime jumps ahead: deadline moves closer
    expect(clint.nextDeadline(0)).toBe(1_000_200);
    clock.t = 1_000_250;
    expect(clint.nextDeadline(0)).toBe(1_000_200); // already passed
    expect(clint.nextDeadline(5)).toBe(Infinity);
    expect(new Clint({ harts: [], clock }).nextDeadline()).toBe(Infinity);
  });
});

describe('Clint supervisor (SBI) timer', () => {
  const STIP = 1 << 5;

  it('leaves STIP alone until set, then drives it by an exact 64-bit comparison with mtime', () => {
    const { clint, clock, hs, wr } = setup(2);
    hs[0]!.mip = STIP; // e.g. written by software: not the CLINT's until the timer is set
    clint.update();
    expect(hs[0]!.mip & STIP).toBe(STIP);
    wr(CLINT_MTIME + 4, 0x7fff_ffff); // mtime = 0x7fffffff_00000000, far past 2^53
    wr(CLINT_MTIME, 0);
    clint.setSupervisorTimer(0, 1000, 0x7fff_ffff);
    expect(hs[0]!.mip & STIP).toBe(0);
    expect(clint.nextDeadline(0, true)).toBe(1000);
    expect(clint.nextDeadline(1, true)).toBe(Infinity); // hart 1 has none
    clock.t = 999;
    clint.update();
    expect(hs[0]!.mip & STIP).toBe(0);
    clock.t = 1000;
    clint.update();
    expect(hs[0]!.mip & STIP).toBe(STIP);
    expect(hs[1]!.mip & STIP).toBe(0);
    clint.setSupervisorTimer(0, 0xffff_ffff, 0xffff_ffff); // off
    expect(hs[0]!.mip & STIP).toBe(0);
    expect(clint.nextDeadline(0, true)).toBe(Infinity);
    clint.reset();
    expect(clint.nextDeadline(0, true)).toBe(Infinity);
  });
});

describe('Clint save/restore', () => {
  it('round-trips registers and carries mtime over to a new clock', () => {
    const a = setup(1);
    a.clock.t = 777;
    a.setCmp(0, 5000n);
    a.wr(0, 1);
    const state = JSON.parse(JSON.stringify(a.clint.saveState()));
    const b = setup(1, 99_999);
    b.clint.restore(state);
    expect(b.rd(CLINT_MTIME)).toBe(777);
    expect(b.rd(CLINT_MTIMECMP_BASE)).toBe(5000);
    expect(b.hs[0]!.mip).toBe(MSIP);
    b.clock.t += 5000 - 777;
    b.clint.update();
    expect(b.hs[0]!.mip).toBe(MSIP | MTIP);
    a.clint.reset();
    expect(a.rd(0)).toBe(0);
    expect(a.rd(CLINT_MTIME)).toBe(0);
  });
});

describe('Clint mtimeFromClock (the vCPUs of one domain)', () => {
  it('two CLINTs built at different moments over one clock read the same mtime', () => {
    const clock = new ManualClock();
    clock.t = 1000;
    const a = new Clint({ harts: [new FakeHart()], clock, mtimeFromClock: true });
    clock.t = 250_000; // the second vCPU's worker starts later
    const b = new Clint({ harts: [new FakeHart()], clock, mtimeFromClock: true });
    const plain = new Clint({ harts: [new FakeHart()], clock });
    clock.t = 300_000;
    expect(a.mtime()).toBe(300_000);
    expect(b.mtime()).toBe(300_000);
    expect(plain.mtime()).toBe(50_000); // QEMU's board: 0 at reset
    a.reset();
    expect(a.mtime()).toBe(300_000);
  });
});
