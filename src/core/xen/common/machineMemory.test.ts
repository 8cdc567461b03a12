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

  it('scrubs freed frames ahead of their next alloc (Xen idle scrubbing), a batch at a time', () => {
    const mem = new MachineMemory(8 * PAGE_SIZE);
    const bytes = new Uint8Array(mem.buffer);
    const taken = Array.from({ length: 6 }, () => mem.alloc(1));
    expect(mem.nrDirtyFree).toBe(0); // never-used frames need no zeroing
    for (const mfn of taken) bytes.fill(0x5a, mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE);
    taken.slice(0, 4).forEach((mfn) => mem.free(mfn));
    expect(mem.nrDirtyFree).toBe(4);
    expect(mem.scrub(3)).toBe(1); // three zeroed, one left
    const zero = (mfn: number): boolean => bytes.subarray(mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE).every((b) => b === 0);
    expect(taken.slice(0, 4).filter(zero)).toHaveLength(3);
    expect(taken.slice(4).some(zero)).toBe(false); // frames still owned are left alone
    expect(mem.scrub(10)).toBe(0);
    expect(taken.slice(0, 4).every(zero)).toBe(true);
    // Handed out again: zero, and the count stays right for frames allocated dirty.
    const again = Array.from({ length: 4 }, () => mem.alloc(2));
    expect(again.every(zero)).toBe(true);
    mem.free(taken[4]!);
    expect(mem.nrDirtyFree).toBe(1);
    expect(zero(mem.alloc(3))).toBe(true);
    expect(mem.nrDirtyFree).toBe(0);
  });
});
