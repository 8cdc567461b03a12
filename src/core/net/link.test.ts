import { describe, expect, it } from 'vitest';
import { Bridge } from './bridge';
import { buildDhcp, DHCPDISCOVER, OPT_MSG_TYPE } from './dhcp';
import { ETH_P_ARP, ETH_P_IP, ethFrame, MAC_BROADCAST, parseMac } from './ethernet';
import { DomainZeroNetif } from './hostif';
import { buildIpv4, buildUdp, IPPROTO_UDP, parseIp } from './ipv4';
import { BridgeLink, type LinkHost, type LinkTransport } from './link';
import { decodeLinkPdu, encodeFrame, encodeHello, LINK_FRAME, LINK_HEADER, LINK_TTL, LINK_VERSION, type LinkHello } from './linkFraming';
import { freeSlot, slotAddress } from './segment';

const ip = (s: string): number => parseIp(s)!;

/** A host for a link in a test: accepts every peer that is not itself, records what went down. */
function host(id: number): LinkHost & { downs: string[] } {
  const downs: string[] = [];
  return {
    hostId: id,
    downs,
    hello: (l): LinkHello => ({ v: LINK_VERSION, host: id, bridge: l.bridge.name, role: l.role, slot: id, used: [] }),
    accept: (_l, h) => (h.host === id ? 'a link to itself' : undefined),
    down: (_l, r) => void downs.push(r),
  };
}

