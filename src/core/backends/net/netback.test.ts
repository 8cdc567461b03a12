/**
 * netback against a fake netfront written in TypeScript: a domain whose memory the test
 * writes directly (two ring pages, grants, buffer pages), the real grant tables, xenstored
 * and bridge. Covers the handshake, transmit with fragments, receive into posted buffers
 * (each response in its request's slot), notification suppression, rate limiting,
 * teardown and reconnect, and a hostile frontend: wild indices, bad and foreign grants,
 * runt, oversized and zero-length frames, too many slots, fragments that never end —
 * error responses and counters, never a host exception, never another domain's data.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Bridge, type BridgePort } from '../../net/bridge';
import { ethFrame, MAC_BROADCAST, parseMac } from '../../net/ethernet';
import { GrantTables, type GnttabDomain } from '../../xen/common/gnttab';
import { MachineMemory } from '../../xen/common/machineMemory';
import * as N from '../../xen/public/netif';
import { SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RSP_EVENT, SRING_RSP_PROD } from '../../xen/public/ring';
import * as S from '../../xen/public/xenbus';
import * as X from '../../xen/public/xen';
import { settle, testDomain, testGpa, testGrant } from '../xenbus/testing';
import { Xenstored, type XsHandle } from '../../tools/xenstore';
import type { BackendHost } from '../xenbus/host';
import { NetBack, type VifDevice } from './netback';

const FRONT = 1,
  VICTIM = 2;
const TX_GFN = 1,
  RX_GFN = 2,
  TX_REF = 8,
  RX_REF = 9,
  PORT = 3;
/** Data pages gfn 3..10 granted to Domain-0 as refs 10..17. */
const DATA_GFN = 3,
  DATA_REF = 10;
const FE = `/local/domain/${FRONT}/device/vif/0`;
const BE = `/local/domain/0/backend/vif/${FRONT}/0`;
const MAC = parseMac('00:16:3e:00:00:01')!;
const PEER = parseMac('00:16:3e:00:00:02')!;

let mem: MachineMemory;
let gt: GrantTables;
let doms: Map<number, GnttabDomain>;
let front: GnttabDomain, victim: GnttabDomain;
let xs: XsHandle;
let log: string[];
let notified: number;
let handler: (() => void) | undefined;
let bridge: Bridge;
let peer: BridgePort;
let peerGot: Uint8Array[];
let txProd = 0,
  txCons = 0,
  rxProd = 0,
  rxCons = 0;

const domain = (domid: number): GnttabDomain => testDomain(mem, domid);

const gpa = testGpa;

const grant = testGrant;

const host = (): BackendHost => ({
  machine: mem.views,
  gnttab: gt,
  dom0Bind: (_d, remote, h) => {
    if (remote !== PORT) return -X.EINVAL;
    handler = h;
    return 7;
  },
  dom0Close: () => {
    handler = undefined;
  },
  dom0Notify: () => {
    notified++;
  },
  xs,
  dmesg: (l) => log.push(l),
});

const word = (gfn: number, field: number): number => front.mem!.u32(gpa(gfn, field));

/** Publish a ring's req_prod and notify if the backend asked (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). */
function push(gfn: number, prod: number): boolean {
  const old = word(gfn, SRING_REQ_PROD);
  front.mem!.setU32(gpa(gfn, SRING_REQ_PROD), prod);
  const ev = word(gfn, SRING_REQ_EVENT);
  const n = (prod - ev) >>> 0 < (prod - old) >>> 0;
  if (n) handler?.();
  return n;
}

/** One tx slot into the next place on the ring (not yet published). */
function txSlot(gref: number, offset: number, flags: number, id: number, size: number): void {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, gref, true);
  v.setUint16(4, offset, true);
  v.setUint16(6, flags, true);
  v.setUint16(8, id, true);
  v.setUint16(10, size, true);
  front.mem!.write(gpa(TX_GFN, 64 + (txProd % 256) * 12), b);
  txProd++;
}

