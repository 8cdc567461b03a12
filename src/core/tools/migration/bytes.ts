/**
 * Byte-level reading and writing for the save/migration streams, and the one error type
 * every reader throws.
 *
 * Readers never trust a length: every read is bounds-checked against the buffer and fails
 * with a StreamError naming the byte offset, so a truncated or hostile stream ends in one
 * line of text, never in a RangeError from a typed array or a loop that does not end.
 */

/** A refused stream: `offset` is the byte (from the start of the file) of the bad record or field. */
export class StreamError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${reason} (at byte ${offset})`);
    this.name = 'StreamError';
  }
}

/**
 * Thrown by a ByteReader in `partial` mode when the bytes it needs have not arrived yet;
 * the incremental reader (saveFile.ts) catches it, rewinds and waits. Never escapes.
 */
export class NeedMore extends Error {
  static readonly instance = new NeedMore();
  private constructor() {
    super('more bytes needed');
    this.name = 'NeedMore';
  }
}

/** A growable little- or big-endian byte buffer. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  /** `capacity`: the size expected, to spare the copies of growing (a save file is mostly pages). */
  constructor(
    private readonly littleEndian = true,
    capacity = 4096,
  ) {
    this.buf = new Uint8Array(Math.max(64, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.length++] = v;
    return this;
  }

  u16(v: number, le = this.littleEndian): this {
    this.reserve(2);
    this.view.setUint16(this.length, v, le);
    this.length += 2;
    return this;
  }

  u32(v: number, le = this.littleEndian): this {
    this.reserve(4);
    this.view.setUint32(this.length, v >>> 0, le);
    this.length += 4;
    return this;
  }

  /** A 64-bit field from a number exact below 2^53. */
  u64(v: number, le = this.littleEndian): this {
    const lo = v % 0x1_0000_0000,
      hi = (v - lo) / 0x1_0000_0000;
    return le ? this.u32(lo, true).u32(hi, true) : this.u32(hi, false).u32(lo, false);
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  zeros(n: number): this {
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }

  /** Overwrite the u32 at byte `at` (a length known only once the body is written). */
  patchU32(at: number, v: number, le = this.littleEndian): this {
    this.view.setUint32(at, v >>> 0, le);
    return this;
  }

  /** The bytes written so far (a view: copy before writing more if it must be kept). */
  view8(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /**
   * The bytes written, without a copy (a 64 MiB save file's copy cost as much as the rest of
   * the save): write nothing more to this writer afterwards.
   */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * A bounds-checked cursor over `bytes`. `base` is the offset of `bytes[0]` in the whole
 * file, so errors name file offsets even when the reader works on a slice.
 */
export class ByteReader {
  private readonly view: DataView;
  pos = 0;
  /** More bytes may still come: running short throws NeedMore rather than failing. */
  partial = false;

  constructor(
    readonly bytes: Uint8Array,
    readonly base = 0,
    readonly littleEndian = true,
    /** What is being read, for error messages ("libxc stream", "vCPU context"...). */
    readonly what = 'stream',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** The file offset of the cursor. */
  get offset(): number {
    return this.base + this.pos;
  }

  fail(reason: string, at = this.offset): never {
    throw new StreamError(at, `${this.what}: ${reason}`);
  }

  need(n: number, field: string): void {
    this.ensure(n, `truncated: ${field} needs ${n} bytes, ${this.remaining} left`);
  }

  /** Fail with `message` at `at` when fewer than `n` bytes are left (or wait for them, when partial). */
  ensure(n: number, message: string, at = this.offset): void {
    if (n <= this.remaining) return;
    if (this.partial) throw NeedMore.instance;
    this.fail(message, at);
  }

  u8(field = 'u8'): number {
    this.need(1, field);
    return this.bytes[this.pos++]!;
  }

  u16(field = 'u16', le = this.littleEndian): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos, le);
    this.pos += 2;
    return v;
  }

  u32(field = 'u32', le = this.littleEndian): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, le);
    this.pos += 4;
    return v;
  }

  /** A 64-bit field as [lo, hi] uint32 halves. */
  u64(field = 'u64', le = this.littleEndian): [number, number] {
    this.need(8, field);
    const a = this.view.getUint32(this.pos, le),
      b = this.view.getUint32(this.pos + 4, le);
    this.pos += 8;
    return le ? [a, b] : [b, a];
  }

  /** A 64-bit field that must be below 2^53, as a number. */
  u53(field = 'u64', le = this.littleEndian): number {
    const at = this.offset;
    const [lo, hi] = this.u64(field, le);
    if (hi >= 0x20_0000) this.fail(`${field} ${hi.toString(16)}${lo.toString(16).padStart(8, '0')} is too large`, at);
    return hi * 0x1_0000_0000 + lo;
  }

  bytesOf(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(n: number, field = 'padding'): void {
    this.need(n, field);
    this.pos += n;
  }

  /** Require that every byte has been read. */
  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} unexpected bytes at the end`);
  }
}

export function hex(v: number, digits = 8): string {
  return '0x' + (v >>> 0).toString(16).padStart(digits, '0');
}