/** A transport pair delivering on a later microtask, as a socket would; `cut()` breaks it both ways. */
function wire(): { a: LinkTransport; b: LinkTransport; ends: (la: BridgeLink, lb: BridgeLink) => void; cut: () => void; sent: Uint8Array[] } {
  let la: BridgeLink | undefined, lb: BridgeLink | undefined;
  let cut = false;
  const sent: Uint8Array[] = [];
  const mk = (to: () => BridgeLink | undefined): LinkTransport => ({
    send(pdu) {
      if (cut) return false;
      sent.push(pdu);
      queueMicrotask(() => to()?.receive(pdu));
      return true;
    },
    close() {},
  });
  return {
    a: mk(() => lb),
    b: mk(() => la),
    ends: (x, y) => {
      la = x;
      lb = y;
    },
    cut: () => {
      cut = true;
      la?.down('connection cut');
      lb?.down('connection cut');
    },
    sent,
  };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** Two bridges with Domain-0 on each (B's moved to slot 2), linked. */
async function twoHosts() {
  const ba = new Bridge('xenbr0'),
    bb = new Bridge('xenbr0');
  const base = { ip: ip('10.0.0.1'), prefix: 24, first: ip('10.0.0.100'), last: ip('10.0.0.199') };
  const da = new DomainZeroNetif(ba, { ip: base.ip, prefix: 24, dhcp: { first: base.first, last: base.last, leaseSeconds: 3600 } });
  const db = new DomainZeroNetif(bb, { ip: base.ip, prefix: 24, dhcp: { first: base.first, last: base.last, leaseSeconds: 3600 } });
  const s2 = slotAddress(2, base);
  db.readdress(s2.ip, s2.mac, s2);
  const w = wire();
  const ha = host(1),
    hb = host(2);
  const la = new BridgeLink(ba, 'link0', w.a, ha, 'accept', 'test');
  const lb = new BridgeLink(bb, 'link0', w.b, hb, 'join', 'test');
  w.ends(la, lb);
  la.hello();
  lb.hello();
  await settle();
  return { ba, bb, da, db, la, lb, w, ha, hb };
}

describe('bridge links', () => {
  it('the segment plan: slot 1 is the host default, others get their own address, MAC and pool', () => {
    const base = { ip: ip('10.0.0.1'), prefix: 24, first: ip('10.0.0.100'), last: ip('10.0.0.199') };
    expect(slotAddress(1, base)).toEqual({ ip: ip('10.0.0.1'), mac: parseMac('fe:ff:ff:ff:ff:ff'), first: base.first, last: base.last });
    expect(slotAddress(2, base)).toEqual({ ip: ip('10.0.0.2'), mac: parseMac('fe:ff:ff:ff:ff:fe'), first: ip('10.0.0.200'), last: ip('10.0.0.209') });
    expect(slotAddress(6, base).last).toBe(ip('10.0.0.249'));
    expect(() => slotAddress(7, base)).toThrow(/1\.\.6/);
    expect(freeSlot([1, 2, 4])).toBe(3);
    expect(freeSlot([1, 2, 3, 4, 5, 6])).toBeUndefined();
  });

  it("no frame crosses before the peer's HELLO; then Domain-0 of one host pings the other's across it, and the link port counts", async () => {
    const ba = new Bridge('xenbr0');
    const w = wire();
    const l = new BridgeLink(ba, 'link0', w.a, host(1), 'join', 'test');
    expect(l.transmit(new Uint8Array(60))).toBe(false);
    l.receive(encodeFrame(ethFrame(MAC_BROADCAST, parseMac('00:16:3e:00:00:01')!, ETH_P_ARP, new Uint8Array(28)), 2, LINK_TTL));
    expect(l.counters.beforeHello).toBe(1);

    const s = await twoHosts();
    expect(s.la.state).toBe('up');
    expect(s.lb.state).toBe('up');
    const r = await s.da.ping(ip('10.0.0.2'));
    expect(r.rttMs).toBeDefined();
    const back = await s.db.ping(ip('10.0.0.1'));
    expect(back.rttMs).toBeDefined();
    const c = s.la.port.counters;
    expect(c.txFrames).toBeGreaterThanOrEqual(3); // ARP request, echo request, echo reply (and B's)
    expect(c.rxFrames).toBeGreaterThanOrEqual(3);
    // Learning: A's bridge knows B's Domain-0 behind link0.
    expect(s.ba.fdbEntries().find((e) => e.mac === 'fe:ff:ff:ff:ff:fe')?.port).toBe('link0');
    // Frames carry their origin and a hop budget.
    const f = s.w.sent.map(decodeLinkPdu).find((p) => typeof p !== 'string' && p.type === LINK_FRAME);
    expect(f).toMatchObject({ origin: 1, ttl: LINK_TTL });
  });

  it("a guest's DISCOVER gets an offer from its own host's server only, not from the other host's across the link", async () => {
    const s = await twoHosts();
    const G = parseMac('00:16:3e:5a:00:01')!;
    const got: Uint8Array[] = [];
    const port = s.ba.attach('vif1.0', { transmit: (f) => (got.push(f), true) }, G);
    const d = buildDhcp({ op: 1, xid: 0xabcd, flags: 0x8000, ciaddr: 0, yiaddr: 0, siaddr: 0, chaddr: G }, [[OPT_MSG_TYPE, Uint8Array.of(DHCPDISCOVER)]]);
    port.input(ethFrame(MAC_BROADCAST, G, ETH_P_IP, buildIpv4(0, 0xffffffff, IPPROTO_UDP, buildUdp(0, 0xffffffff, 68, 67, d))));
    for (let i = 0; i < 5; i++) await settle();
    expect(s.da.dhcp!.counters.offer).toBe(1);
    expect(s.db.dhcp!.counters.offer).toBe(0);
    expect(s.lb.port.counters.rxFrames).toBeGreaterThanOrEqual(1); // the DISCOVER did cross
  });

  it('malformed PDUs (short, wrong length, oversized, runt, unknown type, bad HELLO) are dropped and counted, and the link carries on', async () => {
    const s = await twoHosts();
    const frame = ethFrame(MAC_BROADCAST, parseMac('00:16:3e:00:00:01')!, ETH_P_ARP, new Uint8Array(28));
    const good = encodeFrame(frame, 2, LINK_TTL);
    s.la.receive(new Uint8Array(5));
    s.la.receive(good.subarray(0, good.length - 1));
    const big = new Uint8Array(LINK_HEADER + 2000);
    big[0] = LINK_FRAME;
    new DataView(big.buffer).setUint16(2, 2000);
    s.la.receive(big);
    s.la.receive(encodeFrame(new Uint8Array(10), 2, LINK_TTL));
    const odd = good.slice();
    odd[0] = 9;
    s.la.receive(odd);
    const hello = encodeHello({ v: 1, host: 2, bridge: 'xenbr0', role: 'join', slot: 2, used: [] });
    const badHello = hello.slice();
    badHello[LINK_HEADER] = 0x7b + 1; // not JSON any more
    s.la.receive(badHello);
    for (let i = 0; i < 200; i++) {
      const g = new Uint8Array(Math.floor(Math.random() * 64));
      for (let j = 0; j < g.length; j++) g[j] = Math.floor(Math.random() * 256);
      s.la.receive(g);
    }
    const bad = s.la.counters.bad;
    expect(bad.short).toBeGreaterThanOrEqual(1);
    expect(bad.length).toBeGreaterThanOrEqual(1);
    expect(bad.oversized).toBe(1);
    expect(bad.runt).toBe(1);
    expect(bad.type).toBeGreaterThanOrEqual(1);
    expect(bad.hello).toBe(1);
    expect(s.la.state).toBe('up');
    expect((await s.da.ping(ip('10.0.0.2'))).rttMs).toBeDefined();
  });

  it('a link cut mid-ping loses the pings after it, the ports leave the bridges, and nothing throws', async () => {
    const s = await twoHosts();
    expect((await s.da.ping(ip('10.0.0.2'))).rttMs).toBeDefined();
    s.w.cut();
    expect(s.ba.port('link0')).toBeUndefined();
    expect(s.ha.downs).toEqual(['connection cut']);
    const lost = await s.da.ping(ip('10.0.0.2'), 56, 50);
    expect(lost.rttMs).toBeUndefined();
    expect(s.la.transmit(new Uint8Array(60))).toBe(false);
  });

  it('a HELLO from this host itself is refused with a BYE and the link goes down', async () => {
    const ba = new Bridge('xenbr0'),
      bb = new Bridge('xenbr0');
    const w = wire();
    const la = new BridgeLink(ba, 'link0', w.a, host(7), 'accept', 'test');
    const lb = new BridgeLink(bb, 'link0', w.b, host(7), 'join', 'test');
    w.ends(la, lb);
    la.hello();
    lb.hello();
    await settle();
    expect(la.state).toBe('down');
    expect(lb.state).toBe('down');
    expect(la.reason).toMatch(/itself/);
    expect(lb.reason).toMatch(/itself|closed by the peer/);
  });

  it('a loop of three linked hosts costs a few duplicates, never a storm', async () => {
    const br = [new Bridge('xenbr0'), new Bridge('xenbr0'), new Bridge('xenbr0')];
    const hosts = [host(1), host(2), host(3)];
    const links: BridgeLink[] = [];
    for (const [i, j] of [
      [0, 1],
      [1, 2],
      [2, 0],
    ] as const) {
      const w = wire();
      const a = new BridgeLink(br[i]!, `link${j}`, w.a, hosts[i]!, 'accept', 'test');
      const b = new BridgeLink(br[j]!, `link${i}`, w.b, hosts[j]!, 'join', 'test');
      w.ends(a, b);
      a.hello();
      b.hello();
      links.push(a, b);
    }
    await settle();
    expect(links.every((l) => l.state === 'up')).toBe(true);
    // A guest port on host 0 broadcasts once; count deliveries to a listener on each host.
    const got = [0, 0, 0];
    br.forEach((b, i) => b.attach('vif9.0', { transmit: () => (got[i]!++, true) }));
    const g = br[0]!.attach('vif1.0', { transmit: () => true }, parseMac('00:16:3e:00:00:01'));
    g.input(ethFrame(MAC_BROADCAST, parseMac('00:16:3e:00:00:01')!, ETH_P_ARP, new Uint8Array(28)));
    for (let i = 0; i < 20; i++) await settle();
    expect(got[0]).toBe(1);
    // Each other host sees it directly and once more around the loop, and then it stops.
    expect(got[1]).toBeLessThanOrEqual(2);
    expect(got[2]).toBeLessThanOrEqual(2);
    expect(got[1]! + got[2]!).toBeGreaterThanOrEqual(2);
    const looped = links.reduce((n, l) => n + l.counters.looped, 0);
    expect(looped).toBeGreaterThan(0);
  });
});
