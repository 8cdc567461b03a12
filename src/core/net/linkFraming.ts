/**
 * What a bridge link (link.ts) sends over its transport: one PDU per transport message (a
 * TCP frame of tcpChannel.ts's `u32 length` framing, a WebSocket binary message, a
 * BroadcastChannel message). A PDU is an 8-byte header and a payload, all big-endian as on
 * the wire of a tunnel (VXLAN's header is 8 bytes too, RFC 7348 section 5):
 *
 *   0  u8   type     1 HELLO, 2 FRAME, 3 BYE
 *   1  u8   ttl      FRAME: hosts the frame may still cross (LINK_TTL when it enters a link); 0 otherwise
 *   2  u16  length   of the payload, which must be the rest of the message
 *   4  u32  origin   FRAME: the host whose bridge first sent the frame into a link; HELLO, BYE: the sender
 *   8  payload       FRAME: one Ethernet frame without FCS, 14 to 1518 bytes (802.1Q-tagged at most);
 *                    HELLO: UTF-8 JSON (LinkHello), at most 1024 bytes; BYE: a one-line UTF-8 reason
 *
 * Anything else (shorter than the header, a length that is not the rest, an unknown type, a
 * runt or oversized frame, a HELLO that is not the JSON below) is refused with its reason,
 * which the link counts; nothing in a PDU is trusted before it is checked.
 */
import { ETH_FRAME_MAX_VLAN, ETH_HLEN } from './ethernet';

export const LINK_HELLO = 1,
  LINK_FRAME = 2,
  LINK_BYE = 3;
export const LINK_HEADER = 8;
/** Hops a frame may make between hosts: enough for a chain of lab hosts, and a frame caught in a loop dies after that many. */
export const LINK_TTL = 8;
export const LINK_HELLO_MAX = 1024;
/** The version in a LinkHello; a peer with another is refused. */
export const LINK_VERSION = 1;

/** What each end says first: who it is, which bridge, and Domain-0's place on the segment (segment.ts). */
export interface LinkHello {
  v: number;
  /** The sender's host id (random per host, 32 bits): a link to oneself or a second link to the same host is refused. */
  host: number;
  bridge: string;
  /** `join`: the end that connected (it moves its Domain-0 if the address is taken); `accept`: the end that was there. */
  role: 'join' | 'accept';
  /** Domain-0's slot on the segment (segment.ts: 1 is 10.0.0.1), and the slots the sender knows to be taken on its side. */
  slot: number;
  used: number[];
}

export type LinkPdu =
  | { type: typeof LINK_FRAME; ttl: number; origin: number; frame: Uint8Array }
  | { type: typeof LINK_HELLO; origin: number; hello: LinkHello }
  | { type: typeof LINK_BYE; origin: number; reason: string };

/** Why a PDU was refused (the link's `bad` counters). */
export type LinkPduError = 'short' | 'length' | 'type' | 'runt' | 'oversized' | 'hello';

function header(type: number, ttl: number, length: number, origin: number): Uint8Array {
  const b = new Uint8Array(LINK_HEADER + length);
  const v = new DataView(b.buffer);
  b[0] = type;
  b[1] = ttl;
  v.setUint16(2, length);
  v.setUint32(4, origin >>> 0);
  return b;
}

export function encodeFrame(frame: Uint8Array, origin: number, ttl: number): Uint8Array {
  const b = header(LINK_FRAME, ttl, frame.length, origin);
  b.set(frame, LINK_HEADER);
  return b;
}

function encodeText(type: number, origin: number, text: string): Uint8Array {
  const t = new TextEncoder().encode(text);
  const b = header(type, 0, t.length, origin);
  b.set(t, LINK_HEADER);
  return b;
}

export const encodeHello = (h: LinkHello): Uint8Array => encodeText(LINK_HELLO, h.host, JSON.stringify(h));
export const encodeBye = (origin: number, reason: string): Uint8Array => encodeText(LINK_BYE, origin, reason.split('\n')[0]!.slice(0, 200));

function parseHello(text: string): LinkHello | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof j !== 'object' || j === null) return undefined;
  const h = j as Record<string, unknown>;
  const u32 = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff_ffff;
  const slot = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 254;
  if (!u32(h.v) || !u32(h.host) || typeof h.bridge !== 'string' || !/^[A-Za-z0-9_.-]{1,15}$/.test(h.bridge)) return undefined;
  if ((h.role !== 'join' && h.role !== 'accept') || !slot(h.slot) || !Array.isArray(h.used) || h.used.length > 64 || !h.used.every(slot)) return undefined;
  return { v: h.v as number, host: h.host as number, bridge: h.bridge, role: h.role, slot: h.slot as number, used: h.used as number[] };
}

/** One PDU from one transport message, or the reason it is refused. */
export function decodeLinkPdu(msg: Uint8Array): LinkPdu | LinkPduError {
  if (msg.length < LINK_HEADER) return 'short';
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const type = msg[0]!;
  const length = v.getUint16(2);
  const origin = v.getUint32(4);
  if (length !== msg.length - LINK_HEADER) return 'length';
  const payload = msg.subarray(LINK_HEADER);
  switch (type) {
    case LINK_FRAME:
      if (length < ETH_HLEN) return 'runt';
      if (length > ETH_FRAME_MAX_VLAN) return 'oversized';
      return { type, ttl: msg[1]!, origin, frame: payload };
    case LINK_HELLO: {
      if (length > LINK_HELLO_MAX) return 'oversized';
      const hello = parseHello(new TextDecoder('utf-8', { fatal: false }).decode(payload));
      if (!hello || hello.host !== origin) return 'hello';
      return { type, origin, hello };
    }
    case LINK_BYE:
      if (length > LINK_HELLO_MAX) return 'oversized';
      return { type, origin, reason: new TextDecoder().decode(payload).replace(/[^\x20-\x7e]/g, '?') };
    default:
      return 'type';
  }
}
