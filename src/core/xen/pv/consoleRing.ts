/**
 * Domain-0's backend for a pv domain's console ring (struct xencons_interface,
 * public/io/console.h; xenconsoled's job): drain `out` into the domain's console when the
 * guest signals, and feed typed input into `in`.
 *
 * The page is written by the guest on another thread, so it is hostile: the backend keeps
 * its own copies of the indices it owns (out_cons, in_prod) and only ever writes them to
 * the page, never reads them back; the guest's indices (out_prod, in_cons) are checked
 * against them. A producer more than a ring ahead is clamped to one ring, never trusted.
 */
import type { GuestMemory } from '../common/guestMemory';
import * as X from '../public/xen';

export class ConsoleRing {
  private outCons: number;
  private inProd: number;

  /** `ring`: the guest-physical address of the page. The indices start as the page has them. */
  constructor(
    private readonly mem: GuestMemory,
    private readonly ring: number,
  ) {
    this.outCons = mem.u32(ring + X.XENCONS_OUT_CONS);
    this.inProd = mem.u32(ring + X.XENCONS_IN_PROD);
  }

  /** Read what the guest produced since last time; returns the bytes (possibly none). */
  drain(): Uint8Array {
    const { mem, ring } = this;
    const prod = mem.u32(ring + X.XENCONS_OUT_PROD);
    let avail = (prod - this.outCons) >>> 0;
    if (avail > X.XENCONS_OUT_SIZE) avail = X.XENCONS_OUT_SIZE; // a hostile index: take at most one ring
    const out = new Uint8Array(avail);
    for (let i = 0; i < avail; i++) out[i] = mem.u8At(ring + X.XENCONS_OUT + ((this.outCons + i) & (X.XENCONS_OUT_SIZE - 1)));
    this.outCons = (this.outCons + avail) >>> 0;
    mem.setU32(ring + X.XENCONS_OUT_CONS, this.outCons);
    return out;
  }

  /** Put input bytes into `in`; returns how many fit. */
  feed(bytes: readonly number[]): number {
    const { mem, ring } = this;
    const cons = mem.u32(ring + X.XENCONS_IN_CONS);
    const used = (this.inProd - cons) >>> 0;
    const room = used > X.XENCONS_IN_SIZE ? 0 : X.XENCONS_IN_SIZE - used; // a consumer past the producer: no room
    const n = Math.min(room, bytes.length);
    for (let i = 0; i < n; i++) mem.setU8(ring + X.XENCONS_IN + ((this.inProd + i) & (X.XENCONS_IN_SIZE - 1)), bytes[i]!);
    this.inProd = (this.inProd + n) >>> 0;
    mem.setU32(ring + X.XENCONS_IN_PROD, this.inProd); // after the bytes (setU32 is an atomic store)
    return n;
  }
}
