import { describe, expect, it } from 'vitest';
import { Bus } from './bus';

const BASE = 0x8000_0000;

describe('Bus over a P2M', () => {
  function p2mBus() {
    const buffer = new SharedArrayBuffer(16 * 4096); // 16 machine frames
    const p2m = new Int32Array(4).fill(-1);
    p2m[0] = 9; // guest frame 0 -> machine frame 9
    p2m[1] = 3;
    p2m[3] = 12; // guest frame 2 has no machine frame
    const gen = new Int32Array(new SharedArrayBuffer(4));
    return { bus: new Bus({ ramBase: BASE, ramSize: 4 * 4096, buffer, p2m, p2mGeneration: gen }), buffer, p2m, gen };
  }

  it('translates guest-physical addresses through the P2M', () => {
    const { bus } = p2mBus();
    expect(bus.ramOffset(BASE + 0x10)).toBe(9 * 4096 + 0x10);
    expect(bus.ramOffset(BASE + 0x1ffc)).toBe(3 * 4096 + 0xffc);
    expect(bus.ramOffset(BASE + 0x2000)).toBe(-1); // no frame
    expect(bus.ramOffset(BASE + 0x4000)).toBe(-1); // past RAM
    expect(bus.ramOffset(BASE - 4)).toBe(-1);
  });

  it('copies across frame boundaries into the right machine frames', () => {
    const { bus, buffer } = p2mBus();
    bus.writePhys(BASE + 0xffe, Uint8Array.of(1, 2, 3, 4));
    const m = new Uint8Array(buffer);
    expect([m[9 * 4096 + 0xffe], m[9 * 4096 + 0xfff], m[3 * 4096], m[3 * 4096 + 1]]).toEqual([1, 2, 3, 4]);
    expect([...bus.readPhys(BASE + 0xffe, 4)]).toEqual([1, 2, 3, 4]);
    expect(() => bus.writePhys(BASE + 0x1fff, Uint8Array.of(1, 2))).toThrow(/outside RAM/);
  });

  it('reports a P2M change once', () => {
    const { bus, gen } = p2mBus();
    expect(bus.p2mChanged()).toBe(false);
    Atomics.add(gen, 0, 1);
    expect(bus.p2mChanged()).toBe(true);
    expect(bus.p2mChanged()).toBe(false);
  });
});
