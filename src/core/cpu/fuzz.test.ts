/**
 * Hostile code: streams of random but well-formed instructions (every row of the encoding
 * table with random fields) and of random words. The hart must never throw, must keep
 * executing (traps are its answer to nonsense), and must never touch bytes outside its
 * RAM, here the canary-filled neighbours of its slice of a shared buffer.
 */
import { describe, expect, it } from 'vitest';
import { Bus } from '../bus/bus';
import { ENCODINGS } from './encodings';
import { Hart } from './hart';

const MiB = 1 << 20;
const CANARY = 0x5a;

function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s | 0;
  };
}

function fuzz(seed: number, wellFormed: boolean): { hart: Hart; buffer: Uint8Array } {
  const buffer = new SharedArrayBuffer(3 * MiB);
  const bytes = new Uint8Array(buffer);
  bytes.fill(CANARY);
  const bus = new Bus({ ramBase: 0x8000_0000, ramSize: MiB, buffer, bufferOffset: MiB });
  const next = rng(seed);
  const ram = bus.ram.i32;
  for (let i = 0; i < ram.length; i++) {
    const e = ENCODINGS[(next() >>> 0) % ENCODINGS.length]!;
    ram[i] = wellFormed ? e.match | (next() & ~e.mask) : next();
  }
  // Registers point into RAM half of the time so loads, stores and AMOs hit something.
  const hart = new Hart(bus, 0);
  hart.reset(0x8000_0000);
  for (let r = 1; r < 32; r++) hart.x[r] = r & 1 ? 0x8000_0000 + ((next() >>> 0) % MiB) : next();
  hart.mtvec = 0x8000_0000 + (((next() >>> 0) % MiB) & ~3);
  return { hart, buffer: bytes };
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
