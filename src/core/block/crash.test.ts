/**
 * Crash at every point. A recording store logs every write and flush of a qcow2 image at
 * work (allocations, copy-on-write over a backing file, zero clusters, refcount table
 * growth). Then:
 * - a process kill: every prefix of the log, applied in order, must give an image without
 *   refcount errors (leaks allowed) whose data is at least what the last completed flush
 *   made durable;
 * - a power cut: all epochs before a flush applied, and a random subset of the writes of
 *   the epoch in progress (the disk may persist them in any order), must give the same.
 */
import { describe, expect, it } from 'vitest';
import { firstDifference } from './bytes';
import { checkQcow2 } from './check';
import { RawImage } from './image';
import { createOverlay, openImage, type BackingResolver } from './open';
import { createQcow2 } from './qcow2';
import { MemoryStore } from './store';
import { seededRandom } from '../../testing/support';

type Op = { kind: 'write'; offset: number; data: Uint8Array } | { kind: 'flush' } | { kind: 'truncate'; size: number };

class RecordingStore extends MemoryStore {
  log: Op[] = [];
  override write(offset: number, data: Uint8Array): void {
    super.write(offset, data);
    this.log.push({ kind: 'write', offset, data: data.slice() });
  }
  override flush(): void {
    super.flush();
    this.log.push({ kind: 'flush' });
  }
  override truncate(size: number): void {
    super.truncate(size);
    this.log.push({ kind: 'truncate', size });
  }
}

function replay(initial: Uint8Array, ops: readonly Op[]): MemoryStore {
  const s = new MemoryStore(initial);
  for (const op of ops) {
    if (op.kind === 'write') s.write(op.offset, op.data);
    else if (op.kind === 'truncate') s.truncate(op.size);
  }
  return s;
}

const rng = seededRandom;

describe('qcow2: crash at every point', () => {
  it.each([
    [9, true],
    [12, false],
    [16, true],
  ])('cluster_bits %i, backing file %s', (bits, withBacking) => {
    const SIZE = 1 << 20;
    const baseBytes = new Uint8Array(SIZE);
    for (let i = 0; i < SIZE; i++) baseBytes[i] = (i * 7 + (i >> 10)) & 0xff;
    const resolve: BackingResolver = (name) => (name === 'base' ? { store: new MemoryStore(baseBytes, true), key: 'base' } : undefined);
    const init = new MemoryStore();
    if (withBacking) createOverlay(init, 'base', new RawImage(new MemoryStore(baseBytes), 'base'), SIZE, bits);
    else createQcow2(init, { size: SIZE, clusterBits: bits });
    const initial = init.bytes();
    const store = new RecordingStore(initial);
    const img = openImage(store, { name: 'c', resolveBacking: resolve });
    const model = withBacking ? baseBytes.slice() : new Uint8Array(SIZE);
    /** The model as of each flush in the log (index of the flush op -> bytes). */
    const durableAt = new Map<number, Uint8Array>();
    const rand = rng(bits * 31 + (withBacking ? 1 : 0));
    for (let i = 0; i < 60; i++) {
      const len = (1 + Math.floor(rand() * 16)) * 512;
      const off = Math.floor((rand() * (SIZE - len)) / 512) * 512;
      if (rand() < 0.15) {
        img.writeZeroes(off, len);
        model.fill(0, off, off + len);
      } else {
        const d = new Uint8Array(len).fill(1 + (i % 250));
        img.write(off, d);
        model.set(d, off);
      }
      if (i % 7 === 6) {
        img.flush();
        durableAt.set(store.log.length - 1, model.slice());
      }
    }
    img.close();
    durableAt.set(store.log.length - 1, model.slice());
    const log = store.log;
    const initialModel = withBacking ? baseBytes : new Uint8Array(SIZE);
    const verify = (s: MemoryStore, durable: Uint8Array, exact: boolean): void => {
      const c = checkQcow2(new MemoryStore(s.bytes()));
      expect(c.errors).toEqual([]);
      const got = new Uint8Array(SIZE);
      openImage(s, { name: 'c', resolveBacking: resolve, readOnly: true }).read(0, got);
      if (exact) expect(firstDifference(got, durable)).toBe(-1);
    };
    // Process kill after every write: the image is consistent; at flush boundaries the data is exact.
    let lastDurable: Uint8Array = initialModel;
    for (let k = 0; k <= log.length; k++) {
      const d = durableAt.get(k - 1);
      if (d !== undefined) lastDurable = d;
      // Exactness only holds at a flush boundary: later writes may already show.
      verify(replay(initial, log.slice(0, k)), lastDurable, d !== undefined);
    }
    // Power cut: epochs before flush e applied, a random subset of epoch e's writes.
    const flushes = log.flatMap((op, i) => (op.kind === 'flush' ? [i] : []));
    let start = 0;
    for (const f of flushes) {
      const epoch = log.slice(start, f);
      for (let sample = 0; sample < 8; sample++) {
        const subset = epoch.filter(() => rand() < 0.5);
        verify(replay(initial, [...log.slice(0, start), ...subset]), initialModel, false);
      }
      start = f + 1;
    }
  });
});
