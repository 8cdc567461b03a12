/**
 * Machine memory: one SharedArrayBuffer of 4 KiB frames, owned by the hypervisor, and the
 * frame allocator. Every frame has an owner (a domid, or FREE); the memory-map inspector
 * reads `owner`. Guests reach frames only through their P2M (p2m.ts).
 *
 * Besides its owner's allocation, a frame may be referenced by mappings elsewhere: a grant
 * mapped by another domain, a ring page Domain-0's xenstored uses. Those take a reference
 * (`get`/`put`), as Xen's page reference counts do, and a frame is never freed while it
 * has one: `free` of a referenced frame only marks it, and the last `put` frees it. Until
 * then it belongs to DOMID_XEN, so no new domain (which may get the old domid) owns it.
 */
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;
export const FREE = -1;
/** Frames the hypervisor keeps for itself (none are mapped into a guest). */
export const DOMID_XEN = 0x7ff2;

import type { MachineViews } from './sharedInfo';

export class OutOfMemory extends Error {}

export class MachineMemory {
  readonly buffer: SharedArrayBuffer;
  readonly nrFrames: number;
  /** Owner of every machine frame: a domid, or FREE. */
  readonly owner: Int32Array;
  /** Word and byte views of all of machine memory (for shared_info and rings). */
  readonly views: MachineViews;
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
  /** References from mappings other than the owner's own P2M entry. */
  private readonly _refs: Int32Array;
  /** Frames freed by their owner while still referenced: freed at the last `put`. */
  private readonly _freeOnPut: Uint8Array;
  /** Free frames that still hold a former owner's bytes (zeroed at `alloc`, or ahead of it by `scrub`). */
  private _dirtyFree = 0;

  constructor(bytes: number) {
    if (bytes <= 0 || bytes % PAGE_SIZE !== 0) throw new RangeError('machine memory must be a positive multiple of 4 KiB');
    if (bytes > 0x8000_0000) throw new RangeError('machine memory is limited to 2 GiB');
    this.buffer = new SharedArrayBuffer(bytes);
    this.nrFrames = bytes / PAGE_SIZE;
    this.owner = new Int32Array(this.nrFrames).fill(FREE);
    this._free = new Int32Array(this.nrFrames);
    this._used = new Uint8Array(this.nrFrames);
    this._bytes = new Uint8Array(this.buffer);
    this.views = { i32: new Int32Array(this.buffer), u8: this._bytes };
    this._refs = new Int32Array(this.nrFrames);
    this._freeOnPut = new Uint8Array(this.nrFrames);
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
    if (this._used[mfn] !== 0) {
      this._bytes.fill(0, mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE);
      this._dirtyFree--;
    }
    this._used[mfn] = 1;
    return mfn;
  }

  /**
   * Xen's idle scrubbing (xen/common/page_alloc.c scrub_free_pages): zero up to `max` free
   * frames that a former owner wrote, so that `alloc` need not (a restore or an incoming
   * migration allocates every frame of the domain at once, inside the downtime). Returns how
   * many such frames are left. The frames handed out next (the top of the free stack) first.
   */
  scrub(max: number): number {
    let done = 0;
    for (let i = this._nrFree - 1; i >= 0 && done < max && this._dirtyFree > 0; i--) {
      const mfn = this._free[i]!;
      if (this._used[mfn] === 0) continue;
      this._bytes.fill(0, mfn * PAGE_SIZE, (mfn + 1) * PAGE_SIZE);
      this._used[mfn] = 0;
      this._dirtyFree--;
      done++;
    }
    return this._dirtyFree;
  }

  /** Free frames still to scrub. */
  get nrDirtyFree(): number {
    return this._dirtyFree;
  }

  /**
   * The owner gives a frame back. A frame something still references stays allocated (to
   * DOMID_XEN) until the last reference goes. Freeing a free frame is a hypervisor bug.
   */
  free(mfn: number): void {
    if (this.owner[mfn] === FREE || this._freeOnPut[mfn] !== 0) throw new Error(`double free of machine frame ${mfn}`);
    if (this._refs[mfn]! > 0) {
      this._freeOnPut[mfn] = 1;
      this.owner[mfn] = DOMID_XEN;
      return;
    }
    this.owner[mfn] = FREE;
    this._free[this._nrFree++] = mfn;
    if (this._used[mfn] !== 0) this._dirtyFree++;
  }

  /** Take a reference on an allocated frame (a mapping of it outside its owner's P2M). */
  get(mfn: number): void {
    if (this.owner[mfn] === FREE) throw new Error(`reference to free machine frame ${mfn}`);
    this._refs[mfn] = this._refs[mfn]! + 1;
  }

  /** Drop a reference; the last one frees a frame its owner has already given back. */
  put(mfn: number): void {
    if (this._refs[mfn]! <= 0) throw new Error(`unbalanced reference drop on machine frame ${mfn}`);
    this._refs[mfn] = this._refs[mfn]! - 1;
    if (this._refs[mfn] === 0 && this._freeOnPut[mfn] !== 0) {
      this._freeOnPut[mfn] = 0;
      this.owner[mfn] = FREE;
      this._free[this._nrFree++] = mfn;
      if (this._used[mfn] !== 0) this._dirtyFree++;
    }
  }

  /** References held on a frame besides its owner's. */
  refs(mfn: number): number {
    return this._refs[mfn] ?? 0;
  }

  /** Frames owned by `domid`. */
  countOwned(domid: number): number {
    let n = 0;
    for (let i = 0; i < this.nrFrames; i++) if (this.owner[i] === domid) n++;
    return n;
  }
}
