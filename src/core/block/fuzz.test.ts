/**
 * Corrupt images: random bytes of a valid image's metadata (header, refcount table and
 * blocks, L1 and L2 tables) are changed; opening, reading, writing and flushing must
 * either work or fail with an ImageError of one line, never another exception or a hang.
 */
import { describe, expect, it } from 'vitest';
import { ImageError } from './image';
import { openImage, type BackingResolver } from './open';
import { createQcow2 } from './qcow2';
import { MemoryStore } from './store';
import { seededRandom } from '../../testing/support';

const rng = seededRandom;

describe('qcow2: corrupt metadata', () => {
  it('every outcome is success or a one-line ImageError', () => {
    const SIZE = 1 << 20;
    const base = new Uint8Array(SIZE).fill(0x42);
    const resolve: BackingResolver = (name) => (name === 'base' ? { store: new MemoryStore(base, true), key: 'base' } : undefined);
    const good = new MemoryStore();
    createQcow2(good, { size: SIZE, clusterBits: 12, backingName: 'base', backingFormat: 'raw' });
    const img = openImage(good, { name: 'good', resolveBacking: resolve });
    for (let i = 0; i < 40; i++) img.write(i * 24576, new Uint8Array(4096).fill(i));
    img.close();
    const pristine = good.bytes();
    // metadata lies in the first clusters and in the L2 table; data clusters come after
    const metaEnd = 6 * 4096;
    const rand = rng(12345);
    let opened = 0;
    let refused = 0;
    for (let iter = 0; iter < 1000; iter++) {
      const b = pristine.slice();
      const flips = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < flips; k++) {
        const at = rand() < 0.3 ? Math.floor(rand() * 112) : Math.floor(rand() * metaEnd);
        b[at] = rand() < 0.5 ? Math.floor(rand() * 256) : b[at]! ^ (1 << Math.floor(rand() * 8));
      }
      const cut = rand() < 0.1 ? Math.floor(rand() * b.length) : b.length;
      const store = new MemoryStore(b.subarray(0, cut));
      try {
        const im = openImage(store, { name: 'fuzz', resolveBacking: resolve });
        const buf = new Uint8Array(Math.min(im.size, 1 << 20));
        im.read(0, buf);
        if (im.size >= 8192) {
          im.write(4096, new Uint8Array(4096).fill(7));
          im.writeZeroes(0, 4096);
        }
        im.flush();
        im.close();
        opened++;
      } catch (e) {
        if (!(e instanceof ImageError)) throw new Error(`iteration ${iter}: ${String(e)}`, { cause: e });
        expect(e.message.split('\n')).toHaveLength(1);
        refused++;
      }
    }
    expect(opened + refused).toBe(1000);
    expect(refused).toBeGreaterThan(100);
    expect(opened).toBeGreaterThan(100);
  });
});
