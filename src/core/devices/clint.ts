/**
 * CLINT as QEMU's riscv `virt` machine builds it from ACLINT parts
 * (hw/intc/riscv_aclint.c; virt.c puts an MSWI at +0 and an MTIMER at +0x4000):
 *
 *   0x0000 + 4*h    msip[h]      bit 0 drives mip.MSIP (bit 3) of hart h
 *   0x4000 + 8*h    mtimecmp[h]  64-bit, as lo/hi words; reset value 0
 *   0xbff8          mtime        64-bit, as lo/hi words
 *
 * mip.MTIP (bit 7) of hart h is the level `mtime >= mtimecmp[h]` (unsigned, privileged
 * spec 3.2.1). Beside it, each hart has a supervisor timer that no guest address reaches:
 * the SBI timer, which firmware keeps for an S-mode guest (OpenSBI programs mtimecmp and
 * moves the interrupt to STIP; Sstc's stimecmp does the same in hardware). Once set, it
 * drives mip.STIP (bit 5) by the same exact 64-bit comparison. QEMU arms a host timer for it; here the hart calls `update()`
 * periodically, writes to mtimecmp/mtime take effect at once, and a host that wants to
 * sleep through WFI asks `nextDeadline()`. Because mtimecmp resets to 0, MTIP is
 * pending from reset (as in QEMU, whose reset writes mtime = 0 and re-evaluates every
 * timecmp); guests program mtimecmp before enabling mie.MTIE.
 *
 * mtime is the Clock's tick count plus an offset that guest writes adjust
 * (QEMU time_delta). 64-bit values are kept as exact hi/lo 32-bit halves.
 * Only 32-bit accesses are valid (RV32 cannot issue the 8-byte ones QEMU's MTIMER also
 * accepts): the bus refuses narrower ones with an access fault (minWidth), as QEMU's MSWI
 * (.valid 4..4) and MTIMER (.valid 4..8) do. The window is QEMU's two regions, 0xc000
 * bytes (MSWI 0x4000 + MTIMER 0x8000); the rest of the 64 KiB slot is unmapped there too.
 */
import type { AccessWidth, Clock, InterruptTarget, MmioDevice } from '../bus/mmio';
import { IRQ_MSIP, IRQ_MTIP, IRQ_STIP } from '../bus/mmio';

export const CLINT_MSIP_BASE = 0x0;
export const CLINT_MTIMECMP_BASE = 0x4000;
export const CLINT_MTIME = 0xbff8;
/** RISCV_ACLINT_SWI_SIZE + RISCV_ACLINT_DEFAULT_MTIMER_SIZE. */
export const CLINT_WINDOW = 0xc000;

const TWO32 = 0x1_0000_0000;

export interface ClintOptions {
  harts: readonly InterruptTarget[];
  clock: Clock;
  name?: string;
  /** Window size; default CLINT_WINDOW (0xc000). */
  size?: number;
  /**
   * mtime is the clock's count itself (reset included) rather than 0 at construction: the
   * vCPUs of one domain build their CLINTs at different moments but must read one time.
   */
  mtimeFromClock?: boolean;
}

export interface ClintState {
  msip: boolean[];
  mtimecmpLo: number[];
  mtimecmpHi: number[];
  /** mtime at the moment of saving, as [lo, hi]. */
  mtime: [number, number];
  /** The SBI supervisor timer of each hart, [lo, hi] in mtime units, or null when not armed (hyperlab's, not a CLINT register). */
  stimecmp?: ([number, number] | null)[];
}

export class Clint implements MmioDevice {
  readonly name: string;
  readonly size: number;
  readonly minWidth = 4;
  private readonly harts: readonly InterruptTarget[];
  private readonly clock: Clock;
  private msip: boolean[];
  private cmpLo: number[];
  private cmpHi: number[];
  /** mtime - clock.now(), modulo 2^64. */
  private deltaLo = 0;
  private deltaHi = 0;
  /** MTIP level last driven per hart (undefined = never driven). */
  private mtip: (boolean | undefined)[];
  /** The supervisor (SBI) timer per hart; STIP is left alone until it is first set (armed). */
  private scmpLo: number[];
  private scmpHi: number[];
  private sArmed: boolean[];
  private stip: (boolean | undefined)[];
  private readonly mtimeFromClock: boolean;

