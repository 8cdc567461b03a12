import { describe, expect, it } from 'vitest';
import { firstDifference } from './bytes';
import { checkQcow2 } from './check';
import { ImageError, RawImage, type BlockImage } from './image';
import { createOverlay, openImage, type BackingResolver } from './open';
import { Qcow2Image, createQcow2 } from './qcow2';
import { MemoryStore } from './store';

const MiB = 1 << 20;

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function newQcow2(size: number, clusterBits = 16): MemoryStore {
  const s = new MemoryStore();
  createQcow2(s, { size, clusterBits });
  return s;
}

function consistent(store: MemoryStore | Uint8Array): void {
  const s = new MemoryStore(store instanceof MemoryStore ? store.bytes() : store);
  const r = checkQcow2(s);
  expect(r.errors).toEqual([]);
  expect(r.leaks).toBe(0);
}

/** Byte arrays compared fast (toEqual walks them element by element); the first difference is shown. */
function sameBytes(got: Uint8Array, want: Uint8Array): void {
  const i = firstDifference(got, want);
  if (i >= 0) expect({ at: i, bytes: Array.from(got.subarray(i, i + 16)) }).toEqual({ at: i, bytes: Array.from(want.subarray(i, i + 16)) });
}

function readAll(img: BlockImage, off: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  img.read(off, b);
  return b;
}

/** A set of named memory stores and a resolver over them (names are keys); it opens a read-only copy, as a file opened read-only. */
function library(files: Record<string, MemoryStore>): BackingResolver {
  return (name) => (files[name] ? { store: new MemoryStore(files[name].bytes(), true), key: name } : undefined);
}

describe('qcow2: empty images', () => {
  it.each([9, 12, 16, 21])('cluster_bits %i: create, write, read back, reopen, consistent', (bits) => {
    const s = newQcow2(8 * MiB, bits);
    consistent(s);
    const img = openImage(s, { name: 'a.qcow2', format: 'qcow2' });
    expect(img.size).toBe(8 * MiB);
    sameBytes(readAll(img, 0, 65536), new Uint8Array(65536));
    const d = pattern(3 * 4096 + 512, bits);
    img.write(5 * 4096 - 512, d);
    img.write(8 * MiB - 1024, pattern(1024, 7));
    sameBytes(readAll(img, 5 * 4096 - 512, d.length), d);
    img.flush();
    consistent(s);
    img.close();
    const again = openImage(new MemoryStore(s.bytes()), { name: 'a.qcow2' });
    expect(again.format).toBe('qcow2');
    sameBytes(readAll(again, 5 * 4096 - 512, d.length), d);
    sameBytes(readAll(again, 8 * MiB - 1024, 1024), pattern(1024, 7));
    sameBytes(readAll(again, 0, 4096), new Uint8Array(4096));
  });

  it('reads past the end as zeros and refuses writes past it, and misaligned requests', () => {
    const img = openImage(newQcow2(MiB), { name: 'x' });
    sameBytes(readAll(img, MiB - 512, 2048), new Uint8Array(2048));
    expect(() => img.write(MiB, new Uint8Array(512))).toThrow(/past the end/);
    expect(() => img.write(100, new Uint8Array(512))).toThrow(/not aligned/);
    expect(() => img.read(0, new Uint8Array(100))).toThrow(/not aligned/);
  });

  it('sector API and info', () => {
    const s = newQcow2(4 * MiB);
    const img = openImage(s, { name: 'disk.qcow2' });
    img.writeSectors(9, pattern(1024, 3));
    const b = new Uint8Array(1024);
    img.readSectors(9, b);
    sameBytes(b, pattern(1024, 3));
    const info = img.info();
    expect(info).toMatchObject({
      name: 'disk.qcow2',
      format: 'qcow2',
      virtualSize: 4 * MiB,
      clusterSize: 65536,
      version: 3,
      allocatedBytes: 65536,
      readOnly: false,
    });
    expect(info.backing).toBeUndefined();
  });

  it('grows the refcount table (512-byte clusters) and stays consistent', () => {
    const s = newQcow2(16 * MiB, 9);
    const img = openImage(s, { name: 'g' });
    const d = pattern(MiB, 1);
    for (let i = 0; i < 12; i++) {
      img.write(i * MiB, d);
      if (i % 4 === 3) img.flush();
    }
    img.flush();
    consistent(s);
    const again = openImage(new MemoryStore(s.bytes()), { name: 'g' });
    for (let i = 0; i < 12; i++) sameBytes(readAll(again, i * MiB, MiB), d);
    const h = (again as Qcow2Image).header;
    expect(h.refTableClusters).toBeGreaterThan(1);
  });

  it('a second flush with nothing new only syncs', () => {
    const s = newQcow2(MiB);
    const img = openImage(s, { name: 'f' });
    img.write(0, pattern(4096, 1));
    const w0 = s.writes;
    img.flush();
    const w1 = s.writes;
    expect(w1).toBeGreaterThan(w0);
    img.flush();
    expect(s.writes).toBe(w1);
    img.write(0, pattern(4096, 2)); // in place: no metadata
    const f = s.flushes;
    img.flush();
    expect(s.flushes).toBe(f + 1);
  });

  it('reads a version 2 image and writes it (no zero flag there)', () => {
    const s = newQcow2(2 * MiB);
    const b = s.bytes();
    new DataView(b.buffer).setUint32(4, 2);
    const v2 = new MemoryStore(b);
    const img = openImage(v2, { name: 'v2' });
    expect(img.info().version).toBe(2);
    img.write(65536, pattern(65536, 4));
    img.writeZeroes(0, 65536);
    img.writeZeroes(65536 * 2, 65536);
    img.flush();
    consistent(v2);
    sameBytes(readAll(img, 65536, 65536), pattern(65536, 4));
    sameBytes(readAll(img, 0, 65536), new Uint8Array(65536));
  });
});

