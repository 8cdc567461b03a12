/**
 * blkback against a fake frontend written in TypeScript: a domain whose memory the test
 * writes directly (ring page, grants, data pages), the real grant tables and xenstored,
 * and a raw image in memory. Covers the handshake, READ/WRITE/FLUSH, notification
 * suppression, and hostile input: every bad field gets BLKIF_RSP_ERROR (or EOPNOTSUPP)
 * and a counter, no crash, and another domain's data stays untouched.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { RawImage } from '../../block/image';
import { MemoryStore } from '../../block/store';
import { GrantTables, type GnttabDomain } from '../../xen/common/gnttab';
import { MachineMemory } from '../../xen/common/machineMemory';
import * as B from '../../xen/public/blkif';
import { SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RSP_EVENT, SRING_RSP_PROD } from '../../xen/public/ring';
import * as S from '../../xen/public/xenbus';
import * as X from '../../xen/public/xen';
import { settle, testDomain, testGpa, testGrant } from '../xenbus/testing';
import { Xenstored, type XsHandle } from '../../tools/xenstore';
import { BlkBack, type BlkHost, type VbdDevice } from './blkback';

const FRONT = 1,
  VICTIM = 2;
const RING_GFN = 1,
  RING_REF = 8,
  PORT = 3;
const SECTORS = 64;
const FE = `/local/domain/${FRONT}/device/vbd/51712`;
const BE = `/local/domain/0/backend/vbd/${FRONT}/51712`;

let mem: MachineMemory;
let gt: GrantTables;
let doms: Map<number, GnttabDomain>;
let front: GnttabDomain, victim: GnttabDomain;
let store: MemoryStore;
let xs: XsHandle;
let log: string[];
let notified: number;
let handler: (() => void) | undefined;
let closedPorts: number[];

const domain = (domid: number): GnttabDomain => testDomain(mem, domid);

const gpa = testGpa;

const grant = testGrant;

const host = (): BlkHost => ({
  machine: mem.views,
  gnttab: gt,
  dom0Bind: (_domid, remotePort, h) => {
    if (remotePort !== PORT) return -X.EINVAL;
    handler = h;
    return 7;
  },
  dom0Close: (port) => {
    closedPorts.push(port);
    handler = undefined;
  },
  dom0Notify: () => {
    notified++;
  },
  xs,
  dmesg: (l) => log.push(l),
});

/** The frontend's side of the ring: what it produced and consumed. */
let reqProd = 0,
  rspCons = 0;

function ringWord(field: number): number {
  return front.mem!.u32(gpa(RING_GFN, field));
}

/** A request into the next slot (not yet published). */
function putRequest(
  op: number,
  sector: number,
  segs: [number, number, number][],
  opts: { id?: [number, number]; nseg?: number; sectorHi?: number } = {},
): void {
  const at = gpa(RING_GFN, 64 + (reqProd % 32) * 112);
  const b = new Uint8Array(112);
  const v = new DataView(b.buffer);
  v.setUint8(0, op);
  v.setUint8(1, opts.nseg ?? segs.length);
  v.setUint16(2, 0, true);
  v.setUint32(8, opts.id?.[0] ?? reqProd + 100, true);
  v.setUint32(12, opts.id?.[1] ?? 0xabcd, true);
  v.setUint32(16, sector, true);
  v.setUint32(20, opts.sectorHi ?? 0, true);
  segs.slice(0, 11).forEach(([gref, first, last], i) => {
    v.setUint32(24 + i * 8, gref, true);
    v.setUint8(28 + i * 8, first);
    v.setUint8(29 + i * 8, last);
  });
  front.mem!.write(at, b);
  reqProd++;
}

/** Publish req_prod and notify if the backend asked (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). */
function push(prod = reqProd): boolean {
  const old = ringWord(SRING_REQ_PROD);
  front.mem!.setU32(gpa(RING_GFN, SRING_REQ_PROD), prod);
  const ev = ringWord(SRING_REQ_EVENT);
  const notify = (prod - ev) >>> 0 < (prod - old) >>> 0;
  if (notify) handler?.();
  return notify;
}