  constructor(options: ClintOptions) {
    this.name = options.name ?? 'clint';
    this.size = options.size ?? CLINT_WINDOW;
    this.harts = options.harts;
    this.clock = options.clock;
    const n = this.harts.length;
    this.msip = new Array<boolean>(n).fill(false);
    this.cmpLo = new Array<number>(n).fill(0);
    this.cmpHi = new Array<number>(n).fill(0);
    this.mtip = new Array<boolean | undefined>(n).fill(undefined);
    this.scmpLo = new Array<number>(n).fill(0xffff_ffff);
    this.scmpHi = new Array<number>(n).fill(0xffff_ffff);
    this.sArmed = new Array<boolean>(n).fill(false);
    this.stip = new Array<boolean | undefined>(n).fill(undefined);
    this.mtimeFromClock = options.mtimeFromClock ?? false;
    this.resetMtime();
  }

  private resetMtime(): void {
    if (this.mtimeFromClock) this.deltaLo = this.deltaHi = 0;
    else this.setMtime(0, 0);
  }

  /** Reset as QEMU: msip 0, mtimecmp 0, mtime 0; drives every line. */
  reset(): void {
    for (let h = 0; h < this.harts.length; h++) {
      this.msip[h] = false;
      this.cmpLo[h] = 0;
      this.cmpHi[h] = 0;
      this.harts[h]!.setInterruptLevel(IRQ_MSIP, false);
      this.mtip[h] = undefined;
      this.scmpLo[h] = this.scmpHi[h] = 0xffff_ffff;
      if (this.stip[h] === true) this.harts[h]!.setInterruptLevel(IRQ_STIP, false);
      this.sArmed[h] = false;
      this.stip[h] = undefined;
    }
    this.resetMtime();
  }

  /**
   * Set hart `h`'s supervisor timer to the 64-bit mtime value (lo, hi): STIP is the level
   * `mtime >= (hi, lo)` from now on (SBI set_timer; all ones is never).
   */
  setSupervisorTimer(h: number, lo: number, hi: number): void {
    this.scmpLo[h] = lo >>> 0;
    this.scmpHi[h] = hi >>> 0;
    this.sArmed[h] = true;
    this.stip[h] = undefined; // drive the line whatever its last level
    const [mLo, mHi] = this.readMtime();
    this.updateHart(h, mLo, mHi);
  }

  /** Low and high words of mtime (what a hart's time/timeh CSRs read). */
  mtimeLo(): number {
    return this.readMtime()[0];
  }
  mtimeHi(): number {
    return this.readMtime()[1];
  }
  /** mtime as a number (exact below 2^53). */
  mtime(): number {
    const [lo, hi] = this.readMtime();
    return hi * TWO32 + lo;
  }

  /** Recompute mip.MTIP of every hart (and STIP where a supervisor timer is set) from the clock. */
  update(): void {
    const [lo, hi] = this.readMtime();
    for (let h = 0; h < this.harts.length; h++) this.updateHart(h, lo, hi);
  }

  /**
   * The clock tick (in `clock.now()` terms) at which mtime reaches mtimecmp of `hart`,
   * or the earliest over all harts when omitted. A deadline already passed is
   * returned as is (<= now). Infinity when there is no such hart or the deadline is
   * more than 2^53 ticks away (e.g. mtimecmp = all ones, the usual "off" value).
   * `supervisor`: the supervisor timers' deadlines instead of mtimecmp's.
   */
  nextDeadline(hart?: number, supervisor = false): number {
    const now = Math.floor(this.clock.now());
    const [lo, hi] = this.readMtime(now);
    let best = Infinity;
    const first = hart ?? 0;
    const last = hart ?? this.harts.length - 1;
    for (let h = first; h <= last && h < this.harts.length; h++) {
      if (supervisor && !this.sArmed[h]) continue;
      const cLo = supervisor ? this.scmpLo[h]! : this.cmpLo[h]!,
        cHi = supervisor ? this.scmpHi[h]! : this.cmpHi[h]!;
      let deadline: number;
      if (cmp64(cLo, cHi, lo, hi) >= 0) {
        const [dLo, dHi] = sub64(cLo, cHi, lo, hi);
        deadline = dHi >= 0x20_0000 ? Infinity : now + dHi * TWO32 + dLo;
      } else {
        const [dLo, dHi] = sub64(lo, hi, cLo, cHi);
        deadline = now - (dHi * TWO32 + dLo);
      }
      if (deadline < best) best = deadline;
    }
    return best;
  }

