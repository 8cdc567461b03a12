/**
 * Domain-0's backend for a pv domain's console ring (struct xencons_interface,
 * public/io/console.h; xenconsoled's job): drain `out` into the domain's console when the
 * guest signals, and feed typed input into `in`. The indices are guest-written: a producer
 * that claims more than the ring holds is clamped, never trusted.
 */
import type { GuestMemory } from '../common/guestMemory';
import * as X from '../public/xen';

/** Read what the guest produced since last time; returns the bytes (possibly none). */
export function consoleRingDrain(mem: GuestMemory, ring: number): Uint8Array {
  const cons = mem.u32(ring + X.XENCONS_OUT_CONS);
  const prod = mem.u32(ring + X.XENCONS_OUT_PROD);
  let avail = (prod - cons) >>> 0;
  if (avail > X.XENCONS_OUT_SIZE) avail = X.XENCONS_OUT_SIZE; // a hostile index: take at most one ring
  const out = new Uint8Array(avail);
  for (let i = 0; i < avail; i++) out[i] = mem.u8At(ring + X.XENCONS_OUT + ((cons + i) & (X.XENCONS_OUT_SIZE - 1)));
  mem.setU32(ring + X.XENCONS_OUT_CONS, (cons + avail) >>> 0);
  return out;
}

/** Put input bytes into `in`; returns how many fit. */
export function consoleRingFeed(mem: GuestMemory, ring: number, bytes: readonly number[]): number {
  const cons = mem.u32(ring + X.XENCONS_IN_CONS);
  let prod = mem.u32(ring + X.XENCONS_IN_PROD);
  const used = (prod - cons) >>> 0;
  const room = used > X.XENCONS_IN_SIZE ? 0 : X.XENCONS_IN_SIZE - used;
  const n = Math.min(room, bytes.length);
  for (let i = 0; i < n; i++) {
    mem.setU8(ring + X.XENCONS_IN + (prod & (X.XENCONS_IN_SIZE - 1)), bytes[i]!);
    prod = (prod + 1) >>> 0;
  }
  mem.setU32(ring + X.XENCONS_IN_PROD, prod); // after the bytes (setU32 is an atomic store)
  return n;
}
