import { describe, expect, it } from 'vitest';
import {
  GOLDFISH_RTC_ALARM_HIGH as ALARM_HIGH,
  GOLDFISH_RTC_ALARM_LOW as ALARM_LOW,
  GOLDFISH_RTC_ALARM_STATUS as ALARM_STATUS,
  GOLDFISH_RTC_CLEAR_ALARM as CLEAR_ALARM,
  GOLDFISH_RTC_CLEAR_INTERRUPT as CLEAR_INTERRUPT,
  GOLDFISH_RTC_IRQ_ENABLED as IRQ_ENABLED,
  GOLDFISH_RTC_TIME_HIGH as TIME_HIGH,
  GOLDFISH_RTC_TIME_LOW as TIME_LOW,
  GoldfishRtc,
  hostNanosecondSource,
} from './goldfishRtc';

const T0 = 1_700_000_000_123_456_789n; // 2023-11-14T22:13:20.123456789Z

function setup() {
  const clock = { t: T0 };
  const levels: boolean[] = [];
  let level = false;
  const rtc = new GoldfishRtc({
    irq: {
      set: (l) => {
        levels.push(l);
        level = l;
      },
    },
    source: () => clock.t,
  });
  const rd = (o: number) => rtc.read(o, 4);
  const wr = (o: number, v: number) => rtc.write(o, 4, v);
  const time = () => {
    const lo = rd(TIME_LOW);
    return (BigInt(rd(TIME_HIGH)) << 32n) | BigInt(lo);
  };
  /** Arm the alarm at `at` (high word first, as Linux does). */
  const arm = (at: bigint) => {
    wr(ALARM_HIGH, Number(at >> 32n));
    wr(ALARM_LOW, Number(at & 0xffff_ffffn));
  };
  return { clock, rtc, rd, wr, time, arm, levels, level: () => level };
}

describe('GoldfishRtc time', () => {
  it('reads the source in ns; TIME_LOW latches TIME_HIGH', () => {
    const s = setup();
    expect(s.time()).toBe(T0);
    expect(s.rtc.now()).toBe(T0);
    const lo = s.rd(TIME_LOW);
    s.clock.t += 1n << 32n; // the high word moves, the latch does not
    expect(s.rd(TIME_HIGH)).toBe(Number(T0 >> 32n));
    expect(s.rd(TIME_HIGH)).toBe(Number(T0 >> 32n));
    expect(lo).toBe(Number(T0 & 0xffff_ffffn));
    s.rd(TIME_LOW);
    expect(s.rd(TIME_HIGH)).toBe(Number(T0 >> 32n) + 1);
  });

  it('takes writes to either half of the time and keeps running from there (QEMU tick_offset)', () => {
    const s = setup();
    s.wr(TIME_HIGH, 5);
    expect(s.time()).toBe((5n << 32n) | (T0 & 0xffff_ffffn));
    s.wr(TIME_LOW, 0x1000_0000);
    expect(s.time()).toBe((5n << 32n) | 0x1000_0000n);
    s.clock.t += 1000n;
    expect(s.time()).toBe((5n << 32n) | 0x1000_03e8n);
    s.rtc.reset();
    expect(s.time()).toBe(T0 + 1000n);
  });

  it('answers only 32-bit accesses; unknown and write-only registers read 0', () => {
    const s = setup();
    expect(s.rtc.read(TIME_LOW, 1)).toBe(0);
    expect(s.rtc.read(TIME_LOW, 2)).toBe(0);
    s.rtc.write(IRQ_ENABLED, 1, 1);
    s.rtc.write(IRQ_ENABLED, 2, 1);
    expect(s.rd(IRQ_ENABLED)).toBe(0);
    for (const o of [CLEAR_ALARM, CLEAR_INTERRUPT, 0x20]) expect(s.rd(o)).toBe(0);
    expect(s.rtc.size).toBe(0x24);
    expect(s.rtc.name).toBe('rtc');
  });

  it('IRQ_ENABLED keeps bit 0 only', () => {
    const s = setup();
    s.wr(IRQ_ENABLED, 0xffff_ffff);
    expect(s.rd(IRQ_ENABLED)).toBe(1);
    s.wr(IRQ_ENABLED, 2);
    expect(s.rd(IRQ_ENABLED)).toBe(0);
  });
});