describe('qcow2: zero clusters', () => {
  it('writeZeroes sets the zero flag on whole clusters and writes zeros on partial ones', () => {
    const s = newQcow2(4 * MiB);
    const img = openImage(s, { name: 'z' });
    img.write(0, pattern(4 * 65536, 5));
    img.writeZeroes(65536 - 4096, 65536 + 8192);
    const want = pattern(4 * 65536, 5);
    want.fill(0, 65536 - 4096, 2 * 65536 + 4096);
    sameBytes(readAll(img, 0, 4 * 65536), want);
    img.flush();
    consistent(s);
    // the whole cluster keeps its preallocation: writing it again reuses it, its stale bytes read as zeros
    const size0 = s.size;
    img.write(65536 + 512, pattern(512, 9));
    want.set(pattern(512, 9), 65536 + 512);
    sameBytes(readAll(img, 0, 4 * 65536), want);
    expect(s.size).toBe(size0);
    img.flush();
    consistent(s);
    const again = openImage(new MemoryStore(s.bytes()), { name: 'z' });
    sameBytes(readAll(again, 0, 4 * 65536), want);
  });

  it('a zero cluster hides the backing file', () => {
    const base = new MemoryStore(pattern(MiB, 11));
    const top = new MemoryStore();
    createOverlay(top, 'base.raw', new RawImage(base, 'base.raw'));
    const img = openImage(top, { name: 'top', resolveBacking: library({ 'base.raw': base }) });
    img.writeZeroes(65536, 65536);
    const want = pattern(MiB, 11);
    want.fill(0, 65536, 131072);
    sameBytes(readAll(img, 0, MiB), want);
    img.write(65536 + 1024, pattern(512, 1)); // allocate over a zero cluster: the rest stays zero, not backing
    want.set(pattern(512, 1), 65536 + 1024);
    sameBytes(readAll(img, 0, MiB), want);
    img.close();
    consistent(top);
    sameBytes(base.bytes(), pattern(MiB, 11));
  });
});

