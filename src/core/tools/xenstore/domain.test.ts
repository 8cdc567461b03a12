import { describe, expect, it } from 'vitest';
import { MESSAGES_PER_KICK } from './domain';
import {
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_RECONNECT,
  XS_RING_CONNECTION,
  XS_RING_ERROR,
  XS_RING_REQ_CONS,
  XS_RING_REQ_PROD,
  XS_RING_RSP_CONS,
  XS_RING_RSP_PROD,
  type SharedPage,
} from './ring';
import { GuestRing, newPage, req, strings } from './testing';
import { encodeMessage, XENSTORE_PAYLOAD_MAX, XsType } from './wire';
import { Xenstored } from './xenstored';

const DOMID = 5;

async function setup(page?: SharedPage, start = 0) {
  const logs: string[] = [];
  const xs = new Xenstored({ host: { log: (m) => logs.push(m) } });
  const dom0 = xs.connect();
  await dom0.mkdir(`/local/domain/${DOMID}`);
  await dom0.setPerms(`/local/domain/${DOMID}`, [{ domid: DOMID, perm: 'n' }]);
  const guest = new GuestRing(page, start);
  let notifications = 0;
  xs.introduceDomain(DOMID, guest.page, () => notifications++);
  /** Write all of `msg`, kicking xenstored whenever the ring is full. */
  const send = (msg: Uint8Array) => {
    let off = 0;
    for (let i = 0; off < msg.length; i++) {
      if (i > 100) throw new Error('ring stuck');
      off += guest.write(msg.subarray(off));
      xs.kick(DOMID);
    }
  };
  return { xs, dom0, guest, send, logs, notifications: () => notifications };
}

describe('xenstored ring connection', () => {
  it('takes messages split across the end of the ring', async () => {
    const s = await setup(undefined, 1024 - 7);
    s.send(req(XsType.WRITE, ['key', 'value'], 1));
    s.send(req(XsType.READ, ['key'], 2));
    expect(s.guest.messages().map((m) => [m.reqId, strings(m)[0]])).toEqual([
      [1, 'OK'],
      [2, 'value'],
    ]);
    expect(s.notifications()).toBeGreaterThan(0);
  });

  it('takes a message bigger than the ring across several notifications, a byte at a time too', async () => {
    const s = await setup();
    const value = 'v'.repeat(1900); // bigger than the ring, smaller than the node-size quota
    s.send(req(XsType.WRITE, new TextEncoder().encode(`/local/domain/${DOMID}/big\0${value}`), 9));
    expect(s.guest.messages().map((m) => strings(m)[0])).toEqual(['OK']);
    const m = req(XsType.READ, ['big'], 10);
    for (let i = 0; i < m.length; i++) {
      s.guest.write(m.subarray(i, i + 1));
      s.xs.kick(DOMID);
    }
    // The reply is bigger than the ring: the guest drains, notifies, xenstored writes more.
    const got: number[] = [];
    for (let i = 0; i < 10 && got.length === 0; i++) {
      s.guest.drain();
      s.xs.kick(DOMID);
      got.push(...s.guest.messages().map((x) => x.payload.length));
    }
    expect(got).toEqual([1900]);
  });

  it('kills the connection on a payload over XENSTORE_PAYLOAD_MAX, until the guest reconnects', async () => {
    const s = await setup();
    s.send(req(XsType.WATCH, ['name', 'w'], 1));
    const head = encodeMessage(XsType.WRITE, 2, 0, new Uint8Array(0));
    new DataView(head.buffer).setUint32(12, XENSTORE_PAYLOAD_MAX + 1, true);
    s.guest.write(head);
    s.xs.kick(DOMID);
    expect(s.guest.page.load32(XS_RING_ERROR)).toBe(XENSTORE_ERROR_PROTO);
    expect(s.xs.domainInfo()[0]).toMatchObject({ failed: true, watches: 0 });
    s.guest.write(req(XsType.READ, ['name'], 3));
    s.xs.kick(DOMID);
    expect(s.guest.messages().map((m) => m.type)).toEqual([XsType.WATCH, XsType.WATCH_EVENT]);

    s.guest.page.store32(XS_RING_CONNECTION, XENSTORE_RECONNECT);
    s.xs.kick(DOMID);
    expect(s.guest.page.load32(XS_RING_CONNECTION)).toBe(0);
    expect(s.guest.page.load32(XS_RING_ERROR)).toBe(0);
    const g2 = new GuestRing(s.guest.page);
    g2.write(req(XsType.GET_DOMAIN_PATH, [String(DOMID)], 4));
    s.xs.kick(DOMID);
    expect(g2.messages().map((m) => strings(m)[0])).toEqual([`/local/domain/${DOMID}`]);
  });

  it('sets XENSTORE_ERROR_RINGIDX for impossible indices, and never throws', async () => {
    for (const [off, value] of [
      [XS_RING_REQ_PROD, 5000],
      [XS_RING_REQ_PROD, 0xffff_fff0],
      [XS_RING_RSP_CONS, 3],
    ] as const) {
      const s = await setup();
      s.guest.write(req(XsType.READ, ['x'], 1));
      s.guest.page.store32(off, value);
      expect(() => s.xs.kick(DOMID)).not.toThrow();
      expect(s.guest.page.load32(XS_RING_ERROR)).toBe(XENSTORE_ERROR_RINGIDX);
      expect(s.xs.kick(DOMID)).toBe(false);
    }
  });

  it('stops reading requests while 20 replies wait for the guest (outstanding quota)', async () => {
    const s = await setup();
    await s.dom0.write(`/local/domain/${DOMID}/v`, 'x'.repeat(900));
    const one = req(XsType.READ, ['v'], 1);
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      if (s.guest.write(one) === 0) break;
      sent++;
      s.xs.kick(DOMID);
    }
    // One reply fits in the ring, 20 wait, and the rest of the requests stay in the ring.
    expect(s.xs.domainInfo()[0]!.queued).toBe(20);
    const cons = s.guest.page.load32(XS_RING_REQ_CONS);
    expect(s.guest.page.load32(XS_RING_REQ_PROD) - cons).toBeGreaterThan(0);
    s.xs.kick(DOMID);
    expect(s.guest.page.load32(XS_RING_REQ_CONS)).toBe(cons);
    let replies = 0;
    for (let i = 0; i < 200 && replies < sent; i++) {
      replies += s.guest.messages().length;
      s.xs.kick(DOMID);
    }
    expect(replies).toBe(sent);
  });

  it('handles at most MESSAGES_PER_KICK requests per notification from a guest that never stops', async () => {
    const base = newPage();
    const msg = req(XsType.GET_DOMAIN_PATH, ['1'], 1);
    const feeder = new GuestRing(base);
    let feeding = false;
    const endless: SharedPage = {
      u8: base.u8,
      store32: (o, v) => base.store32(o, v),
      load32: (o) => {
        if (o === XS_RING_REQ_PROD && feeding) feeder.write(msg);
        if (o === XS_RING_RSP_CONS) base.store32(XS_RING_RSP_CONS, base.load32(XS_RING_RSP_PROD)); // drains at once
        return base.load32(o);
      },
    };
    const s = await setup(endless);
    feeding = true;
    expect(s.xs.kick(DOMID)).toBe(true);
    const handled = base.load32(XS_RING_REQ_CONS) / msg.length;
    expect(handled).toBeGreaterThanOrEqual(MESSAGES_PER_KICK);
    expect(handled).toBeLessThanOrEqual(MESSAGES_PER_KICK + 1024 / msg.length + 1);
  });

  it('drops watch events beyond the queue limit instead of growing without bound', async () => {
    const xs = new Xenstored({ quota: { maxQueuedEvents: 10 } });
    const dom0 = xs.connect();
    const guest = new GuestRing();
    xs.introduceDomain(DOMID, guest.page, () => {});
    await dom0.setPerms('/', [{ domid: 0, perm: 'r' }]);
    guest.write(req(XsType.WATCH, ['/', 'all'], 1));
    xs.kick(DOMID);
    for (let i = 0; i < 200; i++) await dom0.write(`/n${i}`, 'x'.repeat(50));
    const info = xs.domainInfo()[0]!;
    expect(info.queued).toBe(10);
    expect(info.droppedEvents).toBeGreaterThan(100);
  });
});

