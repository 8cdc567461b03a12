/**
 * The physical address space of one hart: RAM as typed-array views over a (shared) buffer,
 * and MMIO devices at address ranges. RAM is not a device: the hart reaches it through its
 * TLB with a plain typed-array index; only misses and MMIO come through here.
 *
 * RAM is either one contiguous slice of the buffer (the standalone board) or, for a
 * domain under the hypervisor, the frames its P2M names: `p2m[gfn]` is the machine frame
 * holding guest frame `gfn` of RAM (-1: none), the views span all of machine memory, and
 * the P2M alone decides which frames the guest can reach. The hypervisor bumps
 * `p2mGeneration[0]` after changing the P2M; harts flush their TLBs when it moves.
 */
import type { AccessWidth, MmioDevice } from './mmio';

/** Views of one RAM buffer at every width the hart needs. Little-endian host assumed. */
export interface RamViews {
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
}

export function ramViews(buffer: ArrayBufferLike, byteOffset = 0, byteLength = buffer.byteLength - byteOffset): RamViews {
  return {
    u8: new Uint8Array(buffer, byteOffset, byteLength),
    i8: new Int8Array(buffer, byteOffset, byteLength),
    u16: new Uint16Array(buffer, byteOffset, byteLength >> 1),
    i16: new Int16Array(buffer, byteOffset, byteLength >> 1),
    i32: new Int32Array(buffer, byteOffset, byteLength >> 2),
  };
}

/**
 * P2M entry bits: the machine frame, a flag for frames the guest may only read, and a
 * flag for another domain's frame mapped through a grant (Xen's p2m_grant_map_* types):
 * such a frame is not the domain's to give back, grant on, or copy through.
 */
export const P2M_MFN_MASK = 0x1fff_ffff;
export const P2M_GRANT = 0x2000_0000;
export const P2M_READONLY = 0x4000_0000;

interface Mapping {
  readonly base: number;
  readonly end: number; // exclusive
  readonly dev: MmioDevice;
}

export interface BusOptions {
  ramBase: number;
  ramSize: number;
  /** Backing store; a SharedArrayBuffer when several workers share machine memory. */
  buffer?: ArrayBufferLike;
  /** Where RAM starts in `buffer` (bytes, 4 KiB aligned); default 0. Not with `p2m`. */
  bufferOffset?: number;
  /** Guest frame -> machine frame of `buffer`, one entry per 4 KiB of RAM. */
  p2m?: Int32Array;
  /** One word the P2M's owner increments after every change. */
  p2mGeneration?: Int32Array;
}

export class Bus {
  readonly ram: RamViews;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly p2m: Int32Array | undefined;
  private readonly _p2mGeneration: Int32Array | undefined;
  private _seenGeneration = 0;
  private readonly _mappings: Mapping[] = [];

  constructor(opts: BusOptions) {
    if (opts.ramSize <= 0 || opts.ramSize % 4096 !== 0) throw new RangeError('RAM size must be a positive multiple of 4 KiB');
    if (opts.ramBase + opts.ramSize > 0x1_0000_0000) throw new RangeError('RAM must end below 4 GiB');
    this.ramBase = opts.ramBase;
    this.ramSize = opts.ramSize;
    this.p2m = opts.p2m;
    this._p2mGeneration = opts.p2mGeneration;
    if (opts.p2m) {
      if (!opts.buffer) throw new RangeError('a P2M needs the machine memory buffer');
      if (opts.p2m.length * 4096 < opts.ramSize) throw new RangeError('the P2M is smaller than RAM');
      this.ram = ramViews(opts.buffer);
    } else {
      // The views cover exactly this RAM: an index past either end reads undefined and
      // writes nothing, so no guest access can reach other bytes of a shared buffer.
      this.ram = ramViews(opts.buffer ?? new ArrayBuffer(opts.ramSize), opts.bufferOffset ?? 0, opts.ramSize);
    }
  }

  /** True once each time the P2M changed since the last call (the hart then flushes its TLB). */
  p2mChanged(): boolean {
    if (this._p2mGeneration === undefined) return false;
    const g = Atomics.load(this._p2mGeneration, 0);
    if (g === this._seenGeneration) return false;
    this._seenGeneration = g;
    return true;
  }