describe('qcow2: backing chains', () => {
  it('overlay over raw: copy-on-write of partial clusters, base untouched, reopen via the resolver', () => {
    const base = new MemoryStore(pattern(3 * MiB, 1), true);
    const top = new MemoryStore();
    createOverlay(top, 'base.raw', new RawImage(base, 'base.raw'));
    const files = { 'base.raw': base };
    const img = openImage(top, { name: 'top.qcow2', resolveBacking: library(files) });
    expect(img.size).toBe(3 * MiB);
    expect(img.backing?.readOnly).toBe(true);
    const want = pattern(3 * MiB, 1);
    sameBytes(readAll(img, 0, 3 * MiB), want);
    const d = pattern(1536, 2);
    img.write(70000 - (70000 % 512), d);
    want.set(d, 70000 - (70000 % 512));
    sameBytes(readAll(img, 0, 3 * MiB), want);
    img.flush();
    consistent(top);
    const info = img.info();
    expect(info.backingName).toBe('base.raw');
    expect(info.backingFormat).toBe('raw');
    expect(info.backing?.format).toBe('raw');
    expect(info.allocatedBytes).toBe(65536);
    const again = openImage(new MemoryStore(top.bytes()), { name: 'top.qcow2', resolveBacking: library(files) });
    sameBytes(readAll(again, 0, 3 * MiB), want);
    sameBytes(base.bytes(), pattern(3 * MiB, 1));
  });

  it('a chain raw <- qcow2 <- qcow2 reads the nearest layer', () => {
    const base = new MemoryStore(pattern(MiB, 1));
    const mid = new MemoryStore();
    createOverlay(mid, 'base', new RawImage(base, 'base'));
    const files: Record<string, MemoryStore> = { base, mid };
    const m = openImage(mid, { name: 'mid', resolveBacking: library(files) });
    m.write(0, pattern(65536, 2));
    m.close();
    const top = new MemoryStore();
    const midAgain = openImage(new MemoryStore(mid.bytes()), { name: 'mid', resolveBacking: library(files) });
    createOverlay(top, 'mid', midAgain);
    midAgain.close();
    const t = openImage(top, { name: 'top', resolveBacking: library(files) });
    t.write(65536, pattern(512, 3));
    const want = pattern(MiB, 1);
    want.set(pattern(65536, 2), 0);
    want.set(pattern(512, 3), 65536);
    sameBytes(readAll(t, 0, MiB), want);
    expect(t.info().backing?.backing?.format).toBe('raw');
    expect(() => t.backing!.write(0, new Uint8Array(512))).toThrow(/read-only/);
  });

  it('an overlay larger than its backing file reads zeros past the base', () => {
    const base = new MemoryStore(pattern(65536 + 512, 1));
    const top = new MemoryStore();
    createOverlay(top, 'b', new RawImage(base, 'b'), MiB);
    const img = openImage(top, { name: 't', resolveBacking: library({ b: base }) });
    const want = new Uint8Array(MiB);
    want.set(pattern(65536 + 512, 1));
    sameBytes(readAll(img, 0, MiB), want);
    img.write(65536 + 1024, pattern(512, 5));
    want.set(pattern(512, 5), 65536 + 1024);
    sameBytes(readAll(img, 0, MiB), want);
  });

  it('refuses loops, missing backing files, unknown backing formats and too-deep chains', () => {
    const a = new MemoryStore();
    const b = new MemoryStore();
    createQcow2(a, { size: MiB, backingName: 'b', backingFormat: 'qcow2' });
    createQcow2(b, { size: MiB, backingName: 'a', backingFormat: 'qcow2' });
    expect(() => openImage(a, { name: 'a', resolveBacking: library({ a, b }) })).toThrow(/^a: backing file loop$/);
    const self = new MemoryStore();
    createQcow2(self, { size: MiB, backingName: 'self', backingFormat: 'qcow2' });
    expect(() => openImage(self, { name: 'self', resolveBacking: library({ self }) })).toThrow(/loop/);
    const lone = new MemoryStore();
    createQcow2(lone, { size: MiB, backingName: 'gone.raw', backingFormat: 'raw' });
    expect(() => openImage(lone, { name: 'lone', resolveBacking: library({}) })).toThrow(/^lone: backing file 'gone.raw' not found$/);
    expect(lone.size).toBeGreaterThan(0); // the caller's store stays open
    expect(() => openImage(lone, { name: 'lone' })).toThrow(/no way to find it/);
    const odd = new MemoryStore();
    createQcow2(odd, { size: MiB, backingName: 'x', backingFormat: 'raw' });
    const bytes = odd.bytes();
    const at = bytes.indexOf(0x72, 112); // the 'r' of "raw" in the backing format extension
    bytes.set([0x76, 0x6d, 0x64], at); // "vmd"
    expect(() => openImage(new MemoryStore(bytes), { name: 'odd', resolveBacking: library({ x: new MemoryStore(MiB) }) })).toThrow(
      /format 'vmd' is not supported/,
    );
    const files: Record<string, MemoryStore> = { l0: new MemoryStore(MiB) };
    for (let i = 1; i <= 20; i++) {
      files[`l${i}`] = new MemoryStore();
      createQcow2(files[`l${i}`]!, { size: MiB, backingName: `l${i - 1}`, backingFormat: i === 1 ? 'raw' : 'qcow2' });
    }
    expect(() => openImage(files.l20!, { name: 'l20', resolveBacking: library(files) })).toThrow(/deeper than 16/);
  });
});