describe('xenstored ring fuzzing', () => {
  function rng(seed: number) {
    return () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed;
    };
  }

  it('survives random bytes anywhere in the ring page, indices included', async () => {
    let errors = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rand = rng(seed);
      const s = await setup();
      for (let step = 0; step < 200; step++) {
        const what = rand() % 10;
        if (what < 5) {
          const n = rand() % 64;
          const junk = Uint8Array.from({ length: n }, () => rand() & 0xff);
          s.guest.write(junk);
        } else if (what < 7) {
          const o = rand() % 2080;
          s.guest.page.u8[o] = rand() & 0xff;
        } else if (what === 7) {
          s.guest.page.store32(XS_RING_REQ_CONS + 4 * (rand() % 4), rand());
        } else if (what === 8 && rand() % 4 === 0) {
          s.guest.page.store32(XS_RING_CONNECTION, XENSTORE_RECONNECT); // come back to life
        } else {
          s.guest.drain();
        }
        const t0 = Date.now();
        expect(() => s.xs.kick(DOMID)).not.toThrow();
        expect(Date.now() - t0).toBeLessThan(1000);
      }
      await s.dom0.write(`/local/domain/${DOMID}/still`, 'alive');
      errors += s.guest.page.load32(XS_RING_ERROR) !== 0 ? 1 : 0;
    }
    expect(errors).toBeGreaterThan(0);
  });

  it('survives random well-framed messages and answers each while the ring is sane', async () => {
    const rand = rng(99);
    const s = await setup();
    const words = ['name', 'device', '/local/domain/5/x', '@releaseDomain', 'T', 'F', 'b5', 'n0', '1', '', 'tok'];
    let sent = 0;
    for (let i = 0; i < 3000; i++) {
      const type = rand() % 28;
      const parts: string[] = [];
      for (let j = rand() % 4; j > 0; j--) parts.push(words[rand() % words.length]!);
      let payload = new TextEncoder().encode(parts.join('\0') + (rand() % 4 ? '\0' : ''));
      if (payload.length > XENSTORE_PAYLOAD_MAX) payload = payload.subarray(0, XENSTORE_PAYLOAD_MAX);
      s.send(encodeMessage(type, i + 1, rand() % 3, payload));
      sent++;
      if (rand() % 3 === 0) s.guest.messages();
    }
    for (let i = 0; i < 50; i++) {
      s.guest.drain();
      s.xs.kick(DOMID);
    }
    expect(s.guest.page.load32(XS_RING_ERROR)).toBe(0);
    expect(s.xs.domainInfo()[0]!.failed).toBe(false);
    expect(sent).toBe(3000);
    expect(s.logs.filter((l) => l.includes('internal error'))).toEqual([]);
  });
});
