/**
 * Ethernet II frames (IEEE 802.3 with an EtherType): the destination and source MAC, the
 * type, the payload. MAC addresses are kept as numbers (48 bits fit a double exactly), so
 * the bridge's forwarding table is a Map keyed by number, and printed the way `ip link`
 * and tcpdump print them.
 */

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
/** The largest frame without a VLAN tag (1500 bytes of payload) and with one (802.1Q). */
export const ETH_FRAME_MAX = 1514;
export const ETH_FRAME_MAX_VLAN = 1518;

export const ETH_P_IP = 0x0800,
  ETH_P_ARP = 0x0806,
  ETH_P_8021Q = 0x8100,
  ETH_P_IPV6 = 0x86dd;

export const MAC_BROADCAST = 0xffff_ffff_ffff;

/** The MAC at byte `off` of `b`, as a number. */
export function macAt(b: Uint8Array, off: number): number {
  return b[off]! * 2 ** 40 + b[off + 1]! * 2 ** 32 + ((b[off + 2]! << 24) >>> 0) + ((b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!);
}

export function putMac(b: Uint8Array, off: number, mac: number): void {
  let m = mac;
  for (let i = 5; i >= 0; i--) {
    b[off + i] = m % 256;
    m = Math.floor(m / 256);
  }
}

/** The group bit (I/G, the first byte's lowest bit): broadcast and multicast destinations. */
export function isGroupMac(mac: number): boolean {
  return Math.floor(mac / 2 ** 40) % 2 === 1;
}

export function formatMac(mac: number): string {
  const b = new Uint8Array(6);
  putMac(b, 0, mac);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** `aa:bb:cc:dd:ee:ff` (or with dashes) to a number, or undefined if it is not a MAC. */
export function parseMac(text: string): number | undefined {
  const m = /^([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})$/i.exec(text.trim());
  if (!m) return undefined;
  return m.slice(1).reduce((acc, h) => acc * 256 + parseInt(h, 16), 0);
}

export const ethDest = (f: Uint8Array): number => macAt(f, 0);
export const ethSource = (f: Uint8Array): number => macAt(f, 6);
export const ethType = (f: Uint8Array): number => (f[12]! << 8) | f[13]!;

/** A frame: header then payload. */
export function ethFrame(dest: number, source: number, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + payload.length);
  putMac(f, 0, dest);
  putMac(f, 6, source);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, ETH_HLEN);
  return f;
}
