import { describe, expect, it } from 'vitest';
import { FREE, MachineMemory, OutOfMemory, PAGE_SIZE } from './machineMemory';

describe('machine memory', () => {
  it('hands out zeroed frames, also when a frame comes back from a domain that wrote to it', () => {
    const mem = new MachineMemory(4 * PAGE_SIZE);
    const bytes = new Uint8Array(mem.buffer);
    const taken = [mem.alloc(1), mem.alloc(1), mem.alloc(1), mem.alloc(1)];
    for (const mfn of taken) bytes.fill(0xa5, mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE);
    for (const mfn of taken) mem.free(mfn);
    expect(mem.nrFree).toBe(4);
    for (let i = 0; i < 4; i++) {
      const mfn = mem.alloc(2);
      expect(mem.owner[mfn]).toBe(2);
      expect(bytes.subarray(mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE).every((b) => b === 0)).toBe(true);
    }
    expect(() => mem.alloc(2)).toThrow(OutOfMemory);
  });

  it('refuses a double free and counts owners', () => {
    const mem = new MachineMemory(2 * PAGE_SIZE);
    const a = mem.alloc(5);
    expect(mem.countOwned(5)).toBe(1);
    mem.free(a);
    expect(mem.owner[a]).toBe(FREE);
    expect(() => mem.free(a)).toThrow(/double free/);
  });
});
