/**
 * The byte store the image formats read and write through. Synchronous on purpose: the
 * browser's OPFS `FileSystemSyncAccessHandle` (dedicated workers only) and Node's `fs.*Sync`
 * calls are both synchronous, so one format implementation serves both.
 *
 * Semantics every store keeps:
 * - `read` fills the whole buffer; bytes at or past `size` read as zeros. It returns how many
 *   bytes came from the store (the rest were past the end).
 * - `write` past the end grows the store; a gap between the old end and the write reads as
 *   zeros (as a sparse file does).
 * - `flush` returns only once everything written before it is on stable storage (fsync in
 *   Node, the access handle's flush() in the browser).
 */
export interface ByteStore {
  /** Current length in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  read(offset: number, buf: Uint8Array): number;
  write(offset: number, data: Uint8Array): void;
  /** Set the length: shrink, or grow with zeros. */
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/** Offsets and lengths are doubles; everything past 2^53 is refused. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(offset + length)) {
    throw new RangeError(`byte range ${offset}+${length} out of range`);
  }
}

/**
 * A store in memory (tests, scratch disks). Counts flushes and can take a snapshot of what
 * a crash would leave: `durable()` is the content as of the last flush.
 */
export class MemoryStore implements ByteStore {
  private buf: Uint8Array;
  private length: number;
  private closed = false;
  private stable: Uint8Array;
  flushes = 0;
  writes = 0;

  constructor(
    initial: Uint8Array | number = 0,
    readonly readOnly = false,
  ) {
    const init = typeof initial === 'number' ? new Uint8Array(initial) : initial.slice();
    this.buf = init;
    this.length = init.length;
    this.stable = init.slice();
  }

  get size(): number {
    return this.length;
  }

  /** A copy of the current content. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** A copy of the content as of the last flush (what survives a power cut). */
  durable(): Uint8Array {
    return this.stable.slice();
  }

  read(offset: number, out: Uint8Array): number {
    this.live();
    checkRange(offset, out.length);
    const n = Math.max(0, Math.min(out.length, this.length - offset));
    if (n > 0) out.set(this.buf.subarray(offset, offset + n));
    out.fill(0, n);
    return n;
  }

  write(offset: number, data: Uint8Array): void {
    this.live();
    if (this.readOnly) throw new Error('store is read-only');
    checkRange(offset, data.length);
    const end = offset + data.length;
    if (end > this.length) this.grow(end);
    this.buf.set(data, offset);
    this.writes++;
  }

  truncate(size: number): void {
    this.live();
    if (this.readOnly) throw new Error('store is read-only');
    checkRange(size, 0);
    if (size > this.length) this.grow(size);
    else {
      this.buf.fill(0, size, this.length);
      this.length = size;
    }
  }

  flush(): void {
    this.live();
    this.flushes++;
    this.stable = this.buf.slice(0, this.length);
  }

  close(): void {
    this.closed = true;
  }

  private grow(end: number): void {
    if (end > this.buf.length) {
      const next = new Uint8Array(Math.max(end, Math.min(this.buf.length * 2, end + (64 << 20)), 65536));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.length = end;
  }

  private live(): void {
    if (this.closed) throw new Error('store is closed');
  }
}
