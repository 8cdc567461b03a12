/**
 * Random operations against a plain byte model: writes, zero writes and flushes of random
 * offsets and lengths over a backing chain (raw base <- qcow2 <- qcow2 top), with reopens;
 * every byte is compared at the end and after each reopen, and the image stays consistent.
 */
import { describe, expect, it } from 'vitest';
import { checkQcow2 } from './check';
import { RawImage, type BlockImage } from './image';
import { createOverlay, openImage, type BackingResolver } from './open';
import { createQcow2 } from './qcow2';
import { MemoryStore } from './store';
import { firstDifference } from './bytes';
import { seededRandom } from '../../testing/support';

function sameBytes(got: Uint8Array, want: Uint8Array): void {
  const i = firstDifference(got, want);
  if (i >= 0) expect({ at: i, bytes: Array.from(got.subarray(i, i + 16)) }).toEqual({ at: i, bytes: Array.from(want.subarray(i, i + 16)) });
}

const rng = seededRandom;

describe('qcow2: random operations over a backing chain', () => {
  it.each([
    [1, 16],
    [2, 12],
    [3, 9],
  ])('seed %i, cluster_bits %i', (seed, bits) => {
    const rand = rng(seed * 7919);
    const SIZE = 3 << 20;
    const baseBytes = new Uint8Array(SIZE - 65536 * 3 - 512 * 5); // shorter than the overlay
    for (let i = 0; i < baseBytes.length; i++) baseBytes[i] = (i * 31 + (i >> 9)) & 0xff;
    const files: Record<string, MemoryStore> = { base: new MemoryStore(baseBytes) };
    const resolve: BackingResolver = (name) => (files[name] ? { store: new MemoryStore(files[name].bytes(), true), key: name } : undefined);
    const midStore = new MemoryStore();
    createOverlay(midStore, 'base', new RawImage(new MemoryStore(baseBytes), 'base'), SIZE - 65536, bits);
    const model = new Uint8Array(SIZE);
    model.set(baseBytes);
    // Write some data into the middle layer first.
    const mid = openImage(midStore, { name: 'mid', resolveBacking: resolve });
    const op = (img: BlockImage, limit: number): void => {
      const r = rand();
      const off = Math.floor((rand() * limit) / 512) * 512;
      const len = Math.min(limit - off, (1 + Math.floor(rand() * (rand() < 0.2 ? 300 : 24))) * 512);
      if (r < 0.8) {
        const d = new Uint8Array(len);
        const v = Math.floor(rand() * 256);
        for (let i = 0; i < len; i++) d[i] = (v + i * 7) & 0xff;
        img.write(off, d);
        model.set(d, off);
      } else if (r < 0.93) {
        img.writeZeroes(off, len);
        model.fill(0, off, off + len);
      } else img.flush();
    };
    for (let i = 0; i < 150; i++) op(mid, SIZE - 65536);
    mid.close();
    files.mid = new MemoryStore(midStore.bytes());
    const topStore = new MemoryStore();
    createQcow2(topStore, { size: SIZE, clusterBits: bits, backingName: 'mid', backingFormat: 'qcow2' });
    let top = openImage(topStore, { name: 'top', resolveBacking: resolve });
    // The top layer is larger than mid: bytes past mid's end read as zeros.
    model.fill(0, SIZE - 65536);
    const compare = (img: BlockImage): void => {
      const got = new Uint8Array(SIZE);
      img.read(0, got);
      sameBytes(got, model);
      // and in odd-sized pieces
      for (let k = 0; k < 20; k++) {
        const off = Math.floor((rand() * SIZE) / 512) * 512;
        const len = Math.min(SIZE - off, (1 + Math.floor(rand() * 200)) * 512);
        const b = new Uint8Array(len);
        img.read(off, b);
        sameBytes(b, model.subarray(off, off + len));
      }
    };
    compare(top);
    let store = topStore;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 200; i++) op(top, SIZE);
      compare(top);
      top.close();
      const c = checkQcow2(new MemoryStore(store.bytes()));
      expect(c.errors).toEqual([]);
      expect(c.leaks).toBe(0);
      store = new MemoryStore(store.bytes());
      top = openImage(store, { name: 'top', resolveBacking: resolve });
      compare(top);
    }
    top.close();
    expect(checkQcow2(new MemoryStore(midStore.bytes())).errors).toEqual([]);
    sameBytes(files.base!.bytes(), baseBytes);
  });
});