/** Take every response published: [id lo, id hi, op, status]. */
function responses(): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  const prod = ringWord(SRING_RSP_PROD);
  for (; rspCons !== prod; rspCons++) {
    const at = gpa(RING_GFN, 64 + (rspCons % 32) * 112);
    const b = front.mem!.read(at, 16);
    const v = new DataView(b.buffer);
    out.push([v.getUint32(0, true), v.getUint32(4, true), v.getUint8(8), v.getInt16(10, true)]);
  }
  front.mem!.setU32(gpa(RING_GFN, SRING_RSP_EVENT), rspCons + 1);
  return out;
}

const statuses = (): number[] => responses().map((r) => r[3]);

/** Called on every sector read of the disk (a frontend producing while the backend works). */
let onRead: (() => void) | undefined;

async function connect(readOnly = false, feState: number = S.XenbusStateConnected, sectorSize?: number): Promise<VbdDevice> {
  const blk = new BlkBack(host());
  const image = new RawImage(store, 'disk.img', readOnly);
  const readSectors = image.readSectors.bind(image);
  image.readSectors = (sector: number, buf: Uint8Array): void => {
    readSectors(sector, buf);
    onRead?.();
  };
  const { device, started } = blk.add({
    domid: FRONT,
    devid: 51712,
    image,
    readOnly,
    cdrom: false,
    backendPath: BE,
    frontendPath: FE,
    ...(sectorSize !== undefined ? { sectorSize } : {}),
  });
  await started;
  grant(front, RING_REF, 0, RING_GFN);
  await xs.write(`${FE}/ring-ref`, String(RING_REF));
  await xs.write(`${FE}/event-channel`, String(PORT));
  await xs.write(`${FE}/protocol`, B.XEN_IO_PROTO_ABI_NATIVE);
  await xs.write(`${FE}/state`, String(feState)); // Mini-OS style: straight to Connected, no Initialised
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
  const disk = new Uint8Array(SECTORS * 512);
  for (let i = 0; i < disk.length; i++) disk[i] = (i * 7 + (i >> 9)) & 0xff;
  store = new MemoryStore(disk);
  xs = new Xenstored().connect(0);
  log = [];
  notified = 0;
  handler = undefined;
  closedPorts = [];
  reqProd = 0;
  rspCons = 0;
  onRead = undefined;
  front.mem!.setU32(gpa(RING_GFN, SRING_RSP_EVENT), 1); // SHARED_RING_INIT
  front.mem!.setU32(gpa(RING_GFN, SRING_REQ_EVENT), 1);
  await xs.write(`${FE}/state`, String(S.XenbusStateInitialising));
});

describe('blkif layout', () => {
  it('request 112 bytes, response 16, 32 slots per page, 11 segments', () => {
    expect(B.BLKIF_REQUEST_SIZE).toBe(112);
    expect(B.BLKIF_RESPONSE_SIZE).toBe(16);
    expect(B.BLKIF_RING_SIZE).toBe(32);
    expect(B.BLKIF_REQ_SEG + B.BLKIF_MAX_SEGMENTS_PER_REQUEST * B.BLKIF_SEG_SIZE).toBe(112);
  });
});

