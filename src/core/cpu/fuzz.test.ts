/**
 * Hostile code: streams of random but well-formed instructions (every row of the encoding
 * table with random fields) and of random words. The hart must never throw, must keep
 * executing (traps are its answer to nonsense), and must never touch bytes outside its
 * RAM, here the canary-filled neighbours of its slice of a shared buffer.
 */
import { describe, expect, it } from 'vitest';
import { randomStreamHart } from './testing';

const MiB = 1 << 20;
const CANARY = 0x5a;

function fuzz(seed: number, wellFormed: boolean): ReturnType<typeof randomStreamHart> {
  return randomStreamHart(seed, wellFormed, CANARY);
}

describe('hostile instruction streams', () => {
  it.each([1, 2, 3, 4])('well-formed random instructions, seed %i: no exception, no escape', (seed) => {
    const { hart, buffer } = fuzz(seed, true);
    let steps = 0;
    for (let i = 0; i < 200; i++) {
      hart.run(10_000);
      steps += 10_000;
      if (hart.wfi) hart.wfi = false; // wake it: we want instructions, not sleep
    }
    expect(steps).toBe(2_000_000);
    expect(hart.instret).toBeGreaterThan(0);
    expect(buffer.subarray(0, MiB).every((b) => b === CANARY)).toBe(true);
    expect(buffer.subarray(2 * MiB).every((b) => b === CANARY)).toBe(true);
  });

  it('random words (mostly illegal): every one traps, none throws', () => {
    const { hart, buffer } = fuzz(99, false);
    for (let i = 0; i < 100; i++) {
      hart.run(10_000);
      hart.wfi = false;
    }
    expect(buffer.subarray(0, MiB).every((b) => b === CANARY)).toBe(true);
    expect(buffer.subarray(2 * MiB).every((b) => b === CANARY)).toBe(true);
  });
});
