/**
 * The server side of a xenstore ring: `struct xenstore_domain_interface` (io/xs_wire.h,
 * docs/misc/xenstore-ring.txt) in one page of the guest's memory:
 *
 *     0    char req[1024]      requests, written by the guest
 *     1024 char rsp[1024]      replies and watch events, written by xenstored
 *     2048 u32 req_cons        xenstored
 *     2052 u32 req_prod        guest
 *     2056 u32 rsp_cons        guest
 *     2060 u32 rsp_prod        xenstored
 *     2064 u32 server_features xenstored: RECONNECTION | ERROR
 *     2068 u32 connection      guest sets RECONNECT (1), xenstored sets CONNECTED (0)
 *     2072 u32 error           xenstored: why it stopped serving the ring
 *     2076 u32 evtchn_port     the domain's event channel (written by the toolstack)
 *
 * The indices are free-running u32 byte counts; byte x of a stream is at x mod 1024.
 *
 * The page is written by a guest running on another thread, so it is hostile: xenstored
 * keeps its own copy of the indices it owns (req_cons, rsp_prod) and never trusts the ones
 * the guest owns. A producer more than 1024 bytes ahead of the consumer, or behind it, is a
 * protocol error (XENSTORE_ERROR_RINGIDX), reported by throwing RingIndexError, which the
 * connection turns into the `error` field and a stop. Indices are read and written with
 * Atomics (sequentially consistent), so data written before an index is seen after it.
 */

/** The page, as xenstored sees it: bytes, and 32-bit words accessed atomically. */
export interface SharedPage {
  /** The page's bytes (at least 4096; the ring uses the first 2080). */
  readonly u8: Uint8Array;
  /** Atomically load the little-endian u32 at `offset` (4-aligned). */
  load32(offset: number): number;
  /** Atomically store a u32 at `offset` (4-aligned). */
  store32(offset: number, value: number): void;
}

/** A SharedPage over `buffer` (normally machine memory's SharedArrayBuffer) at `byteOffset`. */
export function sharedPage(buffer: ArrayBufferLike, byteOffset = 0, length = 4096): SharedPage {
  if (byteOffset % 4 !== 0) throw new RangeError('page must be 4-byte aligned');
  const u8 = new Uint8Array(buffer, byteOffset, length);
  const i32 = new Int32Array(buffer, byteOffset, length >> 2);
  return {
    u8,
    load32: (o) => Atomics.load(i32, o >> 2) >>> 0,
    store32: (o, v) => void Atomics.store(i32, o >> 2, v | 0),
  };
}

export const XENSTORE_RING_SIZE = 1024;
export const XS_RING_REQ = 0;
export const XS_RING_RSP = 1024;
export const XS_RING_REQ_CONS = 2048;
export const XS_RING_REQ_PROD = 2052;
export const XS_RING_RSP_CONS = 2056;
export const XS_RING_RSP_PROD = 2060;
export const XS_RING_SERVER_FEATURES = 2064;
export const XS_RING_CONNECTION = 2068;
export const XS_RING_ERROR = 2072;
export const XS_RING_EVTCHN_PORT = 2076;

export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

const MASK = XENSTORE_RING_SIZE - 1;

export class RingIndexError extends Error {
  override readonly name = 'RingIndexError';
}

export class XenstoreRing {
  private reqCons: number;
  private rspProd: number;

  constructor(readonly page: SharedPage) {
    // Advertise the features before touching any data (xenstore-ring.txt); start from the
    // indices found in the page: a guest may not assume they start at zero.
    page.store32(XS_RING_SERVER_FEATURES, page.load32(XS_RING_SERVER_FEATURES) | XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR);
    this.reqCons = page.load32(XS_RING_REQ_CONS);
    this.rspProd = page.load32(XS_RING_RSP_PROD);
  }

  /** Bytes of requests waiting. Throws RingIndexError if req_prod is impossible. */
  requestBytes(): number {
    const n = (this.page.load32(XS_RING_REQ_PROD) - this.reqCons) >>> 0;
    if (n > XENSTORE_RING_SIZE) throw new RingIndexError(`req_prod ${n} bytes ahead of req_cons`);
    return n;
  }

  /** Free space for replies. Throws RingIndexError if rsp_cons is impossible. */
  responseSpace(): number {
    const used = (this.rspProd - this.page.load32(XS_RING_RSP_CONS)) >>> 0;
    if (used > XENSTORE_RING_SIZE) throw new RingIndexError(`rsp_cons ${used} bytes behind rsp_prod`);
    return XENSTORE_RING_SIZE - used;
  }

  /** Consume up to `len` request bytes into dst[off..]; returns how many were taken. */
  read(dst: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.requestBytes());
    const u8 = this.page.u8;
    for (let i = 0; i < n; i++) dst[off + i] = u8[XS_RING_REQ + ((this.reqCons + i) & MASK)]!;
    if (n > 0) {
      this.reqCons = (this.reqCons + n) >>> 0;
      this.page.store32(XS_RING_REQ_CONS, this.reqCons);
    }
    return n;
  }

  /** Produce up to `len` bytes of src[off..] as replies; returns how many fit. */
  write(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.responseSpace());
    const u8 = this.page.u8;
    for (let i = 0; i < n; i++) u8[XS_RING_RSP + ((this.rspProd + i) & MASK)] = src[off + i]!;
    if (n > 0) {
      this.rspProd = (this.rspProd + n) >>> 0;
      this.page.store32(XS_RING_RSP_PROD, this.rspProd);
    }
    return n;
  }

  get reconnectRequested(): boolean {
    return this.page.load32(XS_RING_CONNECTION) === XENSTORE_RECONNECT;
  }

  get error(): number {
    return this.page.load32(XS_RING_ERROR);
  }

  /** Stop serving the ring and say why (the connection error feature). */
  setError(code: number): void {
    this.page.store32(XS_RING_ERROR, code);
  }

  /** Reconnection: empty both queues, clear the error, then say CONNECTED again. */
  reset(): void {
    const p = this.page;
    this.reqCons = 0;
    this.rspProd = 0;
    p.store32(XS_RING_REQ_CONS, 0);
    p.store32(XS_RING_REQ_PROD, 0);
    p.store32(XS_RING_RSP_CONS, 0);
    p.store32(XS_RING_RSP_PROD, 0);
    p.store32(XS_RING_ERROR, XENSTORE_ERROR_NONE);
    p.store32(XS_RING_CONNECTION, XENSTORE_CONNECTED);
  }
}