describe('blkback handshake', () => {
  it('publishes the disk and goes InitWait, then Connected when the frontend connects (skipping Initialised)', async () => {
    const blk = new BlkBack(host());
    const { device, started } = blk.add({
      domid: FRONT,
      devid: 51712,
      image: new RawImage(store, 'disk.img', true),
      readOnly: true,
      cdrom: false,
      backendPath: BE,
      frontendPath: FE,
    });
    await started;
    expect(await xs.read(`${BE}/state`)).toBe(String(S.XenbusStateInitWait));
    expect(await xs.read(`${BE}/sectors`)).toBe(String(SECTORS));
    expect(await xs.read(`${BE}/sector-size`)).toBe('512');
    expect(await xs.read(`${BE}/info`)).toBe(String(B.VDISK_READONLY));
    expect(await xs.read(`${BE}/feature-flush-cache`)).toBe('1');
    grant(front, RING_REF, 0, RING_GFN);
    await xs.write(`${FE}/ring-ref`, String(RING_REF));
    await xs.write(`${FE}/event-channel`, String(PORT));
    await xs.write(`${FE}/state`, String(S.XenbusStateInitialised));
    await settle();
    expect(device.state).toBe(S.XenbusStateConnected);
    expect(await xs.read(`${BE}/state`)).toBe(String(S.XenbusStateConnected));
    // The ring page is mapped: pinned writable and referenced.
    const mfn = front.p2m.get(RING_GFN);
    expect(mem.refs(mfn)).toBe(1);
    expect(front.mem!.u32(gpa(15, RING_REF * 8)) & (X.GTF_reading | X.GTF_writing)).toBe(X.GTF_reading | X.GTF_writing);
    // Frontend closes: the backend unmaps and follows to Closed; then it may reconnect.
    await xs.write(`${FE}/state`, String(S.XenbusStateClosing));
    await settle();
    expect(device.state).toBe(S.XenbusStateClosing);
    expect(mem.refs(mfn)).toBe(0);
    expect(closedPorts).toEqual([7]);
    await xs.write(`${FE}/state`, String(S.XenbusStateClosed));
    await settle();
    expect(device.state).toBe(S.XenbusStateClosed);
    await xs.write(`${FE}/state`, String(S.XenbusStateInitialising));
    await settle();
    expect(device.state).toBe(S.XenbusStateInitWait);
    await xs.write(`${FE}/state`, String(S.XenbusStateConnected));
    await settle();
    expect(device.state).toBe(S.XenbusStateConnected);
  });

  it('refuses a foreign protocol and a ring-ref that is not granted to Domain-0', async () => {
    const blk = new BlkBack(host());
    const { device, started } = blk.add({
      domid: FRONT,
      devid: 51712,
      image: new RawImage(store, 'disk.img'),
      readOnly: false,
      cdrom: false,
      backendPath: BE,
      frontendPath: FE,
    });
    await started;
    grant(front, RING_REF, 5, RING_GFN); // to domain 5, not 0
    await xs.write(`${FE}/ring-ref`, String(RING_REF));
    await xs.write(`${FE}/event-channel`, String(PORT));
    await xs.write(`${FE}/state`, String(S.XenbusStateConnected));
    await settle();
    expect(device.state).toBe(S.XenbusStateClosed);
    expect(await xs.read(`${BE}/error`)).toMatch(/mapping ring-ref 8 failed/);
  });
});

