/**
 * The physical address space of one hart: RAM as typed-array views over a (shared) buffer,
 * and MMIO devices at address ranges. RAM is not a device: the hart reaches it through its
 * TLB with a plain typed-array index; only misses and MMIO come through here.
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
  /** Where RAM starts in `buffer` (bytes, 4 KiB aligned); default 0. */
  bufferOffset?: number;
}

export class Bus {
  readonly ram: RamViews;
  readonly ramBase: number;
  readonly ramSize: number;
  private readonly _mappings: Mapping[] = [];

  constructor(opts: BusOptions) {
    if (opts.ramSize <= 0 || opts.ramSize % 4096 !== 0) throw new RangeError('RAM size must be a positive multiple of 4 KiB');
    if (opts.ramBase + opts.ramSize > 0x1_0000_0000) throw new RangeError('RAM must end below 4 GiB');
    this.ramBase = opts.ramBase;
    this.ramSize = opts.ramSize;
    // The views cover exactly this RAM: an index past either end reads undefined and
    // writes nothing, so no guest access can reach other bytes of a shared buffer.
    this.ram = ramViews(opts.buffer ?? new ArrayBuffer(opts.ramSize), opts.bufferOffset ?? 0, opts.ramSize);
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
    return off >= 0 && off < this.ramSize ? off : -1;
  }

  /** The device mapped at `pa`, with the offset into it, or undefined. */
  device(pa: number): { dev: MmioDevice; offset: number } | undefined {
    for (const m of this._mappings) if (pa >= m.base && pa < m.end) return { dev: m.dev, offset: pa - m.base };
    return undefined;
  }

  /** MMIO read; undefined means no device answers (an access fault for the hart). */
  mmioRead(pa: number, width: AccessWidth): number | undefined {
    const hit = this.device(pa);
    if (hit === undefined || hit.offset + width > hit.dev.size) return undefined;
    return hit.dev.read(hit.offset, width);
  }

  /** MMIO write; false means no device answers. */
  mmioWrite(pa: number, width: AccessWidth, value: number): boolean {
    const hit = this.device(pa);
    if (hit === undefined || hit.offset + width > hit.dev.size) return false;
    hit.dev.write(hit.offset, width, value);
    return true;
  }

  /** Copy bytes into RAM at a physical address (loaders). Throws if any byte is outside RAM. */
  writePhys(pa: number, bytes: Uint8Array): void {
    const off = this.ramOffset(pa);
    if (off < 0 || off + bytes.length > this.ramSize) {
      throw new RangeError(`0x${pa.toString(16)}..+0x${bytes.length.toString(16)} is outside RAM`);
    }
    this.ram.u8.set(bytes, off);
  }

  readPhys(pa: number, length: number): Uint8Array {
    const off = this.ramOffset(pa);
    if (off < 0 || off + length > this.ramSize) throw new RangeError(`0x${pa.toString(16)} is outside RAM`);
    return this.ram.u8.slice(off, off + length);
  }
}
