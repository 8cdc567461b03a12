/**
 * The Goldfish real-time clock ("google,goldfish-rtc") at 0x101000 on `virt`, PLIC
 * source 11, as QEMU 7.2's hw/rtc/goldfish_rtc.c. Registers (32-bit):
 *
 *   0x00 TIME_LOW         R: low word of the time, and latches the high word for TIME_HIGH
 *                         W: replaces the low word of the time
 *   0x04 TIME_HIGH        R: the word latched by the last TIME_LOW read; W: replaces the high word
 *   0x08 ALARM_LOW        RW: low word of the alarm; a write arms the alarm
 *   0x0c ALARM_HIGH       RW: high word of the alarm (a write alone does not arm)
 *   0x10 IRQ_ENABLED      RW: bit 0
 *   0x14 CLEAR_ALARM      W: disarm
 *   0x18 ALARM_STATUS     R: 1 while an alarm is armed and has not fired
 *   0x1c CLEAR_INTERRUPT  W: drop the pending interrupt
 *
 * Time is a 64-bit count of nanoseconds since the Unix epoch: the source's time plus an
 * offset that writes to TIME_LOW/TIME_HIGH adjust (QEMU tick_offset). Arming an alarm at
 * or before the current time fires it at once; otherwise it fires when the source reaches
 * the alarm minus the offset at arming time, so, as in QEMU, setting the time later does
 * not move an armed alarm. Firing disarms it and makes the interrupt pending; the line is
 * `pending && IRQ_ENABLED`. QEMU arms a host timer; here the board calls `update()`
 * periodically and asks `nanosUntilAlarm()` when the hart sleeps.
 *
 * Where this differs from QEMU:
 * - QEMU starts the count at the whole second of the host time at reset (mktimegm) and then
 *   advances it in ns; here it starts at the source's time, fractions included.
 *
 * As in QEMU, only 32-bit accesses are valid (.valid 4..4): the bus refuses narrower ones
 * with an access fault (minWidth). The register window is QEMU's 0x24 bytes: loads and
 * stores past it fault, as in QEMU, although the slot in the memory map and the device
 * tree is 0x1000.
 */
import type { AccessWidth, IrqLine, MmioDevice } from '../bus/mmio';

export const GOLDFISH_RTC_TIME_LOW = 0x00;
export const GOLDFISH_RTC_TIME_HIGH = 0x04;
export const GOLDFISH_RTC_ALARM_LOW = 0x08;
export const GOLDFISH_RTC_ALARM_HIGH = 0x0c;
export const GOLDFISH_RTC_IRQ_ENABLED = 0x10;
export const GOLDFISH_RTC_CLEAR_ALARM = 0x14;
export const GOLDFISH_RTC_ALARM_STATUS = 0x18;
export const GOLDFISH_RTC_CLEAR_INTERRUPT = 0x1c;
/** QEMU's register window ("goldfish_rtc", 0x24 bytes). */
export const GOLDFISH_RTC_SIZE = 0x24;

/** Nanoseconds since the Unix epoch. */
export type NanosecondSource = () => bigint;

const MASK32 = 0xffff_ffffn;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/**
 * The host's time in ns since the epoch: Date.now() when created, advanced by the
 * monotonic performance.now() (sub-millisecond, present in browsers, workers and Node).
 */
export function hostNanosecondSource(): NanosecondSource {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  const wall = BigInt(Date.now()) * 1_000_000n;
  if (!perf) return () => BigInt(Date.now()) * 1_000_000n;
  const start = perf.now();
  return () => wall + BigInt(Math.round((perf.now() - start) * 1e6));
}

export interface GoldfishRtcOptions {
  /** The alarm interrupt (PLIC source 11 on `virt`). */
  irq: IrqLine;
  /** Time source; default hostNanosecondSource(). */
  source?: NanosecondSource;
  name?: string;
}

export class GoldfishRtc implements MmioDevice {
  readonly name: string;
  readonly size = GOLDFISH_RTC_SIZE;
  readonly minWidth = 4;
  private readonly irq: IrqLine;
  private readonly source: NanosecondSource;
  /** RTC time = source() + tickOffset (mod 2^64). */
  private tickOffset = 0n;
  private timeHigh = 0;
  private alarmNext = 0n;
  /** The source's time at which the armed alarm fires. */
  private alarmAt = 0n;
  private alarmRunning = false;
  private irqPending = false;
  private irqEnabled = false;
  /** Level last driven (undefined: never driven). */
  private level: boolean | undefined;

