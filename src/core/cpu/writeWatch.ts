/**
 * Write watch: which RAM frames must have their writes noticed, and a per-frame write
 * generation that tells a reader "this frame was written since you looked" (QEMU's
 * TLB_NOTDIRTY, one mechanism for self-modifying code and for log-dirty migration;
 * DESIGN.md sections 8 and 9, docs/jit.md "Write watch").
 *
 * The arrays live in one buffer (a SharedArrayBuffer when vCPU workers and Domain-0 share
 * machine memory), indexed by the frame of a RAM byte offset (`ramOffset >>> 12`, the same
 * offsets the software TLB's addends produce):
 *
 * - `watch[frame]`: who watches the frame. Bits 0..30: vCPU `hartid & 31` holds
 *   translations of code in it; bit 31 (WATCH_LOG_DIRTY): reserved for log-dirty.
 *   A frame with any bit set never gets a fast write entry in a software TLB, so every
 *   write to it takes the store slow path, which calls `noteWrite`.
 * - `gen[frame]`: bumped by every noticed write. A translation records it when made and
 *   compares it before it runs.
 * - `epoch[0]`: bumped whenever a frame goes from unwatched to watched. A hart checks it
 *   between blocks and drops its fast write entries for watched frames: another vCPU may
 *   have filled one before the frame became watched.
 */

/** The watch bit reserved for live migration's log-dirty mode. */
export const WATCH_LOG_DIRTY = 1 << 31;

const HEADER_WORDS = 2; // epoch, spare

export class WriteWatch {
  readonly epoch: Int32Array;
  readonly watch: Int32Array;
  readonly gen: Int32Array;

  /** `frames` frames of RAM (machine memory for a domain under the hypervisor). */
  constructor(
    readonly frames: number,
    readonly buffer: ArrayBufferLike = new SharedArrayBuffer(WriteWatch.bytes(frames)),
  ) {
    if (buffer.byteLength < WriteWatch.bytes(frames)) throw new RangeError('write-watch buffer too small');
    this.epoch = new Int32Array(buffer, 0, HEADER_WORDS);
    this.watch = new Int32Array(buffer, HEADER_WORDS * 4, frames);
    this.gen = new Int32Array(buffer, (HEADER_WORDS + frames) * 4, frames);
  }

  /** Bytes of buffer `frames` frames need. */
  static bytes(frames: number): number {
    return (HEADER_WORDS + 2 * frames) * 4;
  }

  /** Whether writes to `frame` must take the slow path. */
  watched(frame: number): boolean {
    return this.watch[frame] !== 0;
  }

  /** Set watch bits on `frame`. Returns true if the frame was not watched before. */
  add(frame: number, bits: number): boolean {
    if (frame < 0 || frame >= this.frames) return false;
    const before = Atomics.or(this.watch, frame, bits);
    if (before !== 0) return false;
    Atomics.add(this.epoch, 0, 1);
    return true;
  }

  /** Clear watch bits on `frame` (writes to it may be fast again once no bit is left). */
  remove(frame: number, bits: number): void {
    if (frame >= 0 && frame < this.frames) Atomics.and(this.watch, frame, ~bits);
  }

  /** A write to a watched frame happened (store slow path, AMO, or a Domain-0 helper). */
  noteWrite(frame: number): void {
    Atomics.add(this.gen, frame, 1);
  }

  /**
   * For writers outside the hart (Domain-0 backends filling guest buffers): note a write
   * of `length` bytes at RAM byte offset `ramOffset`, frame by frame.
   */
  noteRange(ramOffset: number, length: number): void {
    if (length <= 0) return;
    const last = Math.min((ramOffset + length - 1) >>> 12, this.frames - 1);
    for (let f = ramOffset >>> 12; f <= last; f++) if (this.watch[f] !== 0) this.noteWrite(f);
  }

  generation(frame: number): number {
    return Atomics.load(this.gen, frame);
  }
}