  read(offset: number, width: AccessWidth): number {
    if (width !== 4 || (offset & 3) !== 0) return 0;
    const n = this.harts.length;
    if (offset < CLINT_MTIMECMP_BASE) {
      const h = offset >> 2;
      return h < n && this.msip[h] ? 1 : 0;
    }
    if (offset === CLINT_MTIME) return this.readMtime()[0];
    if (offset === CLINT_MTIME + 4) return this.readMtime()[1];
    const h = (offset - CLINT_MTIMECMP_BASE) >> 3;
    if (h >= n) return 0;
    return (offset & 4) === 0 ? this.cmpLo[h]! : this.cmpHi[h]!;
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (width !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    const n = this.harts.length;
    if (offset < CLINT_MTIMECMP_BASE) {
      const h = offset >> 2;
      if (h >= n) return;
      this.msip[h] = (value & 1) !== 0;
      this.harts[h]!.setInterruptLevel(IRQ_MSIP, this.msip[h]);
    } else if (offset === CLINT_MTIME || offset === CLINT_MTIME + 4) {
      // QEMU: the written half replaces that half of the current mtime; the offset
      // is recomputed and every hart's timer re-evaluated.
      const [lo, hi] = this.readMtime();
      if (offset === CLINT_MTIME) this.setMtime(value, hi);
      else this.setMtime(lo, value);
      this.update();
    } else {
      const h = (offset - CLINT_MTIMECMP_BASE) >> 3;
      if (h >= n) return;
      if ((offset & 4) === 0) this.cmpLo[h] = value;
      else this.cmpHi[h] = value;
      const [lo, hi] = this.readMtime();
      this.updateHart(h, lo, hi);
    }
  }

  private updateHart(h: number, lo: number, hi: number): void {
    const level = cmp64(lo, hi, this.cmpLo[h]!, this.cmpHi[h]!) >= 0;
    if (this.mtip[h] !== level) {
      this.mtip[h] = level;
      this.harts[h]!.setInterruptLevel(IRQ_MTIP, level);
    }
    if (!this.sArmed[h]) return;
    const s = cmp64(lo, hi, this.scmpLo[h]!, this.scmpHi[h]!) >= 0;
    if (this.stip[h] === s) return;
    this.stip[h] = s;
    this.harts[h]!.setInterruptLevel(IRQ_STIP, s);
  }

  /** Current mtime as [lo, hi]. */
  private readMtime(now = Math.floor(this.clock.now())): [number, number] {
    const nLo = now % TWO32;
    return add64(nLo, (now - nLo) / TWO32, this.deltaLo, this.deltaHi);
  }

  /** Make mtime read (lo, hi) now. */
  private setMtime(lo: number, hi: number): void {
    const now = Math.floor(this.clock.now());
    const nLo = now % TWO32;
    [this.deltaLo, this.deltaHi] = sub64(lo, hi, nLo, (now - nLo) / TWO32);
  }

  saveState(): ClintState {
    return {
      msip: [...this.msip],
      mtimecmpLo: [...this.cmpLo],
      mtimecmpHi: [...this.cmpHi],
      mtime: this.readMtime(),
      stimecmp: this.harts.map((_, h) => (this.sArmed[h] ? [this.scmpLo[h]!, this.scmpHi[h]!] : null)),
    };
  }

  /** Restore registers; mtime continues from the saved value on this clock. */
  restore(s: ClintState): void {
    for (let h = 0; h < this.harts.length; h++) {
      this.msip[h] = s.msip[h] ?? false;
      this.cmpLo[h] = (s.mtimecmpLo[h] ?? 0) >>> 0;
      this.cmpHi[h] = (s.mtimecmpHi[h] ?? 0) >>> 0;
      this.harts[h]!.setInterruptLevel(IRQ_MSIP, this.msip[h]!);
      this.mtip[h] = undefined;
    }
    this.setMtime(s.mtime[0] >>> 0, s.mtime[1] >>> 0);
    for (let h = 0; h < this.harts.length; h++) {
      const st = s.stimecmp?.[h];
      if (st) this.setSupervisorTimer(h, st[0], st[1]);
    }
    this.update();
  }
}

// ---- exact unsigned 64-bit arithmetic on (lo, hi) pairs of uint32 numbers ------------

function add64(aLo: number, aHi: number, bLo: number, bHi: number): [number, number] {
  const lo = aLo + bLo;
  const carry = lo >= TWO32 ? 1 : 0;
  return [lo - carry * TWO32, (aHi + bHi + carry) % TWO32];
}

function sub64(aLo: number, aHi: number, bLo: number, bHi: number): [number, number] {
  const borrow = aLo < bLo ? 1 : 0;
  return [aLo - bLo + borrow * TWO32, (aHi - bHi - borrow + 2 * TWO32) % TWO32];
}

function cmp64(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (aHi !== bHi) return aHi < bHi ? -1 : 1;
  return aLo === bLo ? 0 : aLo < bLo ? -1 : 1;
}
