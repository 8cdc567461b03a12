/**
 * The backend's half of an io/ring.h shared ring (BACK_RING_INIT, RING_COPY_REQUEST,
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY, RING_FINAL_CHECK_FOR_REQUESTS) over a page
 * Domain-0 has mapped from the frontend (GrantTables.dom0Map): the page is at
 * `mfn * 4096` in machine memory, and the frontend writes it from its vCPU thread at any
 * moment.
 *
 * So the page is hostile. The backend keeps its own copies of the indices it owns
 * (rsp_prod_pvt, req_cons, and the rsp_prod it last published) and only ever writes them
 * to the page, never reads them back. It reads only req_prod and rsp_event; req_prod is checked: a
 * producer more than a ring ahead of what the backend has answered (Xen's
 * RING_REQUEST_PROD_OVERFLOW) is refused and counted. A request is copied out of its slot
 * before anything looks at it, so the frontend cannot change it between the check and
 * the use.
 */
import type { MachineViews } from '../../xen/common/sharedInfo';
import { SRING_HEADER_SIZE, SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RSP_EVENT, SRING_RSP_PROD } from '../../xen/public/ring';

export class BackRing {
  /** The next request to consume, and the next response slot to fill (the backend's own). */
  reqCons: number;
  rspProdPvt: number;
  /** The rsp_prod last written to the page. */
  private rspProdPub: number;
  private readonly base: number;

  constructor(
    private readonly machine: MachineViews,
    readonly mfn: number,
    readonly size: number,
    private readonly entrySize: number,
    /**
     * BACK_RING_ATTACH's index (io/ring.h): where a backend attaching to a ring already in
     * use starts (a restored domain's: `attachIndex`); 0 is BACK_RING_INIT.
     */
    start = 0,
  ) {
    this.base = mfn * 4096;
    // BACK_RING_INIT: both indices start at 0, as the frontend's SHARED_RING_INIT left the
    // page. Apart from `attachIndex` at connect, nothing the backend owns is read from the page.
    this.rspProdPub = start >>> 0;
    this.rspProdPvt = start >>> 0;
    this.reqCons = start >>> 0;
  }

  /**
   * The index to attach at, as Linux's backends do since 5.9 (xen_blkif_map,
   * xenvif_map_frontend_data_rings: BACK_RING_ATTACH at the page's rsp_prod): a fresh ring
   * (SHARED_RING_INIT) says 0; a ring a restored or migrated frontend kept says how far it
   * was answered, and the requests after it are served again. Returns undefined when the
   * frontend's req_prod is more than a ring ahead of it (Linux refuses the connect: -EIO).
   */
  static attachIndex(machine: MachineViews, mfn: number, size: number): number | undefined {
    const at = (mfn * 4096) >> 2;
    const rsp = Atomics.load(machine.i32, at + (SRING_RSP_PROD >> 2)) >>> 0;
    const req = Atomics.load(machine.i32, at + (SRING_REQ_PROD >> 2)) >>> 0;
    return (req - rsp) >>> 0 > size ? undefined : rsp;
  }

  private load(field: number): number {
    return Atomics.load(this.machine.i32, (this.base + field) >> 2) >>> 0;
  }

  private store(field: number, v: number): void {
    Atomics.store(this.machine.i32, (this.base + field) >> 2, v | 0);
  }

  /** The frontend's req_prod, as it is now. */
  reqProd(): number {
    return this.load(SRING_REQ_PROD);
  }

  /** RING_REQUEST_PROD_OVERFLOW: more requests than slots the backend has answered. */
  prodOverflow(prod: number): boolean {
    return (prod - this.rspProdPvt) >>> 0 > this.size;
  }

  /** RING_HAS_UNCONSUMED_REQUESTS against a req_prod the caller read (and checked). */
  unconsumed(prod: number): number {
    const req = (prod - this.reqCons) >>> 0;
    const rsp = this.size - ((this.reqCons - this.rspProdPvt) >>> 0);
    return Math.min(req, rsp);
  }

  /** RING_COPY_REQUEST of slot req_cons into `into`, and req_cons++. */
  copyRequest(into: Uint8Array): void {
    const at = this.slot(this.reqCons);
    into.set(this.machine.u8.subarray(at, at + into.length));
    this.reqCons = (this.reqCons + 1) >>> 0;
  }

  /** RING_COPY_REQUEST of slot req_cons without consuming it (to look at a packet's size before taking it). */
  peekRequest(into: Uint8Array): void {
    const at = this.slot(this.reqCons);
    into.set(this.machine.u8.subarray(at, at + into.length));
  }

  /** The machine byte offset of the next response slot; the caller fills it, then `produced`. */
  responseSlot(): number {
    return this.slot(this.rspProdPvt);
  }

  produced(): void {
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  private slot(idx: number): number {
    return this.base + SRING_HEADER_SIZE + (idx & (this.size - 1)) * this.entrySize;
  }

  /**
   * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publish rsp_prod (after the responses: the
   * Atomics store orders it), and say whether the frontend asked to be told (its
   * rsp_event lies in the range just published).
   */
  pushResponses(): boolean {
    const old = this.rspProdPub;
    const now = this.rspProdPvt;
    if (old === now) return false;
    this.store(SRING_RSP_PROD, now);
    this.rspProdPub = now;
    const event = this.load(SRING_RSP_EVENT);
    return (now - event) >>> 0 < (now - old) >>> 0;
  }

  /**
   * RING_FINAL_CHECK_FOR_REQUESTS: with nothing left, ask for a notification at the next
   * request (req_event = req_cons + 1), then look once more, so a request the frontend
   * produced meanwhile is not left without a notification. Returns the req_prod to work
   * on if there is more, or undefined.
   */
  finalCheck(): number | undefined {
    let prod = this.reqProd();
    if (this.prodOverflow(prod) || this.unconsumed(prod) > 0) return prod;
    this.store(SRING_REQ_EVENT, (this.reqCons + 1) >>> 0);
    prod = this.reqProd(); // Atomics are sequentially consistent: the mb() of the macro
    return this.prodOverflow(prod) || this.unconsumed(prod) > 0 ? prod : undefined;
  }
}
