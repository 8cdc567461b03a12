/**
 * IPv4 (RFC 791), ICMP echo (RFC 792) and UDP (RFC 768): just what Domain-0's interface
 * needs to answer and send pings and to serve DHCP. Addresses are unsigned 32-bit numbers.
 */

export const IPPROTO_ICMP = 1,
  IPPROTO_TCP = 6,
  IPPROTO_UDP = 17;
export const ICMP_ECHOREPLY = 0,
  ICMP_DEST_UNREACH = 3,
  ICMP_ECHO = 8;
export const IP_HLEN = 20;
export const UDP_HLEN = 8;

export function formatIp(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.');
}

export function parseIp(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** `a.b.c.d/len` to address and prefix length. */
export function parseCidr(text: string): { ip: number; prefix: number } | undefined {
  const [a, p] = text.split('/');
  const ip = parseIp(a ?? '');
  const prefix = p === undefined ? 32 : Number(p);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32 || (p !== undefined && !/^\d+$/.test(p))) return undefined;
  return { ip, prefix };
}

export const prefixMask = (prefix: number): number => (prefix === 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0);

export const rd16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
export const rd32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
export function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** The Internet checksum (RFC 1071) of `b[start, end)`, folded, with `initial` added first. */
export function inetChecksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  /** The payload (after the header, up to total length). */
  payload: Uint8Array;
}

/** Parse an IPv4 packet; undefined if the header is malformed, truncated, fragmented or its checksum is wrong. */
export function parseIpv4(p: Uint8Array): Ipv4Packet | undefined {
  if (p.length < IP_HLEN || p[0]! >> 4 !== 4) return undefined;
  const ihl = (p[0]! & 15) * 4;
  const total = rd16(p, 2);
  if (ihl < IP_HLEN || total < ihl || total > p.length) return undefined;
  if ((rd16(p, 6) & 0x3fff) !== 0) return undefined; // a fragment (MF or an offset): not reassembled here
  if (inetChecksum(p, 0, ihl) !== 0) return undefined;
  return { src: rd32(p, 12), dst: rd32(p, 16), protocol: p[9]!, ttl: p[8]!, payload: p.subarray(ihl, total) };
}

let ipId = 1;

/** An IPv4 packet with a 20-byte header (DF clear, TTL 64 unless given). */
export function buildIpv4(src: number, dst: number, protocol: number, payload: Uint8Array, ttl = 64): Uint8Array {
  const p = new Uint8Array(IP_HLEN + payload.length);
  p[0] = 0x45;
  wr16(p, 2, p.length);
  wr16(p, 4, ipId);
  ipId = (ipId + 1) & 0xffff;
  p[8] = ttl;
  p[9] = protocol;
  wr32(p, 12, src);
  wr32(p, 16, dst);
  wr16(p, 10, inetChecksum(p, 0, IP_HLEN));
  p.set(payload, IP_HLEN);
  return p;
}

/** An ICMP message (type, code, the 4 bytes of rest-of-header as id/seq, data) with its checksum. */
export function buildIcmp(type: number, code: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = type;
  m[1] = code;
  wr16(m, 4, id);
  wr16(m, 6, seq);
  m.set(data, 8);
  wr16(m, 2, inetChecksum(m, 0, m.length));
  return m;
}

/** The pseudo-header sum UDP's checksum starts from (RFC 768). */
function pseudoSum(src: number, dst: number, protocol: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + len;
}

export function buildUdp(src: number, dst: number, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const u = new Uint8Array(UDP_HLEN + data.length);
  wr16(u, 0, sport);
  wr16(u, 2, dport);
  wr16(u, 4, u.length);
  u.set(data, UDP_HLEN);
  const c = inetChecksum(u, 0, u.length, pseudoSum(src, dst, IPPROTO_UDP, u.length));
  wr16(u, 6, c === 0 ? 0xffff : c);
  return u;
}

export interface UdpDatagram {
  sport: number;
  dport: number;
  data: Uint8Array;
}

/** Parse a UDP datagram; a wrong checksum (when one is present) or bad length gives undefined. */
export function parseUdp(ip: Ipv4Packet): UdpDatagram | undefined {
  const u = ip.payload;
  if (u.length < UDP_HLEN) return undefined;
  const len = rd16(u, 4);
  if (len < UDP_HLEN || len > u.length) return undefined;
  if (rd16(u, 6) !== 0 && inetChecksum(u, 0, len, pseudoSum(ip.src, ip.dst, IPPROTO_UDP, len)) !== 0) return undefined;
  return { sport: rd16(u, 0), dport: rd16(u, 2), data: u.subarray(UDP_HLEN, len) };
}