/** Build a valid image and then damage it. */
function damaged(mutate: (v: DataView, b: Uint8Array) => void, size = MiB): Uint8Array {
  const s = new MemoryStore();
  createQcow2(s, { size });
  const img = new Qcow2Image(s, { name: 'x', readOnly: false });
  img.write(0, pattern(4096, 1));
  img.close();
  const b = s.bytes();
  mutate(new DataView(b.buffer), b);
  return b;
}

function openErr(b: Uint8Array, readOnly = false): string {
  try {
    openImage(new MemoryStore(b), { name: 'bad.qcow2', format: 'qcow2', readOnly }).close();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    const m = (e as Error).message;
    expect(m.split('\n')).toHaveLength(1);
    return m;
  }
  return 'opened';
}

describe('qcow2: refusals, one line each', () => {
  const l1Off = (v: DataView): number => v.getUint32(44);
  const l2Off = (v: DataView): number => v.getUint32(l1Off(v) + 4);
  it.each<[string, (v: DataView, b: Uint8Array) => void, RegExp]>([
    ['bad magic', (v) => v.setUint32(0, 0x12345678), /bad magic/],
    ['version 4', (v) => v.setUint32(4, 4), /version 4 is not supported/],
    ['version 1', (v) => v.setUint32(4, 1), /version 1 is not supported/],
    ['cluster_bits 8', (v) => v.setUint32(20, 8), /cluster_bits 8 outside 9..21/],
    ['cluster_bits 22', (v) => v.setUint32(20, 22), /cluster_bits 22 outside/],
    ['AES encryption', (v) => v.setUint32(32, 1), /encrypted/],
    ['LUKS encryption', (v) => v.setUint32(32, 2), /encrypted/],
    ['external data file', (v) => v.setUint32(76, 4), /external data files/],
    ['extended L2 entries', (v) => v.setUint32(76, 16), /extended L2/],
    ['unknown incompatible bit', (v) => v.setUint32(76, 32), /unknown qcow2 incompatible feature bits 0x20/],
    ['unknown high incompatible bit', (v) => v.setUint32(72, 1), /unknown incompatible feature bits/],
    ['compressed cluster', (v) => v.setUint32(l2Off(v), v.getUint32(l2Off(v)) | 0x40000000), /compressed clusters are not supported/],
    ['L1 table past the end', (v) => v.setUint32(44, 0x100000), /L1 table .*past the end/],
    ['L1 table over the header', (v) => v.setUint32(44, 0), /L1 table overlaps the header/],
    ['L1 table misaligned', (v) => v.setUint32(44, l1Off(v) + 8), /not cluster-aligned/],
    ['refcount table over the header', (v) => v.setUint32(52, 0), /refcount table overlaps the header/],
    ['refcount table past the end', (v) => v.setUint32(56, 100), /refcount table .*past the end/],
    ['L1 and refcount table overlap', (v) => v.setUint32(52, l1Off(v)), /overlaps the refcount table/],
    ['L2 table past the end', (v) => v.setUint32(l1Off(v) + 4, 0x400000), /L2 table 0 .*past the end/],
    ['L2 table misaligned', (v) => v.setUint32(l1Off(v) + 4, 512), /L2 table 0 is not cluster-aligned/],
    ['data cluster past the end', (v) => v.setUint32(l2Off(v) + 4, 0x800000), /data cluster .*past the end/],
    ['data cluster in the header', (v) => v.setUint32(l2Off(v) + 4, 0), /overlaps the header cluster/],
    ['reserved bits in an L2 entry', (v) => v.setUint32(l2Off(v) + 4, v.getUint32(l2Off(v) + 4) | 2), /reserved bits/],
    ['L1 too small for the size', (v) => v.setUint32(36, 0), /does not cover/],
    ['size not a multiple of 512', (v) => v.setUint32(28, v.getUint32(28) + 1), /multiple of 512/],
    ['refcount_order 7', (v) => v.setUint32(96, 7), /refcount_order 7/],
    ['bad header length', (v) => v.setUint32(100, 100), /header length/],
  ])('%s', (_what, mutate, re) => {
    const m = openErr(damaged(mutate));
    expect(m).toMatch(re);
    expect(m).not.toBe('opened');
    expect(m).toMatch(/^bad\.qcow2: /);
  });

  it('more L2 metadata than is held in memory', () => {
    // 4097 L2 tables of 64 KiB are just over 256 MiB. Only the L1 entries are made; the
    // check comes before any table is read.
    const s = new MemoryStore();
    createQcow2(s, { size: 2 ** 41 + 2 ** 29 });
    const b = s.bytes();
    const v = new DataView(b.buffer);
    const l1 = v.getUint32(44);
    for (let i = 0; i < 4097; i++) v.setUint32(l1 + i * 8 + 4, (i + 8) * 65536);
    expect(openErr(b)).toMatch(/4097 L2 tables are more metadata than the 256 MiB held in memory/);
  });

  it('truncated files', () => {
    const whole = damaged(() => {});
    for (const n of [0, 4, 71, 100, 65536, whole.length - 65536]) expect(openErr(whole.slice(0, n))).toMatch(/truncated|past the end/);
  });

  it('dirty and corrupt bits and internal snapshots: read-only only', () => {
    for (const [bit, re] of [
      [1, /dirty/],
      [2, /corrupt/],
    ] as const) {
      const b = damaged((v) => v.setUint32(76, bit));
      expect(openErr(b)).toMatch(re);
      expect(openErr(b, true)).toBe('opened');
    }
    const snap = damaged((v) => {
      v.setUint32(60, 1);
      v.setUint32(68, 65536); // any cluster inside the file
    });
    expect(openErr(snap)).toMatch(/snapshots/);
    expect(openErr(snap, true)).toBe('opened');
  });

  it('a read-only image refuses writes', () => {
    const img = openImage(new MemoryStore(damaged(() => {})), { name: 'ro', readOnly: true });
    expect(() => img.write(0, new Uint8Array(512))).toThrow(/^ro: image is read-only$/);
  });

  it('clears autoclear bits before writing', () => {
    const b = damaged((v) => v.setUint32(92, 3));
    const s = new MemoryStore(b);
    const img = new Qcow2Image(s, { name: 'ac', readOnly: false });
    expect(new DataView(s.bytes().buffer).getUint32(92)).toBe(0);
    img.close();
    const ro = new MemoryStore(damaged((v) => v.setUint32(92, 3)));
    new Qcow2Image(ro, { name: 'ac', readOnly: true }).close();
    expect(new DataView(ro.bytes().buffer).getUint32(92)).toBe(3);
  });
});

describe('qcow2: crash consistency (what the last flush made durable)', () => {
  it('flushed data survives, unflushed allocations vanish without corrupting the image', () => {
    const base = new MemoryStore(pattern(2 * MiB, 3));
    const top = new MemoryStore();
    createOverlay(top, 'base', new RawImage(base, 'base'));
    const img = openImage(top, { name: 'top', resolveBacking: library({ base }) });
    const want = pattern(2 * MiB, 3);
    for (let i = 0; i < 20; i++) {
      const off = ((i * 97) % 60) * 32768;
      const d = pattern(4096, i);
      img.write(off, d);
      want.set(d, off);
    }
    img.flush();
    const durable = want.slice();
    img.write(MiB + 65536 * 3, pattern(8192, 99)); // not flushed
    img.write(0, pattern(512, 98)); // overwrite in place, not flushed: may or may not survive
    const crashed = new MemoryStore(top.durable());
    consistent(crashed);
    const after = openImage(crashed, { name: 'top', resolveBacking: library({ base }) });
    const got = readAll(after, 0, 2 * MiB);
    sameBytes(got.subarray(512), durable.subarray(512));
  });
});
