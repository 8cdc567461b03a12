/**
 * DISK_IMAGE (libxl layer, 0xC8590010, optional): a disk's contents carried in the stream,
 * for a save file that goes to another machine (`xl save --copy-storage`; without it the
 * stream names each disk by its spec and the target opens the same image: shared storage,
 * as Xen does). Body, little-endian: {u32 devid, u32 reserved, u64 image_size, u64 offset,
 * u32 length, u32 reserved}, then `length` bytes of the disk at `offset`. Each disk has one
 * record at offset 0 (its size; length 0 if its first chunk is zeros), then its non-zero
 * chunks of at most 1 MiB in increasing order; sectors not sent are zeros. Every record has
 * its RECORD_CHECKSUM and the stream checksum covers their order (framing.ts), so a chunk is
 * checked before it is written. The contents are the guest's view (raw), whatever the
 * image's format: the embedded config names the disk as raw.
 *
 * Optional: a reader that does not know it skips it and falls back on shared storage.
 */
import type { BlockImage } from '../../block/image';
import { ByteReader, ByteWriter } from './bytes';

/** Bytes per chunk (a Xen PAGE_DATA batch is 4 MiB; 1 MiB keeps a record's buffer small). */
export const DISK_CHUNK = 1 << 20;
const SECTOR = 512;
/** Largest disk carried: the restore assembles it in memory. */
export const MAX_COPIED_DISK = 1 << 30;

export interface DiskChunk {
  devid: number;
  size: number;
  offset: number;
  data: Uint8Array;
}

/** The records of one disk: its size, then its non-zero chunks. */
export function diskImageRecords(devid: number, image: BlockImage): Uint8Array[] {
  const size = image.size;
  if (size > MAX_COPIED_DISK) throw new Error(`disk ${devid}: ${size} bytes is more than --copy-storage carries (${MAX_COPIED_DISK})`);
  const out: Uint8Array[] = [];
  const buf = new Uint8Array(DISK_CHUNK);
  for (let off = 0; off < size || off === 0; off += DISK_CHUNK) {
    const len = Math.min(DISK_CHUNK, Math.ceil((size - off) / SECTOR) * SECTOR);
    const data = buf.subarray(0, Math.max(0, len));
    if (len > 0) image.readSectors(off / SECTOR, data);
    const zero = isZero(data);
    if (zero && off > 0) continue;
    out.push(encodeDiskChunk({ devid, size, offset: off, data: zero ? new Uint8Array(0) : data }));
  }
  return out;
}

/** All zeros? (32 bits at a time: a chunk is whole sectors.) */
function isZero(b: Uint8Array): boolean {
  const w = new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}

export function encodeDiskChunk(c: DiskChunk): Uint8Array {
  const w = new ByteWriter();
  w.u32(c.devid).u32(0).u64(c.size).u64(c.offset).u32(c.data.length).u32(0).bytes(c.data);
  return w.finish();
}

/** One record's body; `at` is its byte offset in the file (for messages). */
export function decodeDiskChunk(body: Uint8Array, at: number): DiskChunk {
  const r = new ByteReader(body, at, true, 'DISK_IMAGE');
  const devid = r.u32('devid');
  r.skip(4);
  const size = r.u53('image_size'),
    offset = r.u53('offset'),
    length = r.u32('length');
  r.skip(4);
  if (size > MAX_COPIED_DISK) r.fail(`disk ${devid}: image_size ${size} is more than ${MAX_COPIED_DISK}`, at);
  if (offset % SECTOR !== 0 || length % SECTOR !== 0 || length > DISK_CHUNK || offset + length > Math.ceil(size / SECTOR) * SECTOR)
    r.fail(`disk ${devid}: chunk ${offset}+${length} is not whole sectors within the ${size}-byte disk`, at);
  const data = r.bytesOf(length, 'data');
  r.end();
  return { devid, size, offset, data };
}

/** The carried disks, each assembled (checks: one size per disk, offset 0 first, chunks in increasing order). */
export function assembleDisks(chunks: readonly DiskChunk[]): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const next = new Map<number, number>();
  for (const c of chunks) {
    let img = out.get(c.devid);
    if (!img) {
      if (c.offset !== 0) throw new Error(`DISK_IMAGE: disk ${c.devid} does not start at offset 0`);
      img = new Uint8Array(c.size);
      out.set(c.devid, img);
    } else if (img.length !== c.size) throw new Error(`DISK_IMAGE: disk ${c.devid} has two sizes (${img.length}, ${c.size})`);
    else if (c.offset < next.get(c.devid)!) throw new Error(`DISK_IMAGE: disk ${c.devid}: chunk at ${c.offset} is out of order`);
    img.set(c.data.subarray(0, Math.max(0, Math.min(c.data.length, c.size - c.offset))), c.offset);
    next.set(c.devid, c.offset + Math.max(c.data.length, 1));
  }
  return out;
}