/** A frame written into data page `i` at `offset`, sent as one slot (or split into `frags` slots). */
function send(frame: Uint8Array, opts: { page?: number; offset?: number; frags?: number; id?: number } = {}): void {
  const page = opts.page ?? 0;
  const offset = opts.offset ?? 0;
  front.mem!.write(gpa(DATA_GFN + page, offset), frame);
  const frags = opts.frags ?? 1;
  const per = Math.ceil(frame.length / frags);
  for (let i = 0; i < frags; i++) {
    const len = Math.min(per, frame.length - i * per);
    txSlot(DATA_REF + page, offset + i * per, i < frags - 1 ? N.NETTXF_more_data : 0, (opts.id ?? 100) + i, i === 0 ? frame.length : len);
  }
}

function txResponses(): [number, number][] {
  const out: [number, number][] = [];
  const prod = word(TX_GFN, SRING_RSP_PROD);
  for (; txCons !== prod; txCons++) {
    const v = new DataView(front.mem!.read(gpa(TX_GFN, 64 + (txCons % 256) * 12), 4).buffer);
    out.push([v.getUint16(0, true), v.getInt16(2, true)]);
  }
  front.mem!.setU32(gpa(TX_GFN, SRING_RSP_EVENT), txCons + 1);
  return out;
}

/** Post rx buffers: data page `page` under id `id`. */
function postRx(pages: number[], ids = pages.map((p) => 500 + p)): boolean {
  pages.forEach((page, i) => {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint16(0, ids[i]!, true);
    v.setUint32(4, DATA_REF + page, true);
    front.mem!.write(gpa(RX_GFN, 64 + (rxProd % 256) * 8), b);
    rxProd++;
  });
  return push(RX_GFN, rxProd);
}

/** [slot, id, status] of each rx response published. */
function rxResponses(): [number, number, number][] {
  const out: [number, number, number][] = [];
  const prod = word(RX_GFN, SRING_RSP_PROD);
  for (; rxCons !== prod; rxCons++) {
    const v = new DataView(front.mem!.read(gpa(RX_GFN, 64 + (rxCons % 256) * 8), 8).buffer);
    out.push([rxCons % 256, v.getUint16(0, true), v.getInt16(6, true)]);
  }
  front.mem!.setU32(gpa(RX_GFN, SRING_RSP_EVENT), rxCons + 1);
  return out;
}

const frameOf = (len: number, dst = PEER, src = MAC, fill = 0x5a): Uint8Array => {
  const f = ethFrame(dst, src, 0x0800, new Uint8Array(len - 14).fill(fill));
  return f;
};

async function connect(extra: Record<string, string> = {}, rate?: { bytes: number; usec: number }): Promise<VifDevice> {
  const nb = new NetBack(host());
  const { device, started } = nb.add({ domid: FRONT, devid: 0, mac: MAC, mtu: 1500, bridge, backendPath: BE, frontendPath: FE, ...(rate ? { rate } : {}) });
  await started;
  grant(front, TX_REF, 0, TX_GFN);
  grant(front, RX_REF, 0, RX_GFN);
  const nodes: Record<string, string> = {
    'tx-ring-ref': String(TX_REF),
    'rx-ring-ref': String(RX_REF),
    'event-channel': String(PORT),
    'request-rx-copy': '1',
    'feature-rx-notify': '1',
    ...extra,
  };
  for (const [k, v] of Object.entries(nodes)) await xs.write(`${FE}/${k}`, v);
  await xs.write(`${FE}/state`, String(S.XenbusStateConnected));
  await settle();
  return device;
}

beforeEach(async () => {
  mem = new MachineMemory(1 << 20);
  front = domain(FRONT);
  victim = domain(VICTIM);
  doms = new Map([
    [FRONT, front],
    [VICTIM, victim],
  ]);
  gt = new GrantTables(mem, (id) => doms.get(id));
  gt.setDomainSource(() => doms.values());
  xs = new Xenstored().connect(0);
  log = [];
  notified = 0;
  handler = undefined;
  txProd = txCons = rxProd = rxCons = 0;
  for (const gfn of [TX_GFN, RX_GFN]) {
    front.mem!.setU32(gpa(gfn, SRING_RSP_EVENT), 1); // SHARED_RING_INIT
    front.mem!.setU32(gpa(gfn, SRING_REQ_EVENT), 1);
  }
  for (let i = 0; i < 8; i++) grant(front, DATA_REF + i, 0, DATA_GFN + i);
  bridge = new Bridge('xenbr0');
  peerGot = [];
  peer = bridge.attach('peer', { transmit: (f) => (peerGot.push(f), true) }, PEER);
  await xs.write(`${FE}/state`, String(S.XenbusStateInitialising));
});

