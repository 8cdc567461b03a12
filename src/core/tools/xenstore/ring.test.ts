import { describe, expect, it } from 'vitest';
import {
  RingIndexError,
  sharedPage,
  XENSTORE_CONNECTED,
  XENSTORE_RECONNECT,
  XenstoreRing,
  XS_RING_CONNECTION,
  XS_RING_ERROR,
  XS_RING_REQ_CONS,
  XS_RING_REQ_PROD,
  XS_RING_RSP_CONS,
  XS_RING_RSP_PROD,
  XS_RING_SERVER_FEATURES,
} from './ring';
import { GuestRing } from './testing';

const bytes = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

describe('xenstore ring (server side)', () => {
  it('lays out struct xenstore_domain_interface as xs_wire.h', () => {
    const page = sharedPage(new SharedArrayBuffer(4096));
    page.store32(XS_RING_REQ_PROD, 0x11223344);
    expect([...page.u8.subarray(2052, 2056)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect([XS_RING_REQ_CONS, XS_RING_RSP_CONS, XS_RING_RSP_PROD, XS_RING_SERVER_FEATURES, XS_RING_CONNECTION, XS_RING_ERROR]).toEqual([
      2048, 2056, 2060, 2064, 2068, 2072,
    ]);
  });

  it('advertises RECONNECTION and ERROR and starts from the indices it finds', () => {
    const g = new GuestRing(undefined, 500);
    const r = new XenstoreRing(g.page);
    expect(g.page.load32(XS_RING_SERVER_FEATURES)).toBe(3);
    expect(r.requestBytes()).toBe(0);
    expect(r.responseSpace()).toBe(1024);
  });

  it('reads and writes across the end of the ring and across u32 wrap of the indices', () => {
    const g = new GuestRing(undefined, 0xffff_fe00);
    const r = new XenstoreRing(g.page);
    const out = new Uint8Array(1024);
    for (let round = 0; round < 5; round++) {
      expect(g.write(bytes(700, round))).toBe(700);
      expect(r.read(out, 0, 300)).toBe(300);
      expect(r.read(out, 300, 1000)).toBe(400);
      expect(out.subarray(0, 700)).toEqual(bytes(700, round));
      expect(r.write(bytes(900, round), 0, 900)).toBe(900);
      expect(r.write(bytes(900), 0, 900)).toBe(124); // full
      g.drain();
    }
    expect(g.page.load32(XS_RING_REQ_CONS)).toBe((0xffff_fe00 + 3500) >>> 0);
  });

  it('treats impossible guest indices as protocol errors', () => {
    const g = new GuestRing();
    const r = new XenstoreRing(g.page);
    g.page.store32(XS_RING_REQ_PROD, 1025);
    expect(() => r.requestBytes()).toThrow(RingIndexError);
    g.page.store32(XS_RING_REQ_PROD, 0xffff_ffff); // behind the consumer
    expect(() => r.read(new Uint8Array(4), 0, 4)).toThrow(RingIndexError);
    g.page.store32(XS_RING_REQ_PROD, 1024);
    expect(r.requestBytes()).toBe(1024);
    g.page.store32(XS_RING_RSP_CONS, 5); // consumer ahead of what was produced
    expect(() => r.write(bytes(1), 0, 1)).toThrow(RingIndexError);
  });

  it('keeps its own indices: a guest scribbling on req_cons or rsp_prod changes nothing', () => {
    const g = new GuestRing();
    const r = new XenstoreRing(g.page);
    g.write(bytes(10));
    g.page.store32(XS_RING_REQ_CONS, 7);
    g.page.store32(XS_RING_RSP_PROD, 999);
    const out = new Uint8Array(10);
    expect(r.read(out, 0, 10)).toBe(10);
    expect(out).toEqual(bytes(10));
    expect(g.page.load32(XS_RING_REQ_CONS)).toBe(10);
    expect(r.write(bytes(4), 0, 4)).toBe(4);
    expect(g.page.load32(XS_RING_RSP_PROD)).toBe(4);
  });

  it('resets on reconnection', () => {
    const g = new GuestRing(undefined, 77);
    const r = new XenstoreRing(g.page);
    g.page.store32(XS_RING_CONNECTION, XENSTORE_RECONNECT);
    r.setError(2);
    expect(r.reconnectRequested).toBe(true);
    r.reset();
    expect(r.reconnectRequested).toBe(false);
    expect(g.page.load32(XS_RING_CONNECTION)).toBe(XENSTORE_CONNECTED);
    expect(r.error).toBe(0);
    for (const o of [XS_RING_REQ_CONS, XS_RING_REQ_PROD, XS_RING_RSP_CONS, XS_RING_RSP_PROD]) expect(g.page.load32(o)).toBe(0);
    expect(r.responseSpace()).toBe(1024);
  });
});