describe('GoldfishRtc alarm', () => {
  it('arms on ALARM_LOW, fires when the source reaches it, interrupts only when enabled', () => {
    const s = setup();
    s.wr(ALARM_HIGH, Number((T0 + 1000n) >> 32n));
    expect(s.rd(ALARM_STATUS)).toBe(0); // ALARM_HIGH alone does not arm
    s.arm(T0 + 1000n);
    expect(s.rd(ALARM_STATUS)).toBe(1);
    expect(s.rd(ALARM_LOW)).toBe(Number((T0 + 1000n) & 0xffff_ffffn));
    expect(s.rd(ALARM_HIGH)).toBe(Number((T0 + 1000n) >> 32n));
    expect(s.rtc.nanosUntilAlarm()).toBe(1000);
    s.wr(IRQ_ENABLED, 1);
    s.clock.t += 999n;
    s.rtc.update();
    expect(s.rd(ALARM_STATUS)).toBe(1);
    expect(s.level()).toBe(false);
    s.clock.t += 1n;
    expect(s.rtc.nanosUntilAlarm()).toBe(0);
    s.rtc.update();
    expect(s.rd(ALARM_STATUS)).toBe(0);
    expect(s.rtc.nanosUntilAlarm()).toBe(Infinity);
    expect(s.level()).toBe(true);
    s.wr(IRQ_ENABLED, 0);
    expect(s.level()).toBe(false);
    s.wr(IRQ_ENABLED, 1);
    expect(s.level()).toBe(true); // still pending
    s.wr(CLEAR_INTERRUPT, 0);
    expect(s.level()).toBe(false);
    expect(s.levels).toEqual([false, true, false, true, false]);
  });

  it('fires at once for an alarm at or before now, even with the interrupt disabled', () => {
    const s = setup();
    s.arm(T0);
    expect(s.rd(ALARM_STATUS)).toBe(0);
    expect(s.level()).toBe(false);
    s.wr(IRQ_ENABLED, 1);
    expect(s.level()).toBe(true);
    s.wr(CLEAR_INTERRUPT, 0);
    s.arm(0n);
    expect(s.level()).toBe(true);
  });

  it('CLEAR_ALARM disarms without touching a pending interrupt', () => {
    const s = setup();
    s.wr(IRQ_ENABLED, 1);
    s.arm(T0 + 10n);
    s.wr(CLEAR_ALARM, 0);
    expect(s.rd(ALARM_STATUS)).toBe(0);
    s.clock.t += 100n;
    s.rtc.update();
    expect(s.level()).toBe(false);
    expect(s.rd(ALARM_LOW)).toBe(Number((T0 + 10n) & 0xffff_ffffn)); // the value stays
  });

  it('keeps an armed alarm on the source clock when the time is set afterwards (QEMU)', () => {
    const s = setup();
    s.arm(T0 + (10n << 32n));
    s.wr(TIME_HIGH, Number(T0 >> 32n) + 20); // time jumps past the alarm...
    s.rtc.update();
    expect(s.rd(ALARM_STATUS)).toBe(1); // ...which still waits for the source
    s.clock.t += 10n << 32n;
    s.rtc.update();
    expect(s.rd(ALARM_STATUS)).toBe(0);
  });

  it('compares alarm and time in the adjusted time', () => {
    const s = setup();
    s.wr(TIME_HIGH, 0);
    s.wr(TIME_LOW, 0);
    s.arm(500n);
    expect(s.rd(ALARM_STATUS)).toBe(1);
    expect(s.rtc.nanosUntilAlarm()).toBe(500);
    s.clock.t += 500n;
    s.rtc.update();
    expect(s.rd(ALARM_STATUS)).toBe(0);
  });
});

describe('hostNanosecondSource', () => {
  it('follows Date.now() in ns and never goes back', () => {
    const src = hostNanosecondSource();
    const before = BigInt(Date.now()) * 1_000_000n;
    const a = src(),
      b = src();
    expect(b >= a).toBe(true);
    expect(Number(a - before) / 1e6).toBeLessThan(1000);
    expect(Number(before - a) / 1e6).toBeLessThan(1000);
  });
});
