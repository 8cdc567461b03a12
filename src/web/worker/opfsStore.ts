/**
 * A ByteStore (src/core/block/store.ts) over a synchronous file handle: the browser's
 * OPFS `FileSystemSyncAccessHandle`, which exists only in dedicated workers (File System
 * Standard, "FileSystemSyncAccessHandle"). The hypervisor worker is one, and blkback runs
 * in it, so a guest's request reaches the file without leaving the thread.
 *
 * One file has one access handle (createSyncAccessHandle takes an exclusive lock), but
 * several stores may stand on it: the images of two overlays over one base are each a
 * read-only store of the same handle. `OpenFile` is that handle with a reference count;
 * `FileStore` is one user's view of it (its own read-only flag).
 *
 * Growth is charged to a `QuotaBudget`: the bytes navigator.storage.estimate() said were
 * left when the disk was attached. The estimate is asynchronous and the store is not, so
 * the budget is taken before and spent synchronously; a write that would pass it fails
 * with one line (blkback answers BLKIF_RSP_ERROR) and the file is not touched.
 */
import { checkRange, type ByteStore } from '../../core/block/store';

/** What a FileSystemSyncAccessHandle offers (the subset the store uses; fakes implement it in tests). */
export interface SyncHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** Bytes the origin may still add to its storage (refreshed from navigator.storage.estimate()). */
export class QuotaBudget {
  constructor(public remaining: number) {}

  /** Take `bytes` of growth for `name`, or throw a one-line refusal. */
  spend(name: string, bytes: number): void {
    if (bytes <= 0) return;
    if (bytes > this.remaining) {
      throw new Error(`${name}: the browser's storage quota is used up (${bytes} more bytes needed, ${Math.max(0, Math.floor(this.remaining))} left)`);
    }
    this.remaining -= bytes;
  }

  give(bytes: number): void {
    if (bytes > 0) this.remaining += bytes;
  }
}

/** A file's one access handle, shared by its stores, and who writes through it. */
export class OpenFile {
  refs = 0;
  writers = 0;
  length: number;
  closed = false;

  constructor(
    readonly name: string,
    readonly handle: SyncHandle,
    readonly budget: QuotaBudget,
  ) {
    this.length = handle.getSize();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }
}

/** The handle's errors as one line (a DOMException's name says what happened: QuotaExceededError, InvalidStateError...). */
function ioError(name: string, op: string, e: unknown): Error {
  const n = e instanceof Error ? e.name : '';
  if (n === 'QuotaExceededError') return new Error(`${name}: ${op}: the browser's storage quota is used up`);
  return new Error(`${name}: ${op}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
}

export class FileStore implements ByteStore {
  private closed = false;
  /** Written since the last flush (the disk library's write-back looks at it). */
  dirty = false;

  constructor(
    private readonly file: OpenFile,
    readonly readOnly: boolean,
    /** Called once, when this store is closed (the owner drops its reference). */
    private readonly onClose: () => void,
  ) {}

  get size(): number {
    return this.file.length;
  }

  read(offset: number, buf: Uint8Array): number {
    this.live();
    checkRange(offset, buf.length);
    let n = 0;
    if (offset < this.file.length) {
      try {
        n = this.file.handle.read(buf.subarray(0, Math.min(buf.length, this.file.length - offset)), { at: offset });
      } catch (e) {
        throw ioError(this.file.name, 'read', e);
      }
    }
    buf.fill(0, n);
    return n;
  }

  write(offset: number, data: Uint8Array): void {
    this.writable();
    checkRange(offset, data.length);
    const end = offset + data.length;
    const growth = end - this.file.length;
    this.file.budget.spend(this.file.name, growth);
    let n: number;
    try {
      n = this.file.handle.write(data, { at: offset });
    } catch (e) {
      this.file.budget.give(growth);
      this.file.length = this.file.handle.getSize();
      throw ioError(this.file.name, 'write', e);
    }
    if (n !== data.length) {
      this.file.length = this.file.handle.getSize();
      throw new Error(`${this.file.name}: write: ${n} of ${data.length} bytes written`);
    }
    if (end > this.file.length) this.file.length = end;
    this.dirty = true;
  }

  truncate(size: number): void {
    this.writable();
    checkRange(size, 0);
    const growth = size - this.file.length;
    this.file.budget.spend(this.file.name, growth);
    try {
      this.file.handle.truncate(size);
    } catch (e) {
      this.file.budget.give(growth);
      throw ioError(this.file.name, 'truncate', e);
    }
    if (growth < 0) this.file.budget.give(-growth);
    this.file.length = size;
    this.dirty = true;
  }

  /** FileSystemSyncAccessHandle.flush(): the data is on stable storage when it returns. */
  flush(): void {
    this.live();
    if (this.readOnly) return;
    try {
      this.file.handle.flush();
    } catch (e) {
      throw ioError(this.file.name, 'flush', e);
    }
    this.dirty = false;
  }

  close(): void {
    if (this.closed) return;
    if (!this.readOnly && !this.file.closed) this.flush();
    this.closed = true;
    this.onClose();
  }

  private live(): void {
    if (this.closed || this.file.closed) throw new Error(`${this.file.name}: store is closed`);
  }

  private writable(): void {
    this.live();
    if (this.readOnly) throw new Error(`${this.file.name}: opened read-only`);
  }
}
