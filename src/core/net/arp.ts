/** ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet, and a cache of what was learned. */
import { ETH_P_IP } from './ethernet';
import { putMac, macAt } from './ethernet';
import { rd16, rd32, wr16, wr32 } from './ipv4';

export const ARPOP_REQUEST = 1,
  ARPOP_REPLY = 2;
export const ARP_LEN = 28;

export interface ArpPacket {
  op: number;
  sha: number;
  spa: number;
  tha: number;
  tpa: number;
}

/** Parse an ARP packet for Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4); undefined for anything else. */
export function parseArp(p: Uint8Array): ArpPacket | undefined {
  if (p.length < ARP_LEN || rd16(p, 0) !== 1 || rd16(p, 2) !== ETH_P_IP || p[4] !== 6 || p[5] !== 4) return undefined;
  return { op: rd16(p, 6), sha: macAt(p, 8), spa: rd32(p, 14), tha: macAt(p, 18), tpa: rd32(p, 24) };
}

export function buildArp(a: ArpPacket): Uint8Array {
  const p = new Uint8Array(ARP_LEN);
  wr16(p, 0, 1);
  wr16(p, 2, ETH_P_IP);
  p[4] = 6;
  p[5] = 4;
  wr16(p, 6, a.op);
  putMac(p, 8, a.sha);
  wr32(p, 14, a.spa);
  putMac(p, 18, a.tha);
  wr32(p, 24, a.tpa);
  return p;
}
