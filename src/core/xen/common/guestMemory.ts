/**
 * The hypervisor's view of one domain's memory: guest-physical addresses translated
 * through the domain's P2M into machine memory. Everything a guest hands the hypervisor
 * (hypercall arguments, ring indices, shared_info bits) is read through here, and any
 * address outside the domain's populated RAM is a GuestFault (the hypercall then returns
 * -EFAULT): a guest can name only its own frames.
 */
import { P2M_MFN_MASK, P2M_READONLY } from '../../bus/bus';
import type { P2m } from './p2m';

export class GuestFault extends Error {}

export class GuestMemory {
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly p2m: P2m,
    readonly ramBase: number,
    readonly ramSize: number,
    /** Every write the hypervisor makes here (machine offset, length): log-dirty and the translation tier (cpu/writeWatch.ts). */
    private readonly noteWrite?: (at: number, length: number) => void,
  ) {
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
  }

  /** Machine byte offset of guest-physical `gpa`, or a GuestFault. */
  offset(gpa: number, write = false): number {
    const off = (gpa >>> 0) - this.ramBase;
    if (!(off >= 0 && off < this.ramSize)) throw new GuestFault(`0x${(gpa >>> 0).toString(16)} is outside the guest's RAM`);
    const e = this.p2m.get(off >>> 12);
    if (e < 0) throw new GuestFault(`0x${(gpa >>> 0).toString(16)} has no frame behind it`);
    if (write && (e & P2M_READONLY) !== 0) throw new GuestFault(`0x${(gpa >>> 0).toString(16)} is mapped read-only`);
    const at = (e & P2M_MFN_MASK) * 4096 + (off & 0xfff);
    // Noted when the address is resolved for a write, just before the store: a reader of the
    // write watch (log-dirty's CLEAN) runs on this thread, never between the two.
    if (write) this.noteWrite?.(at, 1);
    return at;
  }

  /** Check that `len` bytes from `gpa` are all there (and writable if `write`): a GuestFault if not. */
  check(gpa: number, len: number, write = false): void {
    if (len <= 0) return;
    for (let a = gpa - (gpa & 0xfff); a < gpa + len; a += 4096) this.offset(Math.max(a, gpa), write);
  }

  /** An aligned 32-bit word, read atomically (the guest may be writing it on another thread). */
  u32(gpa: number): number {
    if ((gpa & 3) !== 0) throw new GuestFault(`misaligned word at 0x${(gpa >>> 0).toString(16)}`);
    return Atomics.load(this.i32, this.offset(gpa) >> 2) >>> 0;
  }

  setU32(gpa: number, v: number): void {
    if ((gpa & 3) !== 0) throw new GuestFault(`misaligned word at 0x${(gpa >>> 0).toString(16)}`);
    Atomics.store(this.i32, this.offset(gpa, true) >> 2, v | 0);
  }

  /** Atomic OR into a word; returns the old value. */
  orU32(gpa: number, bits: number): number {
    if ((gpa & 3) !== 0) throw new GuestFault('misaligned word');
    return Atomics.or(this.i32, this.offset(gpa, true) >> 2, bits) >>> 0;
  }

  /** Atomic compare-and-swap of a word; returns the old value (the swap happened if it equals `expected`). */
  casU32(gpa: number, expected: number, replacement: number): number {
    if ((gpa & 3) !== 0) throw new GuestFault('misaligned word');
    return Atomics.compareExchange(this.i32, this.offset(gpa, true) >> 2, expected | 0, replacement | 0) >>> 0;
  }

  andU32(gpa: number, bits: number): number {
    if ((gpa & 3) !== 0) throw new GuestFault('misaligned word');
    return Atomics.and(this.i32, this.offset(gpa, true) >> 2, bits) >>> 0;
  }

  u16(gpa: number): number {
    return this.u8[this.offset(gpa)]! | (this.u8[this.offset(gpa + 1)]! << 8);
  }

  setU16(gpa: number, v: number): void {
    this.u8[this.offset(gpa, true)] = v & 0xff;
    this.u8[this.offset(gpa + 1, true)] = (v >>> 8) & 0xff;
  }

  u8At(gpa: number): number {
    return this.u8[this.offset(gpa)]!;
  }

  setU8(gpa: number, v: number): void {
    this.u8[this.offset(gpa, true)] = v;
  }

  /** Copy `len` bytes out of the guest (crossing frames as needed). */
  read(gpa: number, len: number): Uint8Array {
    if (len < 0 || len > 1 << 20) throw new GuestFault(`bad length ${len}`);
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = gpa + done;
      const n = Math.min(len - done, 4096 - (a & 0xfff));
      const off = this.offset(a);
      out.set(this.u8.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  write(gpa: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const a = gpa + done;
      const n = Math.min(bytes.length - done, 4096 - (a & 0xfff));
      const off = this.offset(a, true);
      this.u8.set(bytes.subarray(done, done + n), off);
      done += n;
    }
  }
}