  /** Map a device at [base, base + dev.size). Ranges must not overlap RAM or each other. */
  attach(base: number, dev: MmioDevice): void {
    const end = base + dev.size;
    const overlaps = (b: number, e: number): boolean => base < e && b < end;
    if (overlaps(this.ramBase, this.ramBase + this.ramSize)) throw new RangeError(`${dev.name} overlaps RAM`);
    for (const m of this._mappings) if (overlaps(m.base, m.end)) throw new RangeError(`${dev.name} overlaps ${m.dev.name}`);
    this._mappings.push({ base, end, dev });
  }

  /**
   * Byte offset of physical address `pa` in RAM, or -1 if it is not RAM.
   * `pa` may exceed 32 bits: Sv32 page tables produce 34-bit physical addresses.
   */
  ramOffset(pa: number): number {
    const off = pa - this.ramBase;
    if (!(off >= 0 && off < this.ramSize)) return -1;
    const p2m = this.p2m;
    if (p2m === undefined) return off;
    const e = p2m[off >>> 12]!;
    return e < 0 ? -1 : (e & P2M_MFN_MASK) * 4096 + (off & 0xfff);
  }

  /** As ramOffset, for a write: a frame the P2M maps read-only (a read-only grant) gives -1. */
  ramOffsetForWrite(pa: number): number {
    const p2m = this.p2m;
    if (p2m !== undefined) {
      const off = pa - this.ramBase;
      if (off >= 0 && off < this.ramSize && (p2m[off >>> 12]! & P2M_READONLY) !== 0) return -1;
    }
    return this.ramOffset(pa);
  }

  /** The device mapped at `pa`, with the offset into it, or undefined. */
  device(pa: number): { dev: MmioDevice; offset: number } | undefined {
    for (const m of this._mappings) if (pa >= m.base && pa < m.end) return { dev: m.dev, offset: pa - m.base };
    return undefined;
  }

  /**
   * MMIO read; undefined means no device answers, or the device refuses an access this
   * narrow (MmioDevice.minWidth): an access fault for the hart.
   */
  mmioRead(pa: number, width: AccessWidth): number | undefined {
    const hit = this.device(pa);
    if (hit === undefined || hit.offset + width > hit.dev.size || width < (hit.dev.minWidth ?? 1)) return undefined;
    return hit.dev.read(hit.offset, width);
  }

  /** MMIO write; false means no device answers (or it refuses the width, as for reads). */
  mmioWrite(pa: number, width: AccessWidth, value: number): boolean {
    const hit = this.device(pa);
    if (hit === undefined || hit.offset + width > hit.dev.size || width < (hit.dev.minWidth ?? 1)) return false;
    hit.dev.write(hit.offset, width, value);
    return true;
  }

  /**
   * Visit [pa, pa + length) of RAM page by page: `fn(ramOffset, done, count)`. Throws if any
   * byte is not RAM (outside it, or a guest frame with no machine frame).
   */
  private eachPiece(pa: number, length: number, fn: (off: number, done: number, count: number) => void): void {
    let done = 0;
    while (done < length) {
      const a = pa + done;
      const off = this.ramOffset(a);
      if (off < 0) throw new RangeError(`0x${a.toString(16)} (in 0x${pa.toString(16)}..+0x${length.toString(16)}) is outside RAM`);
      const count = Math.min(length - done, 4096 - (a % 4096));
      fn(off, done, count);
      done += count;
    }
  }

  /** Copy bytes into RAM at a physical address (loaders). Throws if any byte is outside RAM. */
  writePhys(pa: number, bytes: Uint8Array): void {
    this.eachPiece(pa, bytes.length, (off, done, count) => this.ram.u8.set(bytes.subarray(done, done + count), off));
  }

  readPhys(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.eachPiece(pa, length, (off, done, count) => out.set(this.ram.u8.subarray(off, off + count), done));
    return out;
  }

  zeroPhys(pa: number, length: number): void {
    this.eachPiece(pa, length, (off, _done, count) => this.ram.u8.fill(0, off, off + count));
  }
}
