/**
 * io/ring.h: the shared ring every split driver uses. A page holds a 64-byte header and
 * then a power-of-two number of entries, each the union of a request and a response.
 * Requests and responses share the slots: the frontend produces requests (req_prod) and
 * consumes responses; the backend consumes requests and produces responses (rsp_prod).
 * req_event / rsp_event hold notifications off: a producer notifies only when its new
 * producer index passes the other side's event index (RING_PUSH_*_AND_CHECK_NOTIFY).
 */

/** struct *_sring: RING_IDX req_prod, req_event, rsp_prod, rsp_event; then pvt and padding up to 64 bytes. */
export const SRING_REQ_PROD = 0,
  SRING_REQ_EVENT = 4,
  SRING_RSP_PROD = 8,
  SRING_RSP_EVENT = 12;
export const SRING_HEADER_SIZE = 64;

/** __RING_SIZE: the entries that fit in a page after the header, rounded down to a power of two. */
export function ringSize(entrySize: number, pageBytes = 4096): number {
  const n = Math.floor((pageBytes - SRING_HEADER_SIZE) / entrySize);
  return n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
}
