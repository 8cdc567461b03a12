/**
 * Test support: the guest's side of a xenstore ring (what a PV kernel's xenbus driver
 * does), over a page in a SharedArrayBuffer, plus message helpers. Used by the tests only.
 */
import {
  sharedPage,
  XENSTORE_RING_SIZE,
  XS_RING_REQ,
  XS_RING_REQ_CONS,
  XS_RING_REQ_PROD,
  XS_RING_RSP,
  XS_RING_RSP_CONS,
  XS_RING_RSP_PROD,
  type SharedPage,
} from './ring';
import { decodeHeader, encodeMessage, stringsPayload, utf8String, XSD_SOCKMSG_SIZE, type XsMessage } from './wire';

export function newPage(): SharedPage {
  return sharedPage(new SharedArrayBuffer(4096));
}

/** A request message: NUL-terminated strings, or raw bytes. */
export function req(type: number, args: readonly string[] | Uint8Array, reqId = 1, txId = 0): Uint8Array {
  return encodeMessage(type, reqId, txId, args instanceof Uint8Array ? args : stringsPayload(args));
}

/** The payload's strings (split at NULs, the trailing one dropped). */
export function strings(m: XsMessage): string[] {
  const s = utf8String(m.payload);
  return s.endsWith('\0') ? s.slice(0, -1).split('\0') : s.split('\0');
}

export class GuestRing {
  readonly page: SharedPage;
  private rx = new Uint8Array(0);

  constructor(page?: SharedPage, start = 0) {
    this.page = page ?? newPage();
    for (const o of [XS_RING_REQ_CONS, XS_RING_REQ_PROD, XS_RING_RSP_CONS, XS_RING_RSP_PROD]) this.page.store32(o, start);
  }

  /** Write as much of `bytes` as fits into the request ring; returns how much. */
  write(bytes: Uint8Array): number {
    const p = this.page;
    const prod = p.load32(XS_RING_REQ_PROD);
    const space = XENSTORE_RING_SIZE - ((prod - p.load32(XS_RING_REQ_CONS)) >>> 0);
    const n = Math.min(space, bytes.length);
    for (let i = 0; i < n; i++) p.u8[XS_RING_REQ + ((prod + i) & (XENSTORE_RING_SIZE - 1))] = bytes[i]!;
    p.store32(XS_RING_REQ_PROD, (prod + n) >>> 0);
    return n;
  }

  /** Take everything in the response ring. */
  drain(): void {
    const p = this.page;
    const cons = p.load32(XS_RING_RSP_CONS);
    const n = (p.load32(XS_RING_RSP_PROD) - cons) >>> 0;
    if (n > XENSTORE_RING_SIZE) {
      // Indices scribbled on (fuzzing): resynchronise, as a defensive guest would.
      p.store32(XS_RING_RSP_CONS, p.load32(XS_RING_RSP_PROD));
      this.rx = new Uint8Array(0);
      return;
    }
    const buf = new Uint8Array(this.rx.length + n);
    buf.set(this.rx);
    for (let i = 0; i < n; i++) buf[this.rx.length + i] = p.u8[XS_RING_RSP + ((cons + i) & (XENSTORE_RING_SIZE - 1))]!;
    this.rx = buf;
    p.store32(XS_RING_RSP_CONS, (cons + n) >>> 0);
  }

  /** Drain, then return the complete messages received so far. */
  messages(): XsMessage[] {
    this.drain();
    const out: XsMessage[] = [];
    let o = 0;
    while (this.rx.length - o >= XSD_SOCKMSG_SIZE) {
      const h = decodeHeader(this.rx, o);
      if (this.rx.length - o - XSD_SOCKMSG_SIZE < h.len) break;
      out.push({ ...h, payload: this.rx.slice(o + XSD_SOCKMSG_SIZE, o + XSD_SOCKMSG_SIZE + h.len) });
      o += XSD_SOCKMSG_SIZE + h.len;
    }
    this.rx = this.rx.slice(o);
    return out;
  }
}
