/**
 * BackRing's attach (io/ring.h BACK_RING_ATTACH, as Linux's backends do since 5.9): a backend
 * connecting to a ring a restored frontend kept starts at the page's rsp_prod, serves what
 * was queued after it once, and refuses a req_prod more than a ring ahead.
 */
import { describe, expect, it } from 'vitest';
import { SRING_REQ_PROD, SRING_RSP_PROD } from '../../xen/public/ring';
import { BackRing } from './backRing';

function page(reqProd: number, rspProd: number): { i32: Int32Array; u8: Uint8Array } {
  const buf = new SharedArrayBuffer(2 * 4096);
  const m = { i32: new Int32Array(buf), u8: new Uint8Array(buf) };
  const at = 4096; // frame 1
  m.i32[(at + SRING_REQ_PROD) >> 2] = reqProd | 0;
  m.i32[(at + SRING_RSP_PROD) >> 2] = rspProd | 0;
  return m;
}

describe('BackRing attach', () => {
  it("starts at the ring's rsp_prod: only the requests after it are unconsumed", () => {
    const m = page(105, 103);
    const start = BackRing.attachIndex(m, 1, 32);
    expect(start).toBe(103);
    const r = new BackRing(m, 1, 32, 112, start);
    expect(r.unconsumed(r.reqProd())).toBe(2);
    expect(new BackRing(m, 1, 32, 112).unconsumed(r.reqProd())).toBe(32); // BACK_RING_INIT at 0 would take 32 stale slots
  });

  it('works across the 32-bit wrap and refuses a req_prod more than a ring ahead', () => {
    expect(BackRing.attachIndex(page(3, 0xffff_fffe), 1, 32)).toBe(0xffff_fffe);
    expect(BackRing.attachIndex(page(200, 100), 1, 32)).toBeUndefined();
    expect(BackRing.attachIndex(page(99, 100), 1, 32)).toBeUndefined(); // behind: (req - rsp) wraps to 2^32 - 1
    expect(BackRing.attachIndex(page(0, 0), 1, 32)).toBe(0); // a fresh ring (SHARED_RING_INIT)
  });
});