describe('blkback requests', () => {
  it('WRITE, READ and FLUSH: data through granted pages, ids echoed, flush reaches the store', async () => {
    const dev = await connect();
    const text = new TextEncoder().encode('hello, disk');
    front.mem!.write(gpa(4, 512), text);
    grant(front, 20, 0, 4);
    grant(front, 21, 0, 5);
    putRequest(
      B.BLKIF_OP_WRITE,
      10,
      [
        [20, 1, 1],
        [21, 0, 7],
      ],
      { id: [0xdeadbeef, 0x12345678] },
    ); // 1 + 8 sectors at 10
    expect(push()).toBe(true);
    expect(responses()).toEqual([[0xdeadbeef, 0x12345678, B.BLKIF_OP_WRITE, B.BLKIF_RSP_OKAY]]);
    expect(new TextDecoder().decode(store.bytes().subarray(10 * 512, 10 * 512 + text.length))).toBe('hello, disk');
    grant(front, 22, 0, 6);
    putRequest(B.BLKIF_OP_READ, 10, [[22, 3, 3]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_OKAY]);
    const back = front.mem!.read(gpa(6, 3 * 512), text.length);
    expect(new TextDecoder().decode(back)).toBe('hello, disk');
    const flushes = store.flushes;
    putRequest(B.BLKIF_OP_FLUSH_DISKCACHE, 0, [], { nseg: 0 });
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_OKAY]);
    expect(store.flushes).toBe(flushes + 1);
    expect(dev.stats).toMatchObject({ rdReq: 1, wrReq: 1, flReq: 1, rdSect: 1, wrSect: 9 });
    // Grants are unpinned after each copy.
    expect(front.mem!.u32(gpa(15, 20 * 8)) & (X.GTF_reading | X.GTF_writing)).toBe(0);
  });

  it('a disk of 4096-byte sectors: sector-size published, sectors and requests in 512-byte units, a request that is not whole 4096-byte sectors refused and counted', async () => {
    const dev = await connect(false, S.XenbusStateConnected, 4096);
    expect(await xs.read(`${BE}/sector-size`)).toBe('4096');
    expect(await xs.read(`${BE}/physical-sector-size`)).toBe('4096');
    expect(await xs.read(`${BE}/sectors`)).toBe(String(SECTORS)); // 512-byte units, as Linux's xen-blkback writes it
    // Aligned: sector 8 (byte 4096), one whole page: served, 8 sectors counted.
    grant(front, 20, 0, 4);
    putRequest(B.BLKIF_OP_READ, 8, [[20, 0, 7]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_OKAY]);
    expect(front.mem!.read(gpa(4, 0), 4096)).toEqual(store.bytes().subarray(8 * 512, 16 * 512));
    expect(dev.stats).toMatchObject({ rdReq: 1, rdSect: 8 });
    // Two pages at sector 16: 16 sectors.
    grant(front, 21, 0, 5);
    putRequest(B.BLKIF_OP_WRITE, 16, [
      [20, 0, 7],
      [21, 0, 7],
    ]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_OKAY]);
    expect(dev.stats).toMatchObject({ wrReq: 1, wrSect: 16 });
    // Not whole logical sectors: a start inside one, a short length, a segment starting inside a page.
    const before = store.bytes().slice();
    front.mem!.write(gpa(4, 0), new Uint8Array(4096).fill(0xee));
    putRequest(B.BLKIF_OP_READ, 9, [[20, 0, 7]]); // sector 9: byte 4608
    putRequest(B.BLKIF_OP_READ, 8, [[20, 0, 0]]); // one 512-byte sector
    putRequest(B.BLKIF_OP_WRITE, 8, [[20, 0, 3]]); // half a logical sector
    putRequest(B.BLKIF_OP_WRITE, 8, [
      [20, 0, 7],
      [21, 4, 7],
    ]); // the second segment is half a sector in the middle of its page
    putRequest(B.BLKIF_OP_WRITE, 0, [[20, 1, 7]], { nseg: 1 }); // 7 sectors from first_sect 1
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_ERROR, B.BLKIF_RSP_ERROR, B.BLKIF_RSP_ERROR, B.BLKIF_RSP_ERROR, B.BLKIF_RSP_ERROR]);
    expect(dev.stats.refused.misaligned).toBe(5);
    expect(dev.stats).toMatchObject({ rdReq: 1, rdSect: 8, wrReq: 1, wrSect: 16 }); // refused ones are not served
    expect(store.bytes()).toEqual(before); // nothing written
    expect(front.mem!.read(gpa(4, 0), 4096).every((b) => b === 0xee)).toBe(true); // nothing read into the guest
    // Past the end is still past the end (checked before the alignment).
    putRequest(B.BLKIF_OP_READ, SECTORS - 4, [[20, 0, 7]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_ERROR]);
    expect(dev.stats.refused.pastEnd).toBe(1);
  });

  it('a 512-byte disk takes any sector and length; an image that is not whole logical sectors is cut to them', async () => {
    const dev = await connect();
    expect(await xs.read(`${BE}/physical-sector-size`)).toBe('512');
    grant(front, 20, 0, 4);
    putRequest(B.BLKIF_OP_READ, 9, [[20, 3, 3]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_OKAY]);
    expect(dev.stats.refused.misaligned).toBe(0);
    const odd = new BlkBack(host()).add({
      domid: FRONT,
      devid: 51728,
      image: new RawImage(new MemoryStore(new Uint8Array(3 * 4096 + 512)), 'odd.img'),
      readOnly: false,
      cdrom: false,
      backendPath: `${BE}x`,
      frontendPath: `${FE}x`,
      sectorSize: 4096,
    });
    await odd.started;
    expect(odd.device.sectors).toBe(24);
    expect(() =>
      new BlkBack(host()).add({
        domid: FRONT,
        devid: 51744,
        image: new RawImage(store, 'disk.img'),
        readOnly: false,
        cdrom: false,
        backendPath: `${BE}y`,
        frontendPath: `${FE}y`,
        sectorSize: 1000,
      }),
    ).toThrow(/sector-size 1000 is not a power of two from 512 to 4096/);
  });

  it('notifications: the backend notifies only past rsp_event, and asks for one at the next request', async () => {
    await connect();
    grant(front, 20, 0, 4);
    putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 0]]);
    push();
    expect(notified).toBe(1);
    expect(ringWord(SRING_REQ_EVENT)).toBe(2); // req_cons + 1
    // The frontend does not want to hear about the next 5 responses.
    front.mem!.setU32(gpa(RING_GFN, SRING_RSP_EVENT), ringWord(SRING_RSP_PROD) + 5);
    putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 0]]);
    expect(push()).toBe(true);
    expect(notified).toBe(1);
    expect(ringWord(SRING_RSP_PROD)).toBe(2);
    // Two requests published at once, one notification: both served.
    putRequest(B.BLKIF_OP_READ, 1, [[20, 0, 0]]);
    putRequest(B.BLKIF_OP_READ, 2, [[20, 0, 0]]);
    expect(push()).toBe(true);
    expect(ringWord(SRING_RSP_PROD)).toBe(4);
  });

  it('hostile fields: each bad request gets an error and a counter, nothing else happens', async () => {
    const dev = await connect();
    grant(front, 20, 0, 4);
    grant(front, 23, 0, 7, X.GTF_permit_access | X.GTF_readonly);
    grant(front, 24, 9, 8); // granted to domain 9, not Domain-0
    const before = store.bytes();
    const cases: [() => void, number, string][] = [
      [() => putRequest(B.BLKIF_OP_READ, 0, [], { nseg: 0 }), B.BLKIF_RSP_ERROR, 'badSegments'],
      [
        () =>
          putRequest(
            B.BLKIF_OP_WRITE,
            0,
            Array.from({ length: 11 }, () => [20, 0, 0] as [number, number, number]),
            { nseg: 12 },
          ),
        B.BLKIF_RSP_ERROR,
        'badSegments',
      ],
      [() => putRequest(B.BLKIF_OP_WRITE, 0, [[20, 5, 2]]), B.BLKIF_RSP_ERROR, 'badSector'],
      [() => putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 8]]), B.BLKIF_RSP_ERROR, 'badSector'],
      [() => putRequest(B.BLKIF_OP_WRITE, SECTORS - 1, [[20, 0, 1]]), B.BLKIF_RSP_ERROR, 'pastEnd'],
      [() => putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 0]], { sectorHi: 1 }), B.BLKIF_RSP_ERROR, 'pastEnd'],
      [() => putRequest(B.BLKIF_OP_READ, 0, [[4000, 0, 0]]), B.BLKIF_RSP_ERROR, 'badGrant'], // no such entry in use
      [() => putRequest(B.BLKIF_OP_READ, 0, [[0xffff_ffff, 0, 0]]), B.BLKIF_RSP_ERROR, 'badGrant'], // past the table
      [() => putRequest(B.BLKIF_OP_READ, 0, [[23, 0, 0]]), B.BLKIF_RSP_ERROR, 'badGrant'], // read-only grant, backend must write
      [() => putRequest(B.BLKIF_OP_WRITE, 0, [[24, 0, 0]]), B.BLKIF_RSP_ERROR, 'badGrant'], // not ours
      [
        () =>
          putRequest(B.BLKIF_OP_WRITE, 0, [
            [20, 0, 0],
            [24, 0, 0],
          ]),
        B.BLKIF_RSP_ERROR,
        'badGrant',
      ], // second segment bad: nothing written
      [() => putRequest(B.BLKIF_OP_WRITE_BARRIER, 0, [[20, 0, 0]]), B.BLKIF_RSP_EOPNOTSUPP, 'notSupported'],
      [() => putRequest(B.BLKIF_OP_DISCARD, 0, []), B.BLKIF_RSP_EOPNOTSUPP, 'notSupported'],
      [() => putRequest(B.BLKIF_OP_INDIRECT, 0, []), B.BLKIF_RSP_EOPNOTSUPP, 'notSupported'],
      [() => putRequest(200, 0, []), B.BLKIF_RSP_EOPNOTSUPP, 'notSupported'],
    ];
    for (const [make, status, why] of cases) {
      const n = dev.stats.refused[why as keyof typeof dev.stats.refused];
      make();
      push();
      expect(statuses(), why).toEqual([status]);
      expect(dev.stats.refused[why as keyof typeof dev.stats.refused]).toBe(n + 1);
    }
    expect(store.bytes()).toEqual(before); // no write reached the disk
    // Still serving good requests.
    putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 0]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_OKAY]);
  });

  it('a grant of a frame the frontend maps from another domain is refused: the victim page is neither read nor written', async () => {
    const dev = await connect();
    // The victim shares a page with the frontend, which maps it and grants it on to Domain-0.
    victim.mem!.write(gpa(3), new TextEncoder().encode('victim data'));
    grant(victim, 10, FRONT, 3);
    const [st] = gt.map(front, gpa(20), X.GNTMAP_host_map, 10, VICTIM);
    expect(st).toBe(X.GNTST_okay);
    grant(front, 30, 0, 20); // a foreign frame
    putRequest(B.BLKIF_OP_READ, 0, [[30, 0, 0]]);
    putRequest(B.BLKIF_OP_WRITE, 0, [[30, 0, 0]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_ERROR, B.BLKIF_RSP_ERROR]);
    expect(dev.stats.refused.badGrant).toBe(2);
    const v = victim.mem!.read(gpa(3), 11);
    expect(new TextDecoder().decode(v)).toBe('victim data');
    expect(new TextDecoder().decode(store.bytes().subarray(0, 11))).not.toBe('victim data');
  });

  it('req_prod more than a ring ahead: nothing served, counted; sane indices work again', async () => {
    const dev = await connect();
    grant(front, 20, 0, 4);
    putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 0]]);
    front.mem!.setU32(gpa(RING_GFN, SRING_REQ_PROD), 1000);
    handler!();
    handler!();
    expect(ringWord(SRING_RSP_PROD)).toBe(0);
    expect(dev.stats.badRing).toBe(2);
    expect(log.filter((l) => l.includes('more than a ring ahead'))).toHaveLength(1);
    front.mem!.setU32(gpa(RING_GFN, SRING_REQ_PROD), 0xffff_fff0); // behind: also more than a ring ahead, unsigned
    handler!();
    expect(dev.stats.badRing).toBe(3);
    push(1);
    expect(statuses()).toEqual([B.BLKIF_RSP_OKAY]);
  });

  it('a read-only disk cannot be written', async () => {
    const dev = await connect(true);
    grant(front, 20, 0, 4);
    const before = store.bytes();
    putRequest(B.BLKIF_OP_WRITE, 0, [[20, 0, 7]]);
    putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 7]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_ERROR, B.BLKIF_RSP_OKAY]);
    expect(dev.stats.refused.readOnly).toBe(1);
    expect(store.bytes()).toEqual(before);
  });

  it('requests on a closing device get errors; after teardown the ring is unmapped and notifications do nothing', async () => {
    const dev = await connect();
    grant(front, 20, 0, 4);
    const before = store.bytes();
    dev.close(50);
    await settle();
    expect(dev.state).toBe(S.XenbusStateClosing);
    const h = handler!;
    putRequest(B.BLKIF_OP_WRITE, 0, [[20, 0, 0]]);
    push();
    expect(statuses()).toEqual([B.BLKIF_RSP_ERROR]);
    expect(dev.stats.refused.closed).toBe(1);
    await new Promise((r) => setTimeout(r, 80)); // the frontend never answers: torn down after the grace time
    expect(dev.gone).toBe(true);
    expect(mem.refs(front.p2m.get(RING_GFN))).toBe(0);
    putRequest(B.BLKIF_OP_WRITE, 0, [[20, 0, 0]]);
    front.mem!.setU32(gpa(RING_GFN, SRING_REQ_PROD), reqProd);
    h();
    expect(ringWord(SRING_RSP_PROD)).toBe(1);
    expect(store.bytes()).toEqual(before);
  });

  it("the frontend domain dies with the ring mapped: the frame stays Domain-0's to unmap, then is freed", async () => {
    const dev = await connect();
    const mfn = front.p2m.get(RING_GFN);
    gt.teardown(front);
    doms.delete(FRONT);
    for (let g = 0; g < 16; g++) mem.free(front.p2m.get(g));
    expect(mem.owner[mfn]).toBe(0x7ff2); // DOMID_XEN until Domain-0 lets go
    const free = mem.nrFree;
    dev.kill();
    expect(mem.nrFree).toBe(free + 1);
  });

  it('random slots and indices (5000 rounds): no exception, every consumed request answered, the victim untouched, pins balanced', async () => {
    const dev = await connect();
    let seed = 12345;
    const rnd = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>>= 0);
    };
    grant(front, 20, 0, 4);
    grant(front, 21, 0, 5, X.GTF_permit_access | X.GTF_readonly);
    victim.mem!.write(gpa(3), new TextEncoder().encode('victim data'));
    grant(victim, 10, FRONT, 3);
    gt.map(front, gpa(20), X.GNTMAP_host_map, 10, VICTIM);
    grant(front, 30, 0, 20);
    const victimPage = victim.mem!.read(gpa(3), 4096);
    for (let round = 0; round < 5000; round++) {
      // A slot of random bytes, sometimes with plausible fields.
      const at = gpa(RING_GFN, 64 + (reqProd % 32) * 112);
      const b = new Uint8Array(112).map(() => rnd() & 0xff);
      if (rnd() % 2) {
        b[0] = rnd() % 4;
        b[1] = rnd() % 13;
        for (let i = 0; i < 11; i++) {
          b.fill(0, 24 + i * 8, 28 + i * 8);
          b[24 + i * 8] = [20, 21, 30, 4000][rnd() % 4]!;
          b[28 + i * 8] = rnd() % 8;
          b[29 + i * 8] = b[28 + i * 8]! + (rnd() % (8 - b[28 + i * 8]!)) + (rnd() % 20 === 0 ? 5 : 0);
        }
        b.fill(0, 17, 24);
        b[16] = rnd() % 80;
      }
      front.mem!.write(at, b);
      reqProd++;
      const wild = rnd() % 50 === 0;
      front.mem!.setU32(gpa(RING_GFN, SRING_REQ_PROD), wild ? rnd() : reqProd);
      handler!();
      if (wild) front.mem!.setU32(gpa(RING_GFN, SRING_REQ_PROD), reqProd);
      if (rnd() % 3 === 0) handler!();
      responses();
      expect(ringWord(SRING_RSP_PROD)).toBe(dev.ringIndices!.reqCons); // every consumed request answered
    }
    handler!();
    expect(ringWord(SRING_RSP_PROD)).toBe(reqProd);
    expect(victim.mem!.read(gpa(3), 4096)).toEqual(victimPage);
    expect(front.activeGrants.size).toBe(1); // only the ring page stays pinned
    const st = dev.stats;
    const total = st.rdReq + st.wrReq + st.flReq + Object.values(st.refused).reduce((x, y) => x + y, 0);
    expect(st.rdReq).toBeGreaterThan(0); // some were good (grant 20)
    expect(st.refused.badGrant).toBeGreaterThan(0);
    expect(st.refused.pastEnd).toBeGreaterThan(0);
    expect(total).toBe(5000);
    expect(log.filter((l) => !l.includes('more than a ring ahead'))).toEqual([]);
  });

  it('a frontend that keeps producing while the backend works: 256 served per event, the rest in the next task', async () => {
    const dev = await connect();
    grant(front, 20, 0, 4);
    let produced = 0;
    onRead = () => {
      // Each request served makes room for one more, which the frontend fills at once.
      if (produced >= 600) return;
      produced++;
      putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 0]]);
      front.mem!.setU32(gpa(RING_GFN, SRING_REQ_PROD), reqProd);
      responses();
    };
    produced++;
    putRequest(B.BLKIF_OP_READ, 0, [[20, 0, 0]]);
    push();
    expect(dev.stats.rdReq).toBe(256);
    await settle();
    expect(dev.stats.rdReq).toBe(600);
    responses();
    expect(ringWord(SRING_RSP_PROD)).toBe(600);
  });
});
