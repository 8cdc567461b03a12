/**
 * Machine memory: one SharedArrayBuffer of 4 KiB frames, owned by the hypervisor, and the
 * frame allocator. Every frame has an owner (a domid, or FREE); the memory-map inspector
 * reads `owner`. Guests reach frames only through their P2M (p2m.ts).
 */
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const FREE = -1;
/** Frames the hypervisor keeps for itself (none are mapped into a guest). */
export const DOMID_XEN = 0x7ff2;

export class OutOfMemory extends Error {}

export class MachineMemory {
  readonly buffer: SharedArrayBuffer;
  readonly nrFrames: number;
  /** Owner of every machine frame: a domid, or FREE. */
  readonly owner: Int32Array;
  private readonly _free: Int32Array; // a stack of free frame numbers
  private _nrFree: number;
  /**
   * 1 for frames that have belonged to someone: only those need zeroing when handed out
   * again. A new SharedArrayBuffer is zero, and leaving untouched frames alone saves the
   * time (zeroing 64 MiB frame by frame took about 0.3 s in a browser worker) and the host
   * memory of guest RAM the guest never uses.
   */
  private readonly _used: Uint8Array;
  private readonly _bytes: Uint8Array;

  constructor(bytes: number) {
    if (bytes <= 0 || bytes % PAGE_SIZE !== 0) throw new RangeError('machine memory must be a positive multiple of 4 KiB');
    if (bytes > 0x8000_0000) throw new RangeError('machine memory is limited to 2 GiB');
    this.buffer = new SharedArrayBuffer(bytes);
    this.nrFrames = bytes / PAGE_SIZE;
    this.owner = new Int32Array(this.nrFrames).fill(FREE);
    this._free = new Int32Array(this.nrFrames);
    this._used = new Uint8Array(this.nrFrames);
    this._bytes = new Uint8Array(this.buffer);
    // Hand out low frames first: easier to read in the memory map.
    for (let i = 0; i < this.nrFrames; i++) this._free[i] = this.nrFrames - 1 - i;
    this._nrFree = this.nrFrames;
  }

  get nrFree(): number {
    return this._nrFree;
  }

  /** Take a free frame for `domid`, zero-filled. Throws OutOfMemory when none is left. */
  alloc(domid: number): number {
    if (this._nrFree === 0) throw new OutOfMemory('no free machine frames');
    const mfn = this._free[--this._nrFree]!;
    this.owner[mfn] = domid;
    if (this._used[mfn] !== 0) this._bytes.fill(0, mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE);
    this._used[mfn] = 1;
    return mfn;
  }

  /** Return a frame to the free pool. Freeing a free frame is a hypervisor bug. */
  free(mfn: number): void {
    if (this.owner[mfn] === FREE) throw new Error(`double free of machine frame ${mfn}`);
    this.owner[mfn] = FREE;
    this._free[this._nrFree++] = mfn;
  }

  /** Frames owned by `domid`. */
  countOwned(domid: number): number {
    let n = 0;
    for (let i = 0; i < this.nrFrames; i++) if (this.owner[i] === domid) n++;
    return n;
  }
}
