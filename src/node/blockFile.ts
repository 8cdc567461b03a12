/**
 * Disk images as files in Node: a ByteStore over a file descriptor (pread/pwrite through
 * fs.readSync/writeSync, flush = fsync), and helpers that open an image with its backing
 * chain (backing names resolve against the directory of the image that names them, as
 * QEMU does) and create raw, qcow2 and overlay images.
 */
import { closeSync, constants, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, realpathSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ImageError, type BlockImage, type ImageFormat } from '../core/block/image';
import { createOverlay, openImage, type BackingResolver } from '../core/block/open';
import { createQcow2 } from '../core/block/qcow2';
import { checkRange, type ByteStore } from '../core/block/store';
import type { DiskSpec } from '../core/tools/xlDisk';

export class FileStore implements ByteStore {
  private fd: number;
  private length: number;

  /** Open an existing file (read-only or read-write), or create it with `create`. */
  constructor(
    readonly path: string,
    readonly readOnly: boolean,
    create = false,
  ) {
    const flags = readOnly ? constants.O_RDONLY : constants.O_RDWR | (create ? constants.O_CREAT | constants.O_TRUNC : 0);
    this.fd = openSync(path, flags, 0o644);
    const st = fstatSync(this.fd);
    if (!st.isFile()) {
      closeSync(this.fd);
      throw new Error(`${path}: not a regular file`);
    }
    this.length = st.size;
  }

  get size(): number {
    return this.length;
  }

  read(offset: number, buf: Uint8Array): number {
    checkRange(offset, buf.length);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    if (done < buf.length) buf.fill(0, done);
    return done;
  }

  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error(`${this.path}: opened read-only`);
    checkRange(offset, data.length);
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, offset + done);
    if (offset + data.length > this.length) this.length = offset + data.length;
  }

  truncate(size: number): void {
    if (this.readOnly) throw new Error(`${this.path}: opened read-only`);
    checkRange(size, 0);
    ftruncateSync(this.fd, size);
    this.length = size;
  }

  flush(): void {
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Backing names resolve against the directory of the image that records them; keys are real paths. */
export const fileResolver: BackingResolver = (name, from) => {
  const path = isAbsolute(name) ? name : resolve(dirname(from), name);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  return { store: new FileStore(real, true), key: real, name: path };
};

export interface OpenImageFileOptions {
  format?: ImageFormat | 'auto';
  readOnly?: boolean;
}

/** Open an image file and its backing chain; refusals are one-line ImageErrors. */
export function openImageFile(path: string, opts: OpenImageFileOptions = {}): BlockImage {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new ImageError(path, 'no such file');
  }
  const store = new FileStore(real, opts.readOnly ?? false);
  try {
    return openImage(store, { name: path, key: real, format: opts.format ?? 'auto', readOnly: opts.readOnly ?? false, resolveBacking: fileResolver });
  } catch (e) {
    store.close();
    throw e;
  }
}

/** Make a new file's directory entry durable too (best effort: not every platform can fsync a directory). */
function syncDir(path: string): void {
  try {
    const fd = openSync(dirname(resolve(path)), constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open a directory this way; the file itself was fsynced.
  }
}

/** A raw image of `size` bytes (sparse). */
export function createRawFile(path: string, size: number): void {
  const s = new FileStore(path, false, true);
  try {
    s.truncate(size);
    s.flush();
  } finally {
    s.close();
  }
  syncDir(path);
}

/** An empty qcow2 v3 image (qemu-img create -f qcow2 PATH SIZE). */
export function createQcow2File(path: string, size: number, clusterBits?: number): void {
  const s = new FileStore(path, false, true);
  try {
    createQcow2(s, clusterBits === undefined ? { size } : { size, clusterBits });
  } finally {
    s.close();
  }
  syncDir(path);
}

/**
 * An overlay over `backingName` (qemu-img create -f qcow2 -b NAME -F FMT PATH [SIZE]): the
 * name is recorded as given and resolved against the overlay's directory; the backing
 * image is opened (read-only) for its format and size.
 */
export function createOverlayFile(path: string, backingName: string, opts: { backingFormat?: ImageFormat; size?: number; clusterBits?: number } = {}): void {
  const from = resolve(dirname(path), 'x');
  const r = fileResolver(backingName, from);
  if (r === undefined) throw new ImageError(path, `backing file '${backingName}' not found`);
  let base: BlockImage;
  try {
    base = openImage(r.store, { name: r.name ?? r.key, key: r.key, format: opts.backingFormat ?? 'auto', readOnly: true, resolveBacking: fileResolver });
  } catch (e) {
    r.store.close();
    throw e;
  }
  const s = new FileStore(path, false, true);
  try {
    createOverlay(s, backingName, base, opts.size ?? base.size, opts.clusterBits);
  } finally {
    s.close();
    base.close();
  }
  syncDir(path);
}

/**
 * The image an xl disk spec names (the Node hosts' DiskOpener). With hyperlab's
 * `backing=BASE` key and no image at the target yet, the target is first created as a
 * qcow2 overlay over BASE (its directory too): BASE is named in the spec relative to the
 * working directory, as the target is, and recorded in the overlay relative to the
 * overlay's directory, as qemu-img records it.
 */
export function openDiskFile(spec: DiskSpec): BlockImage {
  if (spec.backing !== undefined && !existsSync(spec.target)) {
    const dir = dirname(resolve(spec.target));
    if (!existsSync(resolve(spec.backing))) throw new ImageError(spec.target, `backing file '${spec.backing}' not found`);
    mkdirSync(dir, { recursive: true });
    createOverlayFile(spec.target, relative(dir, resolve(spec.backing)));
  }
  return openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' });
}
