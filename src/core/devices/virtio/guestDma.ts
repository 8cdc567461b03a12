/**
 * The one way a device model in the hypervisor thread touches an hvm guest's memory
 * (DESIGN.md section 7: "every byte a backend writes into guest memory goes through one
 * helper"). Guest-physical addresses are checked against the domain's RAM window and
 * translated through its P2M, frame by frame; a range that leaves the RAM window, crosses
 * a hole, reaches a frame mapped read-only (for a write) or a frame another domain granted
 * (P2M_GRANT) fails as a whole, before a byte moves. So a descriptor can name only the
 * domain's own frames, as QEMU's address_space_map on the guest's address space does.
 *
 * Every frame written is reported to `onWrite`: `dmaWriteNote` notes it in the write watch,
 * for live migration's log-dirty mode and the translation tier (DESIGN.md section 8).
 *
 * Ring indices the guest updates on another thread are read with Atomics (aligned 16- and
 * 32-bit words), which also orders them against the descriptor reads that follow (the
 * read barrier of virtio 2.7.13.3).
 */
import { P2M_GRANT, P2M_MFN_MASK, P2M_READONLY } from '../../bus/bus';

/**
 * The `onWrite` every device model should pass: notes the frame in the write watch of
 * machine memory (cpu/writeWatch.ts), so live migration's log-dirty mode sends it again and
 * the translation tier rechecks code in it.
 */
export function dmaWriteNote(hv: { watch: { noteRange(at: number, length: number): void } }, d: { p2m: { get(gfn: number): number } }): (gfn: number) => void {
  return (gfn) => {
    const e = d.p2m.get(gfn);
    if (e >= 0) hv.watch.noteRange((e & P2M_MFN_MASK) * 4096, 4096);
  };
}

/** An access the guest named that is not its memory. The device turns it into an error status or NEEDS_RESET. */
export class DmaFault extends Error {
  override name = 'DmaFault';
}

export interface GuestDmaOptions {
  /** Machine memory (every frame of every domain). */
  machine: SharedArrayBuffer;
  /** The domain's guest-physical RAM window. */
  ramBase: number;
  ramSize: number;
  /** P2M lookup: guest frame number (relative to ramBase) -> entry (mfn and P2M_* flags), or < 0 for none. */
  p2m: (gfn: number) => number;
  /** Called for every guest frame (gfn, relative to ramBase) a device writes. */
  onWrite?: (gfn: number) => void;
}

export class GuestDma {
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly i32: Int32Array;
  /** Frames written since the last look (a count for tests and the inspector). */
  framesWritten = 0;

  constructor(private readonly o: GuestDmaOptions) {
    this.u8 = new Uint8Array(o.machine);
    this.u16 = new Uint16Array(o.machine, 0, o.machine.byteLength >>> 1);
    this.i32 = new Int32Array(o.machine, 0, o.machine.byteLength >>> 2);
  }

  /** Machine byte offset of guest-physical `gpa`, or a DmaFault. */
  private offset(gpa: number, write: boolean): number {
    const off = gpa - this.o.ramBase;
    if (!(off >= 0 && off < this.o.ramSize)) throw new DmaFault(`0x${gpa.toString(16)} is outside the guest's RAM`);
    const gfn = Math.floor(off / 4096);
    const e = this.o.p2m(gfn);
    if (e < 0) throw new DmaFault(`0x${gpa.toString(16)} has no frame behind it`);
    if ((e & P2M_GRANT) !== 0) throw new DmaFault(`0x${gpa.toString(16)} is another domain's frame`);
    if (write && (e & P2M_READONLY) !== 0) throw new DmaFault(`0x${gpa.toString(16)} is read-only`);
    return (e & P2M_MFN_MASK) * 4096 + (off % 4096);
  }

  /**
   * Check that [gpa, gpa + len) is the guest's memory (writable if `write`): a DmaFault if
   * not. `gpa` may be any number (a 64-bit descriptor address arrives as lo + hi * 2^32).
   */
  check(gpa: number, len: number, write: boolean): void {
    if (!Number.isSafeInteger(gpa) || gpa < 0 || !Number.isSafeInteger(len) || len < 0) throw new DmaFault(`bad range ${gpa}+${len}`);
    if (len === 0) return;
    const end = gpa + len;
    for (let a = gpa; a < end; a = (Math.floor(a / 4096) + 1) * 4096) this.offset(a, write);
  }

  /** Copy guest memory at `gpa` into `dst` (the whole range is checked first). */
  read(gpa: number, dst: Uint8Array): void {
    this.check(gpa, dst.length, false);
    let done = 0;
    while (done < dst.length) {
      const a = gpa + done;
      const n = Math.min(dst.length - done, 4096 - (a % 4096));
      const m = this.offset(a, false);
      dst.set(this.u8.subarray(m, m + n), done);
      done += n;
    }
  }

  /** Copy `src` into guest memory at `gpa` (the whole range is checked first, then each frame is marked written). */
  write(gpa: number, src: Uint8Array): void {
    this.check(gpa, src.length, true);
    let done = 0;
    while (done < src.length) {
      const a = gpa + done;
      const n = Math.min(src.length - done, 4096 - (a % 4096));
      const m = this.offset(a, true);
      this.u8.set(src.subarray(done, done + n), m);
      this.dirty(a);
      done += n;
    }
  }

  /** An aligned little-endian 16-bit word, read atomically. */
  u16At(gpa: number): number {
    if (gpa % 2 !== 0) throw new DmaFault(`misaligned 16-bit word at 0x${gpa.toString(16)}`);
    return Atomics.load(this.u16, this.offset(gpa, false) >>> 1);
  }

  setU16(gpa: number, v: number): void {
    if (gpa % 2 !== 0) throw new DmaFault(`misaligned 16-bit word at 0x${gpa.toString(16)}`);
    Atomics.store(this.u16, this.offset(gpa, true) >>> 1, v & 0xffff);
    this.dirty(gpa);
  }

  /** An aligned little-endian 32-bit word, read atomically. */
  u32At(gpa: number): number {
    if (gpa % 4 !== 0) throw new DmaFault(`misaligned word at 0x${gpa.toString(16)}`);
    return Atomics.load(this.i32, this.offset(gpa, false) >>> 2) >>> 0;
  }

  setU32(gpa: number, v: number): void {
    if (gpa % 4 !== 0) throw new DmaFault(`misaligned word at 0x${gpa.toString(16)}`);
    Atomics.store(this.i32, this.offset(gpa, true) >>> 2, v | 0);
    this.dirty(gpa);
  }

  private dirty(gpa: number): void {
    this.framesWritten++;
    this.o.onWrite?.(Math.floor((gpa - this.o.ramBase) / 4096));
  }
}
