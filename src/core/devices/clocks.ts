/**
 * Two sources of platform time for the CLINT (and anything else that needs a Clock).
 *
 * - RealTimeClock follows the host's monotonic clock (performance.now(), present in
 *   browsers, workers and Node), scaled to `frequency` ticks per second: 10 MHz by
 *   default, the `virt` timebase (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ).
 * - InstructionCountClock derives time from instructions retired, like QEMU's
 *   `-icount shift=N`: every instruction lasts 2^N ns of virtual time, so a run is
 *   reproducible bit for bit whatever the host's speed. A host that finds every hart
 *   idle in WFI warps it forward with `advanceTo` (QEMU's icount "warp").
 *
 * Both start at tick 0 when constructed and never go backwards.
 */
import type { Clock } from '../bus/mmio';
import { VIRT_TIMEBASE_FREQ } from '../board/memoryMap';

/** The host's monotonic milliseconds, without depending on DOM or Node typings. */
function hostMilliseconds(): number {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf ? perf.now() : Date.now();
}

export interface RealTimeClockOptions {
  /** Ticks per second; default 10 MHz. */
  frequency?: number;
  /** Host time source in milliseconds (tests inject one); default performance.now(). */
  source?: () => number;
}

export class RealTimeClock implements Clock {
  readonly frequency: number;
  private readonly source: () => number;
  /** Host ms that correspond to tick 0 of the running period. */
  private epoch: number;
  /** Ticks accumulated before the running period (pauses split periods). */
  private base = 0;
  private pausedAt: number | null = null;
  private last = 0;

  constructor(options: RealTimeClockOptions = {}) {
    this.frequency = options.frequency ?? VIRT_TIMEBASE_FREQ;
    this.source = options.source ?? hostMilliseconds;
    this.epoch = this.source();
  }

  now(): number {
    if (this.pausedAt !== null) return this.pausedAt;
    const t = this.base + Math.floor(((this.source() - this.epoch) * this.frequency) / 1000);
    // Guard against a host clock that steps back (Date.now fallback).
    if (t > this.last) this.last = t;
    return this.last;
  }

  /** Stop time (a paused domain's clock does not advance). */
  pause(): void {
    if (this.pausedAt === null) this.pausedAt = this.now();
  }

  resume(): void {
    if (this.pausedAt === null) return;
    this.base = this.pausedAt;
    this.last = this.pausedAt;
    this.epoch = this.source();
    this.pausedAt = null;
  }

  get paused(): boolean {
    return this.pausedAt !== null;
  }
}

export interface InstructionCountClockOptions {
  /** Instructions retired so far (monotonic), e.g. the sum of every vCPU's instret. */
  instret: () => number;
  /** Each instruction takes 2^shift ns (QEMU -icount shift); default 3 (125 MIPS). */
  shift?: number;
  /** Ticks per second; default 10 MHz. */
  frequency?: number;
}

export class InstructionCountClock implements Clock {
  readonly frequency: number;
  readonly shift: number;
  private readonly instret: () => number;
  private readonly nsPerInsn: number;
  /** Exact integer ns per tick when the frequency divides 1e9, else 0. */
  private readonly nsPerTick: number;
  /** Ticks added by warps. */
  private warp = 0;
  private readonly start: number;

  constructor(options: InstructionCountClockOptions) {
    const shift = options.shift ?? 3;
    if (!Number.isInteger(shift) || shift < 0 || shift > 20) {
      throw new RangeError(`icount shift must be an integer 0..20, got ${shift}`);
    }
    this.shift = shift;
    this.frequency = options.frequency ?? VIRT_TIMEBASE_FREQ;
    this.instret = options.instret;
    this.nsPerInsn = 2 ** shift;
    this.nsPerTick = 1e9 % this.frequency === 0 ? 1e9 / this.frequency : 0;
    this.start = this.instret();
  }

  now(): number {
    const ns = (this.instret() - this.start) * this.nsPerInsn;
    const ticks = this.nsPerTick ? Math.floor(ns / this.nsPerTick) : Math.floor((ns * this.frequency) / 1e9);
    return ticks + this.warp;
  }

  /** Jump time forward to `tick` (no-op if already there), e.g. to the next timer deadline. */
  advanceTo(tick: number): void {
    if (!Number.isFinite(tick)) return;
    const now = this.now();
    if (tick > now) this.warp += Math.ceil(tick) - now;
  }
}
