/** DISK_IMAGE records (`xl save --copy-storage`): chunks of a disk, checked before they are written. */
import { describe, expect, it } from 'vitest';
import type { BlockImage } from '../../block/image';
import { assembleDisks, decodeDiskChunk, diskImageRecords, DISK_CHUNK, encodeDiskChunk } from './diskImage';

/** A raw image in memory, as the image layer reads it. */
function memImage(bytes: Uint8Array): BlockImage {
  return {
    size: bytes.length,
    readSectors: (sector: number, buf: Uint8Array) => buf.set(bytes.subarray(sector * 512, sector * 512 + buf.length)),
  } as unknown as BlockImage;
}

describe('DISK_IMAGE', () => {
  it('sends the size and the non-zero chunks only, and assembles the same disk', () => {
    const disk = new Uint8Array(3 * DISK_CHUNK + 4096);
    disk.set([1, 2, 3], DISK_CHUNK + 7);
    disk.set([9], 3 * DISK_CHUNK + 4095);
    const recs = diskImageRecords(51712, memImage(disk));
    const chunks = recs.map((b, i) => decodeDiskChunk(b, i * 100));
    expect(chunks.map((c) => [c.offset, c.data.length])).toEqual([
      [0, 0],
      [DISK_CHUNK, DISK_CHUNK],
      [3 * DISK_CHUNK, 4096],
    ]);
    expect(Buffer.compare(assembleDisks(chunks).get(51712)!, disk)).toBe(0); // (toEqual on 3 MiB takes a minute)
  });

  it('refuses chunks that are not whole sectors inside the disk, and disks out of order or of two sizes', () => {
    const c = (offset: number, len: number, size = 8192): Uint8Array => encodeDiskChunk({ devid: 1, size, offset, data: new Uint8Array(len) });
    expect(() => decodeDiskChunk(c(100, 512), 40)).toThrow(/chunk 100\+512 is not whole sectors within the 8192-byte disk \(at byte 40\)/);
    expect(() => decodeDiskChunk(c(8192, 512), 40)).toThrow(/not whole sectors within/);
    expect(() => decodeDiskChunk(c(0, 512).subarray(0, 100), 40)).toThrow(/DISK_IMAGE/);
    const ok = (offset: number, size = 8192): ReturnType<typeof decodeDiskChunk> => decodeDiskChunk(c(offset, 512, size), 0);
    expect(() => assembleDisks([ok(512)])).toThrow(/disk 1 does not start at offset 0/);
    expect(() => assembleDisks([ok(0), ok(1024, 4096)])).toThrow(/disk 1 has two sizes/);
    expect(() => assembleDisks([ok(0), ok(2048), ok(1024)])).toThrow(/chunk at 1024 is out of order/);
  });
});
