import { describe, expect, it } from 'vitest';
import { firstDifference } from './bytes';
import { checkByteStore } from './conformance';
import { RawImage, SECTOR_SIZE } from './image';
import { createOverlay, openImage, probeFormat } from './open';
import { createQcow2 } from './qcow2';
import { MemoryStore } from './store';

describe('MemoryStore', () => {
  it('keeps the ByteStore rules', () => {
    let last: MemoryStore | undefined;
    checkByteStore(
      () => (last = new MemoryStore()),
      () => new MemoryStore(last!.bytes(), true),
    );
  });

  it('reads zeros past the end, grows on writes with a zero gap, truncates, keeps what a flush made durable', () => {
    const s = new MemoryStore();
    s.write(1000, new Uint8Array([1, 2, 3]));
    expect(s.size).toBe(1003);
    const b = new Uint8Array(8).fill(9);
    expect(s.read(998, b)).toBe(5);
    expect(Array.from(b)).toEqual([0, 0, 1, 2, 3, 0, 0, 0]);
    expect(s.durable().length).toBe(0);
    s.flush();
    s.write(0, new Uint8Array([7]));
    expect(s.durable()[0]).toBe(0);
    expect(s.bytes()[0]).toBe(7);
    s.truncate(2);
    expect(s.size).toBe(2);
    s.truncate(10);
    expect(Array.from(s.bytes())).toEqual([7, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(s.flushes).toBe(1);
    const ro = new MemoryStore(4, true);
    expect(() => ro.write(0, new Uint8Array(1))).toThrow(/read-only/);
    s.close();
    expect(() => s.read(0, b)).toThrow(/closed/);
    expect(() => s.read(-1, b)).toThrow();
  });
});

describe('RawImage', () => {
  it('reads and writes sectors, zeros past the end, a partial last sector, writeZeroes, flush', () => {
    const store = new MemoryStore(3 * SECTOR_SIZE + 100);
    const img = new RawImage(store, 'r.raw');
    expect(img.size).toBe(3 * SECTOR_SIZE + 100);
    img.writeSectors(1, new Uint8Array(SECTOR_SIZE).fill(5));
    const b = new Uint8Array(2 * SECTOR_SIZE);
    img.readSectors(1, b);
    expect(firstDifference(b.subarray(0, SECTOR_SIZE), new Uint8Array(SECTOR_SIZE).fill(5))).toBe(-1);
    // the last sector is partial: its tail reads as zeros, a write to it keeps the file size
    img.write(3 * SECTOR_SIZE, new Uint8Array(SECTOR_SIZE).fill(6));
    expect(store.size).toBe(3 * SECTOR_SIZE + 100);
    img.read(3 * SECTOR_SIZE, b.subarray(0, SECTOR_SIZE));
    expect(b[99]).toBe(6);
    expect(b[100]).toBe(0);
    expect(() => img.write(4 * SECTOR_SIZE, new Uint8Array(SECTOR_SIZE))).toThrow(/past the end/);
    img.read(10 * SECTOR_SIZE, b);
    expect(firstDifference(b, new Uint8Array(b.length))).toBe(-1);
    img.writeZeroes(SECTOR_SIZE, SECTOR_SIZE);
    img.readSectors(1, b.subarray(0, SECTOR_SIZE));
    expect(firstDifference(b.subarray(0, SECTOR_SIZE), new Uint8Array(SECTOR_SIZE))).toBe(-1);
    img.flush();
    expect(store.flushes).toBe(1);
    expect(img.info()).toEqual({ name: 'r.raw', format: 'raw', virtualSize: 1636, fileSize: 1636, allocatedBytes: 1636, readOnly: false });
    img.close();
    expect(() => img.read(0, b)).toThrow(/^r\.raw: image is closed$/);
  });

  it('read-only raw images refuse writes and do not flush', () => {
    const store = new MemoryStore(4096, true);
    const img = new RawImage(store, 'ro');
    expect(img.readOnly).toBe(true);
    expect(() => img.write(0, new Uint8Array(512))).toThrow(/^ro: image is read-only$/);
    img.flush();
    expect(store.flushes).toBe(0);
  });
});

describe('openImage', () => {
  it('probes raw and qcow2 and honours an explicit format', () => {
    const q = new MemoryStore();
    createQcow2(q, { size: 1 << 20 });
    expect(probeFormat(q)).toBe('qcow2');
    expect(probeFormat(new MemoryStore(4096))).toBe('raw');
    expect(openImage(q, { name: 'q' }).format).toBe('qcow2');
    expect(openImage(new MemoryStore(q.bytes()), { name: 'q', format: 'raw' }).format).toBe('raw');
    expect(() => openImage(new MemoryStore(4096), { name: 'z', format: 'qcow2' })).toThrow(/^z: not a qcow2 image \(bad magic\)$/);
  });

  it('an overlay over a qcow2 base records qcow2 and the base size', () => {
    const base = new MemoryStore();
    createQcow2(base, { size: 3 << 20 });
    const b = openImage(base, { name: 'base' });
    const top = new MemoryStore();
    createOverlay(top, 'base', b);
    const t = openImage(top, {
      name: 'top',
      resolveBacking: (name) => (name === 'base' ? { store: new MemoryStore(base.bytes(), true), key: 'base' } : undefined),
    });
    expect(t.size).toBe(3 << 20);
    expect(t.info().backingFormat).toBe('qcow2');
    expect(t.info().backing?.readOnly).toBe(true);
  });
});
