/**
 * The xenstore wire protocol (io/xs_wire.h, docs/misc/xenstore.txt): every message in
 * either direction is a `struct xsd_sockmsg { u32 type, req_id, tx_id, len; }`, little-
 * endian, followed by `len` bytes of payload, usually NUL-terminated strings. A reply has
 * the request's type, req_id and tx_id, or type ERROR with the errno's name. Watch events
 * are unsolicited WATCH_EVENT messages with req_id = tx_id = 0.
 *
 * Payload strings are handled as binary strings (one char per byte, latin1) so that any
 * bytes a guest sends round-trip exactly; paths are ASCII anyway.
 */
import type { XsErrno } from './errors';

export const XsType = {
  CONTROL: 0,
  DEBUG: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  /* 20 was XS_RESTRICT, removed */
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
  GET_FEATURE: 23,
  SET_FEATURE: 24,
  GET_QUOTA: 25,
  SET_QUOTA: 26,
  INVALID: 0xffff,
} as const;
export type XsTypeName = Exclude<keyof typeof XsType, 'DEBUG'>;

const TYPE_NAMES: Record<number, XsTypeName> = {};
for (const [name, n] of Object.entries(XsType)) if (name !== 'DEBUG') TYPE_NAMES[n] = name as XsTypeName;

/** "READ" for 2, and so on; "#<n>" for numbers xs_wire.h does not define. */
export function xsTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `#${type}`;
}

export const XSD_SOCKMSG_SIZE = 16;
/** Violating this is very bad: the connection is killed. */
export const XENSTORE_PAYLOAD_MAX = 4096;

export interface XsHeader {
  type: number;
  reqId: number;
  txId: number;
  len: number;
}

export interface XsMessage extends XsHeader {
  payload: Uint8Array;
}

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Decode a header from 16 bytes at `offset`. */
export function decodeHeader(b: Uint8Array, offset = 0): XsHeader {
  return { type: le32(b, offset), reqId: le32(b, offset + 4), txId: le32(b, offset + 8), len: le32(b, offset + 12) };
}

/** Encode a whole message: header (len = payload length) and payload. */
export function encodeMessage(type: number, reqId: number, txId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(XSD_SOCKMSG_SIZE + payload.length);
  put32(out, 0, type);
  put32(out, 4, reqId);
  put32(out, 8, txId);
  put32(out, 12, payload.length);
  out.set(payload, XSD_SOCKMSG_SIZE);
  return out;
}

/** Bytes of a binary string (each char's low 8 bits). */
export function binaryBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** A binary string of bytes. */
export function bytesBinary(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** Payload of NUL-terminated strings: "a\0b\0". */
export function stringsPayload(strings: readonly string[]): Uint8Array {
  return binaryBytes(strings.map((s) => s + '\0').join(''));
}

/**
 * Split a payload into its NUL-terminated strings. Returns undefined if the payload does
 * not end with a NUL (a string is missing its terminator). An empty payload has none.
 */
export function splitStrings(payload: Uint8Array): string[] | undefined {
  if (payload.length === 0) return [];
  if (payload[payload.length - 1] !== 0) return undefined;
  return bytesBinary(payload.subarray(0, payload.length - 1)).split('\0');
}

/** The first NUL-terminated string and the bytes after it, or undefined without a NUL. */
export function firstString(payload: Uint8Array): { head: string; rest: Uint8Array } | undefined {
  const nul = payload.indexOf(0);
  if (nul < 0) return undefined;
  return { head: bytesBinary(payload.subarray(0, nul)), rest: payload.subarray(nul + 1) };
}

export function errorPayload(errno: XsErrno): Uint8Array {
  return stringsPayload([errno]);
}

export const OK_PAYLOAD: Uint8Array = stringsPayload(['OK']);

export { utf8Bytes, utf8String } from './utf8';