describe('netback handshake', () => {
  it('offers rx-copy and scatter-gather, goes InitWait, then Connected with both rings mapped', async () => {
    const d = await connect();
    expect(await xs.read(`${BE}/feature-rx-copy`)).toBe('1');
    expect(await xs.read(`${BE}/feature-sg`)).toBe('1');
    expect(await xs.read(`${BE}/state`)).toBe(String(S.XenbusStateConnected));
    expect(d.state).toBe(S.XenbusStateConnected);
    expect(d.ringMfns.tx).toBe(front.p2m.get(TX_GFN));
    expect(bridge.port('vif1.0')).toBe(d.port);
  });

  it('refuses a frontend without request-rx-copy or feature-rx-notify, with the reason in `error`', async () => {
    const d = await connect({ 'request-rx-copy': '0' });
    expect(d.state).toBe(S.XenbusStateClosed);
    expect(await xs.read(`${BE}/error`)).toMatch(/request-rx-copy/);
    expect(handler).toBeUndefined();
  });

  it('teardown: Closing unmaps and unbinds; Initialising again reconnects with fresh rings', async () => {
    const d = await connect();
    await xs.write(`${FE}/state`, String(S.XenbusStateClosing));
    await settle();
    expect(d.state).toBe(S.XenbusStateClosing);
    expect(handler).toBeUndefined();
    await xs.write(`${FE}/state`, String(S.XenbusStateClosed));
    await settle();
    expect(d.state).toBe(S.XenbusStateClosed);
    await xs.write(`${FE}/state`, String(S.XenbusStateInitialising));
    await settle();
    expect(d.state).toBe(S.XenbusStateInitWait);
    for (const gfn of [TX_GFN, RX_GFN]) for (const f of [SRING_REQ_PROD, SRING_RSP_PROD]) front.mem!.setU32(gpa(gfn, f), 0);
    txProd = txCons = rxProd = rxCons = 0;
    await xs.write(`${FE}/state`, String(S.XenbusStateConnected));
    await settle();
    expect(d.state).toBe(S.XenbusStateConnected);
    send(frameOf(60));
    push(TX_GFN, txProd);
    expect(peerGot.length).toBe(1);
  });

  it('detach (close) goes Closing and is gone once the frontend closes; the port leaves the bridge', async () => {
    const d = await connect();
    d.close(1000);
    await settle();
    expect(await xs.read(`${BE}/state`)).toBe(String(S.XenbusStateClosing));
    await xs.write(`${FE}/state`, String(S.XenbusStateClosed));
    await settle();
    expect(d.gone).toBe(true);
    expect(bridge.port('vif1.0')).toBeUndefined();
  });
});

