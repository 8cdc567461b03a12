/**
 * qcow2 images (QEMU's docs/interop/qcow2.txt): version 3 read and write, version 2 read and
 * write, backing files, zero clusters. Written from the specification.
 *
 * Refused with a one-line ImageError: bad magic or version, cluster_bits outside 9..21,
 * encryption, external data files, extended L2 entries, unknown incompatible feature bits,
 * compressed clusters, tables that point past the end of the file, into the header cluster
 * or at each other, truncated files; for writing also: the dirty and corrupt bits and
 * internal snapshots.
 *
 * Metadata is held in memory (the L1 table, every L2 table, the refcount table and every
 * refcount block: about 1/8192 of the image with 64 KiB clusters). Refcounts are kept exact
 * (no lazy refcounts, the dirty bit is never set). Guest data is written at once; a new
 * cluster's refcount and the L2/L1 entries that point at it are written by flush(), in the
 * order that leaves a consistent image after a crash at any point:
 *   data and refcount blocks (and a moved refcount table) -> stable -> refcount table
 *   entries for new blocks -> stable -> header if the refcount table moved -> stable ->
 *   L2 tables -> stable -> L1 entries for new L2 tables -> stable.
 * (The extra stable points are taken only when a new refcount block or L2 table exists.)
 * A crash before flush() loses the writes since the last flush (a volatile write cache, as
 * a disk with feature-flush-cache has) and at worst leaves leaked clusters, never an entry
 * pointing at a cluster whose refcount is 0.
 */
import { ImageError, SECTOR_SIZE, checkIo, roundUp, type BlockImage, type ImageInfo } from './image';
import type { ByteStore } from './store';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
const V2_HEADER = 72;
const V3_HEADER = 104;
/** What hyperlab writes: v3 header with the compression_type byte, padded to 8 (as QEMU). */
const CREATE_HEADER = 112;
const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_FEATURE_TABLE = 0x6803f857;

export const INCOMPAT_DIRTY = 1;
export const INCOMPAT_CORRUPT = 2;
export const INCOMPAT_DATA_FILE = 4;
export const INCOMPAT_COMPRESSION = 8;
export const INCOMPAT_EXTL2 = 16;
export const INCOMPAT_KNOWN = 31;

/** QEMU's own limits, also ours (they bound what one header can make us allocate). */
const MAX_L1_BYTES = 32 << 20;
const MAX_REFTABLE_BYTES = 8 << 20;
const TWO32 = 0x1_0000_0000;
/** L2 tables and refcount blocks are all held in memory: at most this much of them (2 TiB of data in 64 KiB clusters). */
export const MAX_METADATA_BYTES = 256 << 20;

export function isQcow2(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb;
}

/** Size in bytes of the L1 table that covers `size` bytes with 2^clusterBits clusters. */
function l1EntriesFor(size: number, clusterBits: number): number {
  const perL2 = 2 ** (clusterBits - 3) * 2 ** clusterBits;
  return Math.ceil(size / perL2);
}

export interface Qcow2CreateOptions {
  /** Virtual size in bytes (rounded up to 512). */
  size: number;
  /** 9..21; default 16 (64 KiB clusters, QEMU's default). */
  clusterBits?: number;
  /** Backing file name as it is to be recorded, and its format. */
  backingName?: string;
  backingFormat?: 'raw' | 'qcow2';
}

/**
 * Write an empty qcow2 v3 image into an empty store: header (+ backing format extension and
 * backing name), refcount table, refcount blocks, L1 table. Flushes.
 */
