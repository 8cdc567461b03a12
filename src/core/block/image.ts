import type { ByteStore } from './store';

/** Sector numbers are always in 512-byte units (blkif.h, virtio-blk). */
export const SECTOR_SIZE = 512;

export type ImageFormat = 'raw' | 'qcow2';

/** What `xl block-list` and the Disks panel show about an image and its backing chain. */
export interface ImageInfo {
  /** The caller's name for the image (a path in Node, an OPFS name in the browser). */
  name: string;
  format: ImageFormat;
  /** Size the guest sees, in bytes. */
  virtualSize: number;
  /** Length of the image file in bytes. */
  fileSize: number;
  /** Guest data held by this layer, in bytes (raw: the file size; qcow2: allocated data clusters). */
  allocatedBytes: number;
  readOnly: boolean;
  /** qcow2 only. */
  clusterSize?: number;
  version?: number;
  /** The backing file name as the image records it, and its format if recorded. */
  backingName?: string;
  backingFormat?: string;
  /** The opened backing image, base last. */
  backing?: ImageInfo;
}

/**
 * A virtual disk. Offsets and lengths are bytes and must be multiples of 512; reads past the
 * end return zeros (what a backing chain needs), writes past the end are refused.
 */
export interface BlockImage {
  readonly format: ImageFormat;
  readonly name: string;
  /** Virtual size in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** The next image down the backing chain, if any. */
  readonly backing: BlockImage | undefined;
  read(offset: number, buf: Uint8Array): void;
  write(offset: number, data: Uint8Array): void;
  /** Make a range read as zeros (qcow2 v3 marks whole clusters with the zero flag). */
  writeZeroes(offset: number, length: number): void;
  readSectors(sector: number, buf: Uint8Array): void;
  writeSectors(sector: number, data: Uint8Array): void;
  /** Everything written before it is on stable storage, consistently, when it returns. */
  flush(): void;
  /** Flush (if writable) and close this image and its backing chain. */
  close(): void;
  info(): ImageInfo;
}

/** A refusal or a failure of an image, with a one-line message naming the image. */
export class ImageError extends Error {
  constructor(name: string, what: string) {
    super(`${name}: ${what}`);
    this.name = 'ImageError';
  }
}

export function checkIo(img: { name: string; size: number; readOnly: boolean }, offset: number, length: number, write: boolean): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ImageError(img.name, `bad request offset ${offset} length ${length}`);
  }
  if (offset % SECTOR_SIZE !== 0 || length % SECTOR_SIZE !== 0) {
    throw new ImageError(img.name, `request ${offset}+${length} is not aligned to ${SECTOR_SIZE} bytes`);
  }
  if (write) {
    if (img.readOnly) throw new ImageError(img.name, 'image is read-only');
    if (offset + length > roundUp(img.size, SECTOR_SIZE)) {
      throw new ImageError(img.name, `write ${offset}+${length} past the end (${img.size} bytes)`);
    }
  }
}

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** A raw image: the store's bytes are the disk's bytes. */
export class RawImage implements BlockImage {
  readonly format = 'raw';
  readonly backing = undefined;
  readonly size: number;
  private closed = false;

  constructor(
    private readonly store: ByteStore,
    readonly name: string,
    readonly readOnly: boolean = store.readOnly,
  ) {
    this.size = store.size;
  }

  read(offset: number, buf: Uint8Array): void {
    this.live();
    checkIo(this, offset, buf.length, false);
    if (offset >= this.size) {
      buf.fill(0);
      return;
    }
    const n = Math.min(buf.length, this.size - offset);
    this.store.read(offset, n === buf.length ? buf : buf.subarray(0, n));
    buf.fill(0, n);
  }

  write(offset: number, data: Uint8Array): void {
    this.live();
    checkIo(this, offset, data.length, true);
    const n = Math.min(data.length, this.size - offset);
    if (n > 0) this.store.write(offset, n === data.length ? data : data.subarray(0, n));
  }

  writeZeroes(offset: number, length: number): void {
    this.live();
    checkIo(this, offset, length, true);
    const chunk = new Uint8Array(Math.min(length, 1 << 20));
    for (let at = offset; at < offset + length; at += chunk.length) {
      const n = Math.min(chunk.length, offset + length - at);
      this.write(at, n === chunk.length ? chunk : chunk.subarray(0, n));
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
    if (!this.readOnly) this.store.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
  }

  info(): ImageInfo {
    return {
      name: this.name,
      format: 'raw',
      virtualSize: this.size,
      fileSize: this.store.size,
      allocatedBytes: this.store.size,
      readOnly: this.readOnly,
    };
  }

  private live(): void {
    if (this.closed) throw new ImageError(this.name, 'image is closed');
  }
}