describe('netback transmit and receive', () => {
  it('a one-slot frame goes to the bridge; the response carries its id; notification only when asked', async () => {
    const d = await connect();
    const f = frameOf(98);
    send(f, { id: 42 });
    expect(push(TX_GFN, txProd)).toBe(true);
    expect(peerGot).toEqual([f]);
    expect(txResponses()).toEqual([[42, N.NETIF_RSP_OKAY]]);
    expect(notified).toBe(1);
    expect(d.stats.txPackets).toBe(1);
    expect(d.stats.txBytes).toBe(98);
    expect(word(TX_GFN, SRING_REQ_EVENT)).toBe(txProd + 1); // RING_FINAL_CHECK asked for the next one
  });

  it('fragments: the first slot carries the total, the rest their own sizes, across pages', async () => {
    await connect();
    const f = frameOf(1514);
    for (let i = 0; i < f.length; i++) f[i + 0] = i >= 12 ? (i * 13) & 0xff : f[i]!;
    // three fragments from three different pages
    front.mem!.write(gpa(DATA_GFN + 0, 100), f.subarray(0, 600));
    front.mem!.write(gpa(DATA_GFN + 1, 0), f.subarray(600, 1200));
    front.mem!.write(gpa(DATA_GFN + 2, 4096 - 314), f.subarray(1200));
    txSlot(DATA_REF + 0, 100, N.NETTXF_more_data, 1, 1514);
    txSlot(DATA_REF + 1, 0, N.NETTXF_more_data, 2, 600);
    txSlot(DATA_REF + 2, 4096 - 314, 0, 3, 314);
    push(TX_GFN, txProd);
    expect(peerGot.length).toBe(1);
    expect(peerGot[0]).toEqual(f);
    expect(txResponses()).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
  });

  it('receive: copies into the posted buffer, answers in the request slot with the length; queues until a buffer is posted', async () => {
    const d = await connect();
    const f = frameOf(200, MAC, PEER, 0x33);
    peer.input(f);
    expect(d.stats.rxPackets).toBe(0); // no buffer yet: queued
    expect(word(RX_GFN, SRING_REQ_EVENT)).toBe(1); // and asked to be told of the next post
    expect(postRx([3, 4])).toBe(true); // the post notifies (feature-rx-notify)
    expect(rxResponses()).toEqual([[0, 503, 200]]);
    expect(front.mem!.read(gpa(DATA_GFN + 3), 200)).toEqual(f);
    peer.input(frameOf(60, MAC_BROADCAST, PEER));
    expect(rxResponses()).toEqual([[1, 504, 60]]);
    expect(d.stats.rxPackets).toBe(2);
    expect(notified).toBeGreaterThanOrEqual(2);
  });

  it('an answer that comes back while the vif serves its own tx ring (Domain-0 replies at once) is delivered in the same round', async () => {
    const d = await connect();
    postRx([5]);
    const echoPort: BridgePort = bridge.attach('echo', { transmit: (f) => (echoPort.input(frameOf(80, MAC, parseMac('00:16:3e:00:00:ee'), f[20])), true) });
    send(frameOf(60, parseMac('00:16:3e:00:00:ee'), MAC, 0x42));
    push(TX_GFN, txProd);
    expect(rxResponses()).toEqual([[0, 505, 80]]); // no second notification from the guest needed
    expect(front.mem!.read(gpa(DATA_GFN + 5, 20), 1)[0]).toBe(0x42);
    expect(d.stats.rxPackets).toBe(1);
  });

  it('rate= holds packets past the credit until the next interval', async () => {
    const d = await connect({}, { bytes: 1000, usec: 50_000 });
    for (let i = 0; i < 4; i++) send(frameOf(400), { page: i, id: i });
    push(TX_GFN, txProd);
    expect(peerGot.length).toBe(2); // 800 bytes of 1000
    expect(d.stats.rateDeferred).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(peerGot.length).toBe(4);
  });
});