export function createQcow2(store: ByteStore, opts: Qcow2CreateOptions): void {
  const bits = opts.clusterBits ?? 16;
  if (!Number.isInteger(bits) || bits < 9 || bits > 21) throw new RangeError(`cluster_bits ${bits} outside 9..21`);
  const size = roundUp(opts.size, SECTOR_SIZE);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad image size ${opts.size}`);
  const cs = 2 ** bits;
  const l1Entries = l1EntriesFor(size, bits);
  if (l1Entries * 8 > MAX_L1_BYTES) throw new RangeError(`image of ${size} bytes needs an L1 table above ${MAX_L1_BYTES} bytes`);
  const l1Clusters = Math.max(1, Math.ceil((l1Entries * 8) / cs));
  const rbEntries = (cs * 8) / 16;
  // Layout: header | refcount table | refcount blocks | L1. Find the fixed point.
  let tableClusters = 1;
  let blocks = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const needBlocks = Math.ceil(total / rbEntries);
    const needTable = Math.ceil((needBlocks * 8) / cs);
    if (needBlocks <= blocks && needTable <= tableClusters) break;
    blocks = Math.max(blocks, needBlocks);
    tableClusters = Math.max(tableClusters, needTable);
  }
  const tableOff = cs;
  const blocksOff = tableOff + tableClusters * cs;
  const l1Off = blocksOff + blocks * cs;
  const total = 1 + tableClusters + blocks + l1Clusters;

  const enc = new TextEncoder();
  const head = new Uint8Array(cs);
  const v = new DataView(head.buffer);
  v.setUint32(0, QCOW2_MAGIC);
  v.setUint32(4, 3);
  v.setUint32(20, bits);
  set64(v, 24, size);
  v.setUint32(32, 0);
  v.setUint32(36, l1Entries);
  set64(v, 40, l1Off);
  set64(v, 48, tableOff);
  v.setUint32(56, tableClusters);
  v.setUint32(60, 0);
  set64(v, 64, 0);
  // incompatible, compatible, autoclear features all 0
  v.setUint32(96, 4); // refcount_order: 16-bit refcounts
  v.setUint32(100, CREATE_HEADER);
  let pos = CREATE_HEADER;
  const ext = (type: number, data: Uint8Array): void => {
    v.setUint32(pos, type);
    v.setUint32(pos + 4, data.length);
    head.set(data, pos + 8);
    pos += 8 + roundUp(data.length, 8);
  };
  if (opts.backingName !== undefined) {
    if (opts.backingFormat !== undefined) {
      const f = enc.encode(opts.backingFormat);
      if (pos + 8 + roundUp(f.length, 8) + 8 > cs) throw new RangeError('backing format does not fit in the header cluster');
      ext(EXT_BACKING_FORMAT, f);
    }
  }
  // The feature name table is optional: left out when it would not fit (512-byte clusters).
  const names = featureTable();
  const nameLen = opts.backingName === undefined ? 0 : enc.encode(opts.backingName).length;
  if (pos + 8 + names.length + 8 + nameLen <= cs) ext(EXT_FEATURE_TABLE, names);
  v.setUint32(pos, EXT_END);
  v.setUint32(pos + 4, 0);
  pos += 8;
  if (opts.backingName !== undefined) {
    const name = enc.encode(opts.backingName);
    if (name.length === 0 || name.length > 1023) throw new RangeError('backing file name must be 1..1023 bytes');
    if (pos + name.length > cs) throw new RangeError('backing file name does not fit in the header cluster');
    head.set(name, pos);
    set64(v, 8, pos);
    v.setUint32(16, name.length);
  }
  if (store.size !== 0) store.truncate(0);
  store.write(0, head);
  const table = new Uint8Array(tableClusters * cs);
  const tv = new DataView(table.buffer);
  for (let b = 0; b < blocks; b++) set64(tv, b * 8, blocksOff + b * cs);
  store.write(tableOff, table);
  const rb = new Uint8Array(blocks * cs);
  const rv = new DataView(rb.buffer);
  for (let c = 0; c < total; c++) rv.setUint16(c * 2, 1);
  store.write(blocksOff, rb);
  store.write(l1Off, new Uint8Array(l1Clusters * cs));
  store.flush();
}

/** The feature name table QEMU writes (names for the bits, for tools that do not know them). */
function featureTable(): Uint8Array {
  const names: [number, number, string][] = [
    [0, 0, 'dirty bit'],
    [0, 1, 'corrupt bit'],
    [0, 2, 'external data file'],
    [0, 3, 'compression type'],
    [0, 4, 'extended L2 entries'],
    [1, 0, 'lazy refcounts'],
    [2, 0, 'bitmaps'],
    [2, 1, 'raw external data'],
  ];
  const out = new Uint8Array(names.length * 48);
  const enc = new TextEncoder();
  names.forEach(([type, bit, name], i) => {
    out[i * 48] = type;
    out[i * 48 + 1] = bit;
    out.set(enc.encode(name), i * 48 + 2);
  });
  return out;
}

function set64(v: DataView, at: number, n: number): void {
  v.setUint32(at, Math.floor(n / TWO32));
  v.setUint32(at + 4, n >>> 0);
}

function get64(v: DataView, at: number): number {
  return v.getUint32(at) * TWO32 + v.getUint32(at + 4);
}

/** Parsed header facts needed before the backing chain is opened. */
export interface Qcow2Header {
  version: number;
  clusterBits: number;
  size: number;
  l1Size: number;
  l1Offset: number;
  refTableOffset: number;
  refTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatible: number;
  compatible: number;
  autoclear: number;
  refcountOrder: number;
  headerLength: number;
  backingName: string | undefined;
  backingFormat: string | undefined;
}

/** Read and check the header; every refusal is one line. */
export function readQcow2Header(store: ByteStore, name: string): Qcow2Header {
  const fail = (what: string): never => {
    throw new ImageError(name, what);
  };
  const fileSize = store.size;
  if (fileSize < V2_HEADER) fail(`truncated qcow2 image (${fileSize} bytes, the header alone is ${V2_HEADER})`);
  const first = new Uint8Array(Math.min(fileSize, 4096));
  store.read(0, first);
  let v = new DataView(first.buffer);
  if (v.getUint32(0) !== QCOW2_MAGIC) fail('not a qcow2 image (bad magic)');
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) fail(`qcow2 version ${version} is not supported (only 2 and 3)`);
  const clusterBits = v.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21) fail(`qcow2 cluster_bits ${clusterBits} outside 9..21`);
  const cs = 2 ** clusterBits;
  let head = first;
  if (cs > first.length) {
    head = new Uint8Array(Math.min(cs, fileSize));
    store.read(0, head);
    v = new DataView(head.buffer);
  }
  if (v.getUint32(8) !== 0) fail('backing file offset out of range');
  const size = get64(v, 24);
  if (v.getUint32(24) >= 0x200000) fail('virtual size too large');
  const crypt = v.getUint32(32);
  if (crypt !== 0) fail(`encrypted qcow2 images are not supported (crypt_method ${crypt})`);
  const l1Size = v.getUint32(36);
  const l1Offset = get64(v, 40);
  const refTableOffset = get64(v, 48);
  const refTableClusters = v.getUint32(56);
  const nbSnapshots = v.getUint32(60);
  const snapshotsOffset = get64(v, 64);
  let incompatible = 0;
  let compatible = 0;
  let autoclear = 0;
  let refcountOrder = 4;
  let headerLength = V2_HEADER;
  if (version === 3) {
    if (fileSize < V3_HEADER) fail(`truncated qcow2 image (${fileSize} bytes, the v3 header alone is ${V3_HEADER})`);
    if (v.getUint32(72) !== 0) fail(`unknown incompatible feature bits 0x${v.getUint32(72).toString(16)}00000000`);
    incompatible = v.getUint32(76);
    compatible = get64(v, 80);
    autoclear = get64(v, 88);
    refcountOrder = v.getUint32(96);
    headerLength = v.getUint32(100);
    if (headerLength < V3_HEADER || headerLength % 8 !== 0 || headerLength > cs) fail(`bad qcow2 header length ${headerLength}`);
    if (incompatible & INCOMPAT_DATA_FILE) fail('qcow2 external data files are not supported');
    if (incompatible & INCOMPAT_EXTL2) fail('qcow2 extended L2 entries (subclusters) are not supported');
    if (incompatible & ~INCOMPAT_KNOWN) fail(`unknown qcow2 incompatible feature bits 0x${(incompatible & ~INCOMPAT_KNOWN).toString(16)}`);
    if (refcountOrder > 6) fail(`qcow2 refcount_order ${refcountOrder} above 6`);
  }
  if (head.length < Math.min(cs, headerLength)) fail('truncated qcow2 image (header cluster incomplete)');
  // Header extensions.
  let backingFormat: string | undefined;
  const dec = new TextDecoder();
  let pos = headerLength;
  for (;;) {
    if (pos + 8 > head.length) {
      if (pos + 8 > cs) fail('qcow2 header extensions run past the first cluster');
      break; // file ends inside the first cluster after the last extension: treat as the end
    }
    const type = v.getUint32(pos);
    const len = v.getUint32(pos + 4);
    if (type === EXT_END) break;
    if (pos + 8 + len > head.length) fail('qcow2 header extension runs past the first cluster');
    if (type === EXT_BACKING_FORMAT) backingFormat = dec.decode(head.subarray(pos + 8, pos + 8 + len));
    pos += 8 + roundUp(len, 8);
  }
  let backingName: string | undefined;
  const bOff = get64(v, 8);
  if (bOff !== 0) {
    const bLen = v.getUint32(16);
    if (bLen === 0 || bLen > 1023) fail(`bad backing file name length ${bLen}`);
    if (bOff + bLen > Math.min(cs, fileSize)) fail('backing file name lies past the header cluster or the end of the file');
    backingName = dec.decode(head.subarray(bOff, bOff + bLen));
  }
  if (size % SECTOR_SIZE !== 0) fail(`virtual size ${size} is not a multiple of ${SECTOR_SIZE}`);
  if (l1Size * 8 > MAX_L1_BYTES) fail(`L1 table of ${l1Size} entries is too large`);
  if (l1Size < l1EntriesFor(size, clusterBits)) fail(`L1 table of ${l1Size} entries does not cover the virtual size ${size}`);
  if (refTableClusters * cs > MAX_REFTABLE_BYTES) fail(`refcount table of ${refTableClusters} clusters is too large`);
  checkTable(fail, 'L1 table', l1Offset, l1Size * 8, cs, fileSize);
  checkTable(fail, 'refcount table', refTableOffset, refTableClusters * cs, cs, fileSize);
  if (refTableClusters === 0) fail('qcow2 refcount table is empty');
  if (l1Size > 0 && overlaps(l1Offset, l1Size * 8, refTableOffset, refTableClusters * cs)) fail('L1 table overlaps the refcount table');
  if (nbSnapshots > 0) checkTable(fail, 'snapshot table', snapshotsOffset, 1, cs, fileSize);
  return {
    version,
    clusterBits,
    size,
    l1Size,
    l1Offset,
    refTableOffset,
    refTableClusters,
    nbSnapshots,
    snapshotsOffset,
    incompatible,
    compatible,
    autoclear,
    refcountOrder,
    headerLength,
    backingName,
    backingFormat,
  };
}

function checkTable(fail: (w: string) => never, what: string, offset: number, bytes: number, cs: number, fileSize: number): void {
  if (bytes === 0) return;
  if (offset % cs !== 0) fail(`${what} offset 0x${offset.toString(16)} is not cluster-aligned`);
  if (offset < cs) fail(`${what} overlaps the header cluster`);
  if (offset + bytes > fileSize) fail(`${what} at 0x${offset.toString(16)} runs past the end of the file (truncated image?)`);
}

function overlaps(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}

export interface Qcow2OpenOptions {
  name: string;
  readOnly: boolean;
  backing?: BlockImage | undefined;
}

/** Cluster kinds as lookup() reports them. */
const UNALLOCATED = 0;
const NORMAL = 1;
const ZERO = 2;

export class Qcow2Image implements BlockImage {
  readonly format = 'qcow2';
  readonly name: string;
  readonly size: number;
  readonly readOnly: boolean;
  readonly backing: BlockImage | undefined;
  readonly header: Qcow2Header;

  private readonly cs: number;
  private readonly l2Entries: number;
  private readonly rbEntries: number;
  private readonly l1: Uint8Array;
  private readonly l1v: DataView;
  /** L2 tables by L1 index (all loaded at open). */
  private readonly l2: (DataView | undefined)[];
  /** Refcount table entries (host offsets of refcount blocks) and the blocks; loaded for writing only. */
  private refTable: number[] = [];
  private readonly refBlocks = new Map<number, DataView>();
  private refTableOffset: number;
  private refTableClusters: number;
  private diskRefTableOffset: number;
  private diskRefTableClusters: number;
  /** Next cluster index to allocate (clusters are only appended). */
  private allocEnd: number;

  private readonly dirtyL2 = new Set<number>();
  private readonly dirtyL1 = new Set<number>();
  private readonly dirtyRefBlocks = new Set<number>();
  private readonly dirtyRefTable = new Set<number>();
  private closed = false;
  private metadataBytes = 0;

  // lookup() results (no allocation per cluster)
  private lkKind = UNALLOCATED;
  private lkHost = 0;
  private lkCopied = false;
  private cowFromBacking = false;

  constructor(
    private readonly store: ByteStore,
    opts: Qcow2OpenOptions,
  ) {
    this.name = opts.name;
    this.readOnly = opts.readOnly || store.readOnly;
    this.backing = opts.backing;
    const h = readQcow2Header(store, this.name);
    this.header = h;
    this.size = h.size;
    this.cs = 2 ** h.clusterBits;
    this.l2Entries = this.cs / 8;
    this.rbEntries = (this.cs * 8) / 2 ** h.refcountOrder;
    this.refTableOffset = this.diskRefTableOffset = h.refTableOffset;
    this.refTableClusters = this.diskRefTableClusters = h.refTableClusters;
    const fileSize = store.size;
    this.allocEnd = Math.ceil(fileSize / this.cs);
    if (!this.readOnly) {
      if (h.incompatible & INCOMPAT_DIRTY) this.fail('image is marked dirty (lazy refcounts); repair it with qemu-img check -r all before writing');
      if (h.incompatible & INCOMPAT_CORRUPT) this.fail('image is marked corrupt; repair it with qemu-img check -r all before writing');
      if (h.nbSnapshots > 0) this.fail('images with internal snapshots can be opened read-only only');
    }
    this.l1 = new Uint8Array(h.l1Size * 8);
    if (h.l1Size > 0) store.read(h.l1Offset, this.l1);
    this.l1v = new DataView(this.l1.buffer);
    this.l2 = new Array<DataView | undefined>(h.l1Size).fill(undefined);
    let tables = 0;
    for (let i = 0; i < h.l1Size; i++) if (this.l1v.getUint32(i * 8 + 4) !== 0 || (this.l1v.getUint32(i * 8) & 0xffffff) !== 0) tables++;
    if (tables * this.cs > MAX_METADATA_BYTES) this.fail(`${tables} L2 tables are more metadata than the ${MAX_METADATA_BYTES >> 20} MiB held in memory`);
    this.metadataBytes = tables * this.cs;
    const seen = new Set<number>();
    for (let i = 0; i < h.l1Size; i++) {
      const hi = this.l1v.getUint32(i * 8);
      const lo = this.l1v.getUint32(i * 8 + 4);
      if ((lo & 0x1ff) !== 0 || (hi & 0x7f000000) !== 0) this.fail(`corrupt L1 entry ${i} (reserved bits set)`);
      const off = (hi & 0xffffff) * TWO32 + lo;
      if (off === 0) continue;
      if (off % this.cs !== 0) this.fail(`L2 table ${i} is not cluster-aligned`);
      if (off < this.cs) this.fail(`L2 table ${i} overlaps the header cluster`);
      if (off + this.cs > fileSize) this.fail(`L2 table ${i} at 0x${off.toString(16)} lies past the end of the file (truncated image?)`);
      if (seen.has(off)) this.fail(`L2 table at 0x${off.toString(16)} is used twice`);
      seen.add(off);
      const t = new Uint8Array(this.cs);
      store.read(off, t);
      const tv = new DataView(t.buffer);
      this.checkL2(i, tv, fileSize);
      this.l2[i] = tv;
    }
    if (!this.readOnly) {
      this.loadRefcounts(fileSize);
      if (h.autoclear !== 0) {
        // Autoclear bits we do not maintain must be cleared before the first write (qcow2.txt).
        const z = new Uint8Array(8);
        store.write(88, z);
        store.flush();
        h.autoclear = 0;
      }
    }
  }

  private fail(what: string): never {
    throw new ImageError(this.name, what);
  }

  private checkL2(l1i: number, tv: DataView, fileSize: number): void {
    for (let j = 0; j < this.l2Entries; j++) {
      const hi = tv.getUint32(j * 8);
      const lo = tv.getUint32(j * 8 + 4);
      if (hi === 0 && lo === 0) continue;
      if (hi & 0x40000000) this.fail('compressed clusters are not supported (qemu-img convert -O qcow2 makes an uncompressed copy)');
      if ((hi & 0x3f000000) !== 0 || (lo & 0x1fe) !== 0) this.fail(`corrupt L2 entry ${l1i}:${j} (reserved bits set)`);
      if (lo & 1 && this.header.version < 3) this.fail(`corrupt L2 entry ${l1i}:${j} (zero flag in a version 2 image)`);
      const host = (hi & 0xffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
      if (host === 0) {
        if (hi & 0x80000000) this.fail(`data cluster of L2 entry ${l1i}:${j} overlaps the header cluster`);
        continue;
      }
      if (host % this.cs !== 0) this.fail(`data cluster of L2 entry ${l1i}:${j} is not cluster-aligned`);
      if (host < this.cs) this.fail(`data cluster of L2 entry ${l1i}:${j} overlaps the header cluster`);
      if (host >= fileSize) this.fail(`data cluster of L2 entry ${l1i}:${j} lies past the end of the file (truncated image?)`);
    }
  }

  private loadRefcounts(fileSize: number): void {
    const table = new Uint8Array(this.refTableClusters * this.cs);
    this.store.read(this.refTableOffset, table);
    const tv = new DataView(table.buffer);
    const n = table.length / 8;
    this.refTable = new Array<number>(n);
    for (let t = 0; t < n; t++) {
      const hi = tv.getUint32(t * 8);
      const lo = tv.getUint32(t * 8 + 4);
      const off = hi * TWO32 + lo;
      this.refTable[t] = off;
      if (off === 0) continue;
      if ((lo & 0x1ff) !== 0 || off % this.cs !== 0) this.fail(`corrupt refcount table entry ${t}`);
      if (off < this.cs) this.fail(`refcount block ${t} overlaps the header cluster`);
      if (off + this.cs > fileSize) this.fail(`refcount block ${t} lies past the end of the file (truncated image?)`);
      this.metadataBytes += this.cs;
      if (this.metadataBytes > MAX_METADATA_BYTES)
        this.fail(`L2 tables and refcount blocks are more metadata than the ${MAX_METADATA_BYTES >> 20} MiB held in memory`);
      const b = new Uint8Array(this.cs);
      this.store.read(off, b);
      this.refBlocks.set(t, new DataView(b.buffer));
    }
  }

  // ---- cluster map ----

  private lookup(ci: number): void {
    const l1i = Math.floor(ci / this.l2Entries);
    const t = this.l2[l1i];
    if (t === undefined) {
      this.lkKind = UNALLOCATED;
      this.lkHost = 0;
      this.lkCopied = false;
      return;
    }
    const at = (ci - l1i * this.l2Entries) * 8;
    const hi = t.getUint32(at);
    const lo = t.getUint32(at + 4);
    this.lkHost = (hi & 0xffffff) * TWO32 + ((lo & 0xfffffe00) >>> 0);
    this.lkCopied = (hi & 0x80000000) !== 0;
    this.lkKind = lo & 1 ? ZERO : this.lkHost !== 0 ? NORMAL : UNALLOCATED;
  }

  private setL2(ci: number, host: number, zero: boolean): void {
    const l1i = Math.floor(ci / this.l2Entries);
    const t = this.ensureL2(l1i);
    const at = (ci - l1i * this.l2Entries) * 8;
    t.setUint32(at, host !== 0 ? 0x80000000 | Math.floor(host / TWO32) : 0);
    t.setUint32(at + 4, ((host >>> 0) | (zero ? 1 : 0)) >>> 0);
    this.dirtyL2.add(l1i);
  }

  private ensureL2(l1i: number): DataView {
    const have = this.l2[l1i];
    if (have !== undefined) {
      if ((this.l1v.getUint32(l1i * 8) & 0x80000000) === 0) this.makeCopied(l1i);
      return have;
    }
    const host = this.allocCluster();
    const t = new DataView(new ArrayBuffer(this.cs));
    this.l2[l1i] = t;
    this.l1v.setUint32(l1i * 8, 0x80000000 | Math.floor(host / TWO32));
    this.l1v.setUint32(l1i * 8 + 4, host >>> 0);
    this.dirtyL1.add(l1i);
    this.dirtyL2.add(l1i);
    return t;
  }

  /** An L1 entry without the COPIED flag: writable in place only if its refcount is 1. */
  private makeCopied(l1i: number): void {
    const off = (this.l1v.getUint32(l1i * 8) & 0xffffff) * TWO32 + this.l1v.getUint32(l1i * 8 + 4);
    if (this.getRefcount(off / this.cs) !== 1)
      this.fail(`L2 table ${l1i} is shared (refcount ${this.getRefcount(off / this.cs)}); writing it is not supported`);
    this.l1v.setUint32(l1i * 8, this.l1v.getUint32(l1i * 8) | 0x80000000);
    this.dirtyL1.add(l1i);
  }

  // ---- refcounts ----

  private allocCluster(): number {
    const c = this.allocEnd++;
    this.setRefcount(c, 1);
    return c * this.cs;
  }

  private getRefcount(c: number): number {
    const t = Math.floor(c / this.rbEntries);
    const b = this.refBlocks.get(t);
    if (b === undefined) return 0;
    const i = c - t * this.rbEntries;
    switch (this.header.refcountOrder) {
      case 3:
        return b.getUint8(i);
      case 4:
        return b.getUint16(i * 2);
      case 5:
        return b.getUint32(i * 4);
      case 6:
        return get64(b, i * 8);
      default: {
        const bits = 2 ** this.header.refcountOrder;
        const bit = i * bits;
        return (b.getUint8(bit >> 3) >> (bit & 7)) & ((1 << bits) - 1);
      }
    }
  }

  private setRefcount(c: number, value: number): void {
    const t = Math.floor(c / this.rbEntries);
    if (t >= this.refTable.length) this.growRefTable(t + 1);
    let b = this.refBlocks.get(t);
    if (b === undefined) {
      const blockCluster = this.allocEnd++;
      b = new DataView(new ArrayBuffer(this.cs));
      this.refBlocks.set(t, b);
      this.refTable[t] = blockCluster * this.cs;
      this.dirtyRefTable.add(t);
      this.dirtyRefBlocks.add(t);
      this.setRefcount(blockCluster, 1);
    }
    const i = c - t * this.rbEntries;
    switch (this.header.refcountOrder) {
      case 3:
        b.setUint8(i, value);
        break;
      case 4:
        b.setUint16(i * 2, value);
        break;
      case 5:
        b.setUint32(i * 4, value);
        break;
      case 6:
        set64(b, i * 8, value);
        break;
      default: {
        const bits = 2 ** this.header.refcountOrder;
        const bit = i * bits;
        const mask = ((1 << bits) - 1) << (bit & 7);
        b.setUint8(bit >> 3, (b.getUint8(bit >> 3) & ~mask) | ((value << (bit & 7)) & mask));
      }
    }
    this.dirtyRefBlocks.add(t);
  }

  /** Move the refcount table to a larger one at the end of the file (written by flush()). */
  private growRefTable(minEntries: number): void {
    const perCluster = this.cs / 8;
    let clusters = Math.max(this.refTableClusters * 2, Math.ceil(minEntries / perCluster));
    while (clusters * perCluster * this.rbEntries < this.allocEnd + 2 * clusters + 64) clusters++;
    if (clusters * this.cs > MAX_REFTABLE_BYTES) this.fail('refcount table would grow past 8 MiB');
    const oldOff = this.refTableOffset;
    const oldClusters = this.refTableClusters;
    const start = this.allocEnd;
    this.allocEnd += clusters;
    while (this.refTable.length < clusters * perCluster) this.refTable.push(0);
    this.refTableOffset = start * this.cs;
    this.refTableClusters = clusters;
    this.dirtyRefTable.clear(); // the whole table is written at its new place
    // A table that was never on disk (grown twice between flushes) is simply dropped.
    if (oldOff !== this.diskRefTableOffset) for (let c = 0; c < oldClusters; c++) this.setRefcount(oldOff / this.cs + c, 0);
    for (let c = 0; c < clusters; c++) this.setRefcount(start + c, 1);
  }

  // ---- I/O ----

  read(offset: number, buf: Uint8Array): void {
    this.live();
    checkIo(this, offset, buf.length, false);
    const end = roundUp(this.size, SECTOR_SIZE);
    const cs = this.cs;
    // Adjacent pieces of one kind are read in one call: a run of contiguous host clusters
    // from the store, or a run of unallocated clusters from the backing image.
    let runKind = UNALLOCATED;
    let runHost = 0;
    let runStart = 0;
    let runLen = 0;
    let pos = 0;
    while (pos < buf.length) {
      const v = offset + pos;
      if (v >= end) {
        buf.fill(0, pos);
        break;
      }
      const ci = Math.floor(v / cs);
      const inOff = v - ci * cs;
      const n = Math.min(cs - inOff, buf.length - pos, end - v);
      this.lookup(ci);
      const kind = this.lkKind === UNALLOCATED && this.backing === undefined ? ZERO : this.lkKind;
      const host = this.lkHost + inOff;
      if (runLen > 0 && kind === runKind && (kind !== NORMAL || runHost + runLen === host)) runLen += n;
      else {
        if (runLen > 0) this.readRun(runKind, runHost, offset + runStart, buf.subarray(runStart, runStart + runLen));
        runKind = kind;
        runHost = host;
        runStart = pos;
        runLen = n;
      }
      pos += n;
    }
    if (runLen > 0) this.readRun(runKind, runHost, offset + runStart, buf.subarray(runStart, runStart + runLen));
  }

  private readRun(kind: number, host: number, virt: number, part: Uint8Array): void {
    if (kind === NORMAL) this.store.read(host, part);
    else if (kind === UNALLOCATED) this.backing!.read(virt, part);
    else part.fill(0);
  }

  write(offset: number, data: Uint8Array): void {
    this.live();
    checkIo(this, offset, data.length, true);
    const cs = this.cs;
    let runHost = 0;
    let runStart = 0;
    let runLen = 0;
    let pos = 0;
    while (pos < data.length) {
      const v = offset + pos;
      const ci = Math.floor(v / cs);
      const inOff = v - ci * cs;
      const n = Math.min(cs - inOff, data.length - pos);
      let host = this.clusterForWrite(ci, n);
      if (host < 0) {
        // Written whole by clusterForWrite (copy-on-write of a partial cluster).
        if (runLen > 0) this.store.write(runHost, data.subarray(runStart, runStart + runLen));
        runLen = 0;
        this.cowWrite(ci, -host - 1, inOff, data.subarray(pos, pos + n));
      } else {
        host += inOff;
        if (runLen > 0 && runHost + runLen === host) runLen += n;
        else {
          if (runLen > 0) this.store.write(runHost, data.subarray(runStart, runStart + runLen));
          runHost = host;
          runStart = pos;
          runLen = n;
        }
      }
      pos += n;
    }
    if (runLen > 0) this.store.write(runHost, data.subarray(runStart, runStart + runLen));
  }

  /**
   * Host cluster offset to write guest cluster `ci` at, allocating it if needed. Returns
   * -(host+1) when a write of n < cluster size bytes must fill the rest of the cluster first
   * (from the backing file if cowFromBacking, else with zeros over a preallocated zero
   * cluster).
   */
  private clusterForWrite(ci: number, n: number): number {
    this.lookup(ci);
    const kind = this.lkKind;
    if (kind === NORMAL) {
      if (!this.lkCopied) {
        const rc = this.getRefcount(this.lkHost / this.cs);
        if (rc !== 1) this.fail(`cluster at 0x${this.lkHost.toString(16)} is shared (refcount ${rc}); writing it is not supported`);
        this.setL2(ci, this.lkHost, false);
      }
      return this.lkHost;
    }
    const whole = n === this.cs;
    if (kind === ZERO && this.lkHost !== 0 && (this.lkCopied || this.getRefcount(this.lkHost / this.cs) === 1)) {
      // A preallocated zero cluster: reuse it; its old bytes must read as zeros.
      const host = this.lkHost;
      this.setL2(ci, host, false);
      this.cowFromBacking = false;
      return whole ? host : -(host + 1);
    }
    const fromBacking = kind === UNALLOCATED && this.backing !== undefined && ci * this.cs < this.backing.size;
    const host = this.allocCluster();
    this.setL2(ci, host, false);
    // A new cluster lies past the end of the file: what is not written reads as zeros.
    this.cowFromBacking = true;
    return whole || !fromBacking ? host : -(host + 1);
  }

  private cowWrite(ci: number, host: number, inOff: number, data: Uint8Array): void {
    const buf = new Uint8Array(this.cs);
    if (this.cowFromBacking && this.backing !== undefined) this.backing.read(ci * this.cs, buf);
    buf.set(data, inOff);
    this.store.write(host, buf);
  }

  writeZeroes(offset: number, length: number): void {
    this.live();
    checkIo(this, offset, length, true);
    const cs = this.cs;
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const ci = Math.floor(pos / cs);
      const inOff = pos - ci * cs;
      const n = Math.min(cs - inOff, end - pos);
      if (n === cs && this.header.version >= 3) {
        this.lookup(ci);
        if (this.lkKind === NORMAL && this.lkCopied) this.setL2(ci, this.lkHost, true);
        else if (this.lkKind === NORMAL) {
          // Shared cluster: write zeros through the normal path (refuses if not writable).
          this.write(pos, new Uint8Array(n));
        } else if (this.lkKind === UNALLOCATED && (this.backing !== undefined || this.l2[Math.floor(ci / this.l2Entries)] !== undefined)) {
          this.setL2(ci, 0, true);
        }
        // UNALLOCATED without backing reads as zeros already; ZERO stays ZERO.
      } else {
        this.write(pos, new Uint8Array(n));
      }
      pos += n;
    }
  }

  readSectors(sector: number, buf: Uint8Array): void {
    this.read(sector * SECTOR_SIZE, buf);
  }

  writeSectors(sector: number, data: Uint8Array): void {
    this.write(sector * SECTOR_SIZE, data);
  }

  flush(): void {
    this.live();
    if (this.readOnly) return;
    const moved = this.refTableOffset !== this.diskRefTableOffset;
    const meta = this.dirtyL2.size + this.dirtyL1.size + this.dirtyRefBlocks.size + this.dirtyRefTable.size > 0 || moved;
    if (!meta) {
      this.store.flush();
      return;
    }
    // 1. Refcounts (and data, already written) reach stable storage before anything points
    //    at the new clusters.
    this.writeRefBlocks();
    if (moved) {
      const table = new Uint8Array(this.refTableClusters * this.cs);
      const tv = new DataView(table.buffer);
      for (let t = 0; t < this.refTable.length; t++) set64(tv, t * 8, this.refTable[t]!);
      this.store.write(this.refTableOffset, table);
    } else if (this.dirtyRefTable.size > 0) {
      // New refcount blocks are stable before the table entries that point at them.
      this.store.flush();
      const e = new Uint8Array(8);
      const ev = new DataView(e.buffer);
      for (const t of this.dirtyRefTable) {
        set64(ev, 0, this.refTable[t]!);
        this.store.write(this.diskRefTableOffset + t * 8, e);
      }
    }
    this.dirtyRefTable.clear();
    this.store.flush();
    if (moved) {
      // 2. Switch the header to the new table, then free the old one.
      const h = new Uint8Array(12);
      const hv = new DataView(h.buffer);
      set64(hv, 0, this.refTableOffset);
      hv.setUint32(8, this.refTableClusters);
      this.store.write(48, h);
      this.store.flush();
      const oldStart = this.diskRefTableOffset / this.cs;
      const oldClusters = this.diskRefTableClusters;
      this.diskRefTableOffset = this.refTableOffset;
      this.diskRefTableClusters = this.refTableClusters;
      for (let c = 0; c < oldClusters; c++) this.setRefcount(oldStart + c, 0);
    }
    // 3. L2 tables, then the L1 entries that point at new ones.
    for (const l1i of this.dirtyL2) {
      const t = this.l2[l1i]!;
      const off = (this.l1v.getUint32(l1i * 8) & 0xffffff) * TWO32 + this.l1v.getUint32(l1i * 8 + 4);
      this.store.write(off, new Uint8Array(t.buffer));
    }
    this.dirtyL2.clear();
    // New L2 tables are stable before the L1 entries that point at them.
    if (this.dirtyL1.size > 0) this.store.flush();
    for (const l1i of this.dirtyL1) this.store.write(this.header.l1Offset + l1i * 8, this.l1.subarray(l1i * 8, l1i * 8 + 8));
    this.dirtyL1.clear();
    this.writeRefBlocks();
    this.store.flush();
  }

  private writeRefBlocks(): void {
    for (const t of this.dirtyRefBlocks) this.store.write(this.refTable[t]!, new Uint8Array(this.refBlocks.get(t)!.buffer));
    this.dirtyRefBlocks.clear();
  }

  close(): void {
    if (this.closed) return;
    try {
      if (!this.readOnly) this.flush();
    } finally {
      this.closed = true;
      this.store.close();
      this.backing?.close();
    }
  }

  /** Bytes of guest data this layer holds (allocated, non-zero clusters). */
  allocatedBytes(): number {
    let n = 0;
    for (const t of this.l2) {
      if (t === undefined) continue;
      for (let j = 0; j < this.l2Entries; j++) {
        const lo = t.getUint32(j * 8 + 4);
        if ((lo & 1) === 0 && ((t.getUint32(j * 8) & 0xffffff) !== 0 || (lo & 0xfffffe00) !== 0)) n += this.cs;
      }
    }
    return n;
  }

  info(): ImageInfo {
    const info: ImageInfo = {
      name: this.name,
      format: 'qcow2',
      virtualSize: this.size,
      fileSize: this.store.size,
      allocatedBytes: this.allocatedBytes(),
      readOnly: this.readOnly,
      clusterSize: this.cs,
      version: this.header.version,
    };
    if (this.header.backingName !== undefined) info.backingName = this.header.backingName;
    if (this.header.backingFormat !== undefined) info.backingFormat = this.header.backingFormat;
    if (this.backing !== undefined) info.backing = this.backing.info();
    return info;
  }

  private live(): void {
    if (this.closed) throw new ImageError(this.name, 'image is closed');
  }
}
