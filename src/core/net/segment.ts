/**
 * Domain-0's place on an Ethernet segment that links (link.ts) join across hosts. Every
 * hyperlab host starts as slot 1: Domain-0 at 10.0.0.1 with the MAC fe:ff:ff:ff:ff:ff (what
 * Linux's netback gives a Xen Domain-0's vifs) and the DHCP pool .100 to .199. Two hosts on one
 * segment must not both be that, so the host that joins a segment (the end that connects)
 * takes the lowest slot nobody on the other side holds, before any frame crosses:
 *
 *   slot 1      10.0.0.1   fe:ff:ff:ff:ff:ff   DHCP pool .100 - .199 (the host's own settings)
 *   slot k >= 2 10.0.0.k   fe:ff:ff:ff:ff:(0x100 - k)   DHCP pool .(200 + 10 (k - 2)) - .(209 + 10 (k - 2))
 *
 * Up to MAX_SLOT hosts on one segment. Each host keeps its own DHCP server with its own pool
 * (a split scope, as two dnsmasq servers on one LAN are run), and offers addresses only to
 * its own guests: a DISCOVER that came in through a link is left to the other host's server
 * (hostif.ts), so a guest gets one offer and the same address whichever host answers faster.
 * Requests to a server by its address (renewals, a guest migrated to the other host) are
 * answered across links.
 */
import { prefixMask } from './ipv4';

export const MAX_SLOT = 6;

export interface SegmentAddress {
  ip: number;
  mac: number;
  /** The DHCP pool, inclusive. */
  first: number;
  last: number;
}

/** Slot `k`'s addresses on the subnet of `base` (slot 1's: Domain-0's address and pool from the host's settings). */
export function slotAddress(k: number, base: { ip: number; prefix: number; first: number; last: number }): SegmentAddress {
  if (!Number.isInteger(k) || k < 1 || k > MAX_SLOT) throw new Error(`segment slot ${k} is not 1..${MAX_SLOT}`);
  if (k === 1) return { ip: base.ip, mac: 0xfeff_ffff_ffff, first: base.first, last: base.last };
  const net = (base.ip & prefixMask(base.prefix)) >>> 0;
  const lo = 200 + 10 * (k - 2);
  return { ip: (net | k) >>> 0, mac: 0xfeff_ffff_ff00 + (0x100 - k), first: (net | lo) >>> 0, last: (net | (lo + 9)) >>> 0 };
}

/** The lowest slot not in `taken`, or undefined when all MAX_SLOT are. */
export function freeSlot(taken: Iterable<number>): number | undefined {
  const t = new Set(taken);
  for (let k = 1; k <= MAX_SLOT; k++) if (!t.has(k)) return k;
  return undefined;
}