describe('netback against a hostile frontend', () => {
  it('refuses runt, oversized, zero-length, page-crossing and inconsistent packets with ERROR and counts each', async () => {
    const d = await connect();
    txSlot(DATA_REF, 0, 0, 1, 10); // runt
    txSlot(DATA_REF, 0, 0, 2, 0); // zero length
    txSlot(DATA_REF, 0, 0, 3, 1600); // oversized for mtu 1500
    txSlot(DATA_REF, 4000, 0, 4, 200); // crosses the page
    txSlot(DATA_REF, 0, N.NETTXF_more_data, 5, 100); // fragments larger than the total
    txSlot(DATA_REF, 0, 0, 6, 200);
    txSlot(DATA_REF, 0, N.NETTXF_extra_info, 7, 60); // an extra-info slot (GSO) not offered
    txSlot(0, 0, 0, 8, 0);
    push(TX_GFN, txProd);
    expect(txResponses()).toEqual([
      [1, -1],
      [2, -1],
      [3, -1],
      [4, -1],
      [5, -1],
      [6, -1],
      [7, -1],
      [8, N.NETIF_RSP_NULL],
    ]);
    expect(d.stats.txRefused).toMatchObject({ runt: 2, oversized: 1, crossesPage: 1, badSize: 1, badExtra: 1 });
    expect(peerGot.length).toBe(0);
  });

  it('too many slots and fragments that never end: every slot answered ERROR, the ring stays in step', async () => {
    const d = await connect();
    for (let i = 0; i < 20; i++) txSlot(DATA_REF, 0, i < 19 ? N.NETTXF_more_data : 0, i, i === 0 ? 1000 : 10);
    push(TX_GFN, txProd);
    expect(txResponses().every(([, st]) => st === -1)).toBe(true);
    expect(d.stats.txRefused.tooManySlots).toBe(1);
    for (let i = 0; i < 5; i++) txSlot(DATA_REF, 0, N.NETTXF_more_data, 50 + i, 100);
    push(TX_GFN, txProd);
    expect(txResponses().map(([id, st]) => [id, st])).toEqual([50, 51, 52, 53, 54].map((id) => [id, -1]));
    expect(d.stats.txRefused.unterminated).toBe(1);
    send(frameOf(60)); // a good one afterwards goes through
    push(TX_GFN, txProd);
    expect(peerGot.length).toBe(1);
  });

  it("bad and foreign grant refs never reach another domain's memory", async () => {
    const d = await connect();
    // the victim's secret, and a grant from the victim to Domain-0 under a ref the frontend names
    victim.mem!.write(gpa(3), new Uint8Array(256).fill(0xee));
    grant(victim, DATA_REF + 8, 0, 3);
    grant(front, DATA_REF + 9, VICTIM, 4); // the frontend's page granted to the victim, not to Domain-0
    txSlot(DATA_REF + 8, 0, 0, 1, 100); // a ref not in the frontend's table as a grant to Domain-0
    txSlot(DATA_REF + 9, 0, 0, 2, 100);
    txSlot(0xffff_fff0, 0, 0, 3, 100);
    push(TX_GFN, txProd);
    expect(txResponses()).toEqual([
      [1, -1],
      [2, -1],
      [3, -1],
    ]);
    expect(d.stats.txRefused.badGrant).toBe(3);
    // rx into a bad ref: ERROR in its slot, the victim's memory untouched
    postRx([8]);
    peer.input(frameOf(100, MAC, PEER, 0x11));
    expect(rxResponses()).toEqual([[0, 508, -1]]);
    expect(d.stats.rxDropped.badGrant).toBe(1);
    expect([...victim.mem!.read(gpa(3), 256)].every((b) => b === 0xee)).toBe(true);
    expect(peerGot.length).toBe(0);
  });

  it('wild ring indices are ignored and counted, and a scribbled ring never throws', async () => {
    const d = await connect();
    front.mem!.setU32(gpa(TX_GFN, SRING_REQ_PROD), 0x7fff_0000);
    expect(() => handler?.()).not.toThrow();
    front.mem!.setU32(gpa(RX_GFN, SRING_REQ_PROD), 0x9000_0000);
    expect(() => peer.input(frameOf(60, MAC, PEER))).not.toThrow();
    expect(d.stats.badRing).toBeGreaterThanOrEqual(2);
    // random slots, sane indices: answered, nothing thrown, nothing sent from a foreign page
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
    front.mem!.setU32(gpa(TX_GFN, SRING_REQ_PROD), 0);
    front.mem!.setU32(gpa(RX_GFN, SRING_REQ_PROD), 0);
    txProd = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 30; i++) txSlot(rnd() % 40, rnd() % 4096, rnd() & 0xf, rnd() & 0xffff, rnd() & 0xffff);
      expect(() => push(TX_GFN, txProd)).not.toThrow();
    }
    expect(d.stats.txPackets + Object.values(d.stats.txRefused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(peerGot.every((f) => f.length >= 14 && f.length <= 1518)).toBe(true);
    expect(d.stats.txRefused.badGrant).toBeGreaterThan(0);
  });

  it('a frame spoofing another MAC is dropped by the bridge and counted on the vif', async () => {
    const d = await connect();
    send(frameOf(60, PEER, parseMac('00:16:3e:99:99:99')));
    push(TX_GFN, txProd);
    expect(txResponses()).toEqual([[100, 0]]);
    expect(peerGot.length).toBe(0);
    expect(d.port.counters.spoofed).toBe(1);
  });
});
