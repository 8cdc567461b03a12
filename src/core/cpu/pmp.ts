/**
 * Physical memory protection (privileged spec 1.12, section 3.7): 16 entries, grain 4
 * bytes, as QEMU's `virt` harts have.
 *
 * The lowest-numbered entry that matches any byte of an access decides it; an access that
 * an entry matches only in part fails. With no matching entry, M-mode succeeds and S/U
 * fail (entries are implemented). Entries without L do not apply to M-mode.
 *
 * Checks happen on the slow path only: the TLB caches a page only when one PMP answer
 * holds for the whole 4 KiB page, so the fast path never needs to look here.
 */
import type { Hart } from './hart';
import { PRV_M } from './trap';

export const PMP_R = 1,
  PMP_W = 2,
  PMP_X = 4;
const PMP_L = 0x80;
const A_OFF = 0,
  A_TOR = 1,
  A_NA4 = 2;

/** Permissions for the range, or PMP_SPLIT when an entry boundary cuts through it. */
export const PMP_SPLIT = -1;

/** Scratch for `bounds`: an array per call was most of the slow path's garbage. */
const range = new Float64Array(2);

/** Entry i's byte range [lo, hi) into `range` (up to 2^34: doubles, not int32). */
function bounds(h: Hart, i: number): void {
  const a = (h.pmpcfg[i]! >>> 3) & 3;
  const addr = h.pmpaddr[i]! >>> 0;
  if (a === A_TOR) {
    range[0] = i === 0 ? 0 : (h.pmpaddr[i - 1]! >>> 0) * 4;
    range[1] = addr * 4;
  } else if (a === A_NA4) {
    range[0] = addr * 4;
    range[1] = addr * 4 + 4;
  } else {
    // NAPOT: the number of trailing ones t gives a region of 2^(t+3) bytes (table 3.10).
    const lowestZero = ~addr & (addr + 1); // the lowest clear bit of addr, alone
    const t = lowestZero === 0 ? 32 : 31 - Math.clz32(lowestZero);
    const size = 2 ** (t + 3);
    range[0] = Math.floor((addr * 4) / size) * size;
    range[1] = range[0] + size;
  }
}

/**
 * The permissions (PMP_R | PMP_W | PMP_X) that PMP grants at privilege `priv` to every
 * byte of [pa, pa + len), or PMP_SPLIT if the entry that matches covers only part of it.
 */
export function pmpPermissions(h: Hart, pa: number, len: number, priv: number): number {
  for (let i = 0; i < 16; i++) {
    const cfg = h.pmpcfg[i]!;
    if (((cfg >>> 3) & 3) === A_OFF) continue;
    bounds(h, i);
    const lo = range[0]!,
      hi = range[1]!;
    if (pa + len <= lo || pa >= hi) continue;
    if (pa < lo || pa + len > hi) return PMP_SPLIT;
    if (priv === PRV_M && (cfg & PMP_L) === 0) return PMP_R | PMP_W | PMP_X;
    return cfg & 7;
  }
  return priv === PRV_M ? PMP_R | PMP_W | PMP_X : 0;
}

/** Write pmpcfg byte `i` (WARL): locked entries keep their value. */
export function pmpWriteCfg(h: Hart, i: number, v: number): void {
  if ((h.pmpcfg[i]! & PMP_L) === 0) h.pmpcfg[i] = v & 0x9f;
}

/** Write pmpaddr `i`: ignored if entry i is locked, or entry i+1 is a locked TOR (3.7.1). */
export function pmpWriteAddr(h: Hart, i: number, v: number): void {
  if ((h.pmpcfg[i]! & PMP_L) !== 0) return;
  const next = h.pmpcfg[i + 1];
  if (next !== undefined && (next & PMP_L) !== 0 && ((next >>> 3) & 3) === A_TOR) return;
  h.pmpaddr[i] = v;
}
