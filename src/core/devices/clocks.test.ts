import { describe, expect, it } from 'vitest';
import { InstructionCountClock, RealTimeClock } from './clocks';

describe('RealTimeClock', () => {
  it('counts 10 MHz ticks from the host milliseconds, starting at 0', () => {
    let ms = 5000;
    const clock = new RealTimeClock({ source: () => ms });
    expect(clock.frequency).toBe(10_000_000);
    expect(clock.now()).toBe(0);
    ms += 1.5;
    expect(clock.now()).toBe(15_000);
  });

  it('pauses and resumes without a jump, and never goes backwards', () => {
    let ms = 0;
    const clock = new RealTimeClock({ source: () => ms, frequency: 1000 });
    ms = 10;
    clock.pause();
    ms = 50;
    expect(clock.paused).toBe(true);
    expect(clock.now()).toBe(10);
    clock.resume();
    ms = 55;
    expect(clock.now()).toBe(15);
    ms = 40; // host clock steps back
    expect(clock.now()).toBe(15);
  });

  it('works on the real performance.now()', () => {
    const clock = new RealTimeClock();
    const a = clock.now();
    const b = clock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Number.isInteger(a)).toBe(true);
  });
});

describe('InstructionCountClock', () => {
  it('gives 2^shift ns per instruction', () => {
    let n = 0;
    const clock = new InstructionCountClock({ instret: () => n, shift: 0 });
    n = 100; // 100 ns = 1 tick at 10 MHz
    expect(clock.now()).toBe(1);
    const c3 = new InstructionCountClock({ instret: () => n, shift: 3 });
    n += 25; // 25 * 8 ns = 200 ns
    expect(c3.now()).toBe(2);
    expect(clock.now()).toBe(1);
  });

  it('stays exact for large counts and odd frequencies', () => {
    let n = 0;
    const clock = new InstructionCountClock({ instret: () => n, shift: 4 });
    n = 2 ** 40;
    expect(clock.now()).toBe(2 ** 44 / 100 - (2 ** 44 % 100) / 100);
    const odd = new InstructionCountClock({ instret: () => n, shift: 0, frequency: 3 });
    n += 1e9;
    expect(odd.now()).toBe(3);
  });

  it('warps forward with advanceTo and never back', () => {
    let n = 0;
    const clock = new InstructionCountClock({ instret: () => n, shift: 0 });
    clock.advanceTo(500);
    expect(clock.now()).toBe(500);
    clock.advanceTo(100);
    clock.advanceTo(Infinity);
    expect(clock.now()).toBe(500);
    n = 1000;
    expect(clock.now()).toBe(510);
  });

  it('rejects a bad shift', () => {
    expect(() => new InstructionCountClock({ instret: () => 0, shift: -1 })).toThrow(RangeError);
    expect(() => new InstructionCountClock({ instret: () => 0, shift: 1.5 })).toThrow(RangeError);
  });
});