  constructor(options: GoldfishRtcOptions) {
    this.name = options.name ?? 'rtc';
    this.irq = options.irq;
    this.source = options.source ?? hostNanosecondSource();
  }

  /** Reset as QEMU: time follows the source again, alarm and interrupt cleared. */
  reset(): void {
    this.tickOffset = 0n;
    this.timeHigh = 0;
    this.alarmNext = 0n;
    this.alarmRunning = false;
    this.irqPending = false;
    this.irqEnabled = false;
    this.drive();
  }

  /** The RTC's time, ns since the epoch (what TIME_LOW/TIME_HIGH read). */
  now(): bigint {
    return u64(this.source() + this.tickOffset);
  }

  /** Fire the armed alarm if its time has come. Cheap when none is armed. */
  update(): void {
    if (this.alarmRunning && this.source() >= this.alarmAt) this.fire();
  }

  /** Nanoseconds of source time until the armed alarm fires (<= 0: due), or Infinity. */
  nanosUntilAlarm(): number {
    return this.alarmRunning ? Number(this.alarmAt - this.source()) : Infinity;
  }

  read(offset: number, width: AccessWidth): number {
    if (width !== 4) return 0;
    switch (offset) {
      case GOLDFISH_RTC_TIME_LOW: {
        const t = this.now();
        this.timeHigh = Number(t >> 32n);
        return Number(t & MASK32);
      }
      case GOLDFISH_RTC_TIME_HIGH:
        return this.timeHigh;
      case GOLDFISH_RTC_ALARM_LOW:
        return Number(this.alarmNext & MASK32);
      case GOLDFISH_RTC_ALARM_HIGH:
        return Number(this.alarmNext >> 32n);
      case GOLDFISH_RTC_IRQ_ENABLED:
        return this.irqEnabled ? 1 : 0;
      case GOLDFISH_RTC_ALARM_STATUS:
        return this.alarmRunning ? 1 : 0;
      default:
        return 0;
    }
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (width !== 4) return;
    const v = BigInt(value >>> 0);
    switch (offset) {
      case GOLDFISH_RTC_TIME_LOW:
      case GOLDFISH_RTC_TIME_HIGH: {
        const cur = this.now();
        const next = offset === GOLDFISH_RTC_TIME_LOW ? (cur & ~MASK32) | v : (cur & MASK32) | (v << 32n);
        this.tickOffset = u64(this.tickOffset + next - cur);
        break;
      }
      case GOLDFISH_RTC_ALARM_LOW:
        this.alarmNext = (this.alarmNext & ~MASK32) | v;
        this.setAlarm();
        break;
      case GOLDFISH_RTC_ALARM_HIGH:
        this.alarmNext = (this.alarmNext & MASK32) | (v << 32n);
        break;
      case GOLDFISH_RTC_IRQ_ENABLED:
        this.irqEnabled = (value & 1) !== 0;
        this.drive();
        break;
      case GOLDFISH_RTC_CLEAR_ALARM:
        this.alarmRunning = false;
        break;
      case GOLDFISH_RTC_CLEAR_INTERRUPT:
        this.irqPending = false;
        this.drive();
        break;
      default:
        break;
    }
  }

  /** QEMU goldfish_rtc_set_alarm. */
  private setAlarm(): void {
    const source = this.source();
    const ticks = u64(source + this.tickOffset);
    if (this.alarmNext <= ticks) {
      this.alarmRunning = false;
      this.fire();
    } else {
      // QEMU: timer_mod(timer, event - tick_offset), on the source's clock.
      this.alarmAt = source + (this.alarmNext - ticks);
      this.alarmRunning = true;
    }
  }

  private fire(): void {
    this.alarmRunning = false;
    this.irqPending = true;
    this.drive();
  }

  private drive(): void {
    const level = this.irqPending && this.irqEnabled;
    if (level === this.level) return;
    this.level = level;
    this.irq.set(level);
  }
}
