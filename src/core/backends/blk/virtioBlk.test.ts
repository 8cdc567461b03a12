import { describe, expect, it } from 'vitest';
import { MemoryStore, RawImage } from '../../block';
import { VirtioMmioDevice } from '../../devices/virtio/mmioDevice';
import { BUF, Q_AVAIL, TEST_GRANT_GFN, TEST_HOLE_GFN, TEST_RAM_BASE, TEST_RO_GFN, TestDriver, TestMachine } from '../../devices/virtio/testDriver';
import {
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from '../../devices/virtio/virtio';
import * as R from '../../devices/virtioMmio';
import { restoreVirtioMmio, saveVirtioMmio } from '../../devices/virtio/state';
import { seededRandom } from '../../../testing/support';
import {
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VirtioBlk,
} from './virtioBlk';

const SECTORS = 64;
const HDR = BUF; // request header
const DATA = BUF + 0x1000; // data pages
const STATUS = BUF + 0x800;

function setup(opts: { readOnly?: boolean; features?: number[]; num?: number; sectorSize?: number } = {}) {
  const m = new TestMachine();
  const store = new MemoryStore(SECTORS * 512);
  const image = new RawImage(store, 'test.img');
  const blk = new VirtioBlk({
    image,
    readOnly: opts.readOnly ?? false,
    serial: 'xvda',
    dma: m.dma,
    ...(opts.sectorSize ? { sectorSize: opts.sectorSize } : {}),
  });
  const irq: boolean[] = [];
  const logs: string[] = [];
  const dev = new VirtioMmioDevice({ name: 'virtio-blk', model: blk, dma: m.dma, irq: { set: (l) => irq.push(l) }, log: (l) => logs.push(l) });
  const drv = new TestDriver(m, dev, opts.num ?? 8);
  const st = drv.init(opts.features ?? [VIRTIO_F_VERSION_1, VIRTIO_BLK_F_FLUSH]);
  return { m, store, image, blk, dev, drv, irq, logs, st };
}

function header(m: TestMachine, type: number, sector: number): void {
  m.view.setUint32(m.off(HDR), type, true);
  m.view.setUint32(m.off(HDR) + 4, 0, true);
  m.view.setUint32(m.off(HDR) + 8, sector % 2 ** 32, true);
  m.view.setUint32(m.off(HDR) + 12, Math.floor(sector / 2 ** 32), true);
}

/** One request: header, data (len bytes at DATA, device-writable for reads), status; returns [status, used len]. */
function request(s: ReturnType<typeof setup>, type: number, sector: number, len: number): [number, number] {
  header(s.m, type, sector);
  s.m.u8[s.m.off(STATUS)] = 0xff;
  const parts: { addr: number; len: number; write?: boolean }[] = [{ addr: HDR, len: 16 }];
  if (len > 0) parts.push({ addr: DATA, len, write: type !== VIRTIO_BLK_T_OUT });
  parts.push({ addr: STATUS, len: 1, write: true });
  const head = s.drv.chain(parts);
  s.drv.offer(head);
  s.drv.notify();
  const used = s.drv.used();
  expect(used).toHaveLength(1);
  expect(used[0]![0]).toBe(head);
  return [s.m.u8[s.m.off(STATUS)]!, used[0]![1]];
}

describe('virtio-blk over virtio-mmio', () => {
  it('identifies itself as a modern block device with its config space (5.2.4)', () => {
    const s = setup();
    expect(s.drv.r(R.VIRTIO_MMIO_MAGIC_VALUE)).toBe(0x74726976);
    expect(s.drv.r(R.VIRTIO_MMIO_VERSION)).toBe(2);
    expect(s.drv.r(R.VIRTIO_MMIO_DEVICE_ID)).toBe(2);
    expect(s.st & VIRTIO_CONFIG_S_FEATURES_OK).toBeTruthy();
    s.drv.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    expect(s.drv.r(R.VIRTIO_MMIO_DEVICE_FEATURES)).toBe(1); // VIRTIO_F_VERSION_1
    s.drv.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    const f = s.drv.r(R.VIRTIO_MMIO_DEVICE_FEATURES);
    expect(f & (1 << VIRTIO_BLK_F_FLUSH)).toBeTruthy();
    expect(f & (1 << VIRTIO_BLK_F_RO)).toBe(0);
    expect(f & (1 << VIRTIO_F_EVENT_IDX)).toBeTruthy();
    expect(f & (1 << VIRTIO_F_INDIRECT_DESC)).toBeTruthy();
    expect(s.dev.read(0x100, 4)).toBe(SECTORS); // capacity low word
    expect(s.dev.read(0x104, 4)).toBe(0);
    expect(s.dev.read(0x100 + 20, 4)).toBe(512); // blk_size
    expect(s.dev.read(0x100 + 12, 4)).toBeGreaterThan(0); // seg_max
    expect(s.dev.read(0x100, 1)).toBe(SECTORS); // byte access to config space
    expect(s.drv.r(R.VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(256);
  });

  it('refuses FEATURES_OK without VERSION_1 or with bits it did not offer (3.1.1)', () => {
    expect(setup({ features: [VIRTIO_BLK_F_FLUSH] }).st & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
    expect(setup({ features: [VIRTIO_F_VERSION_1, 7] }).st & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
  });

  it('writes, flushes, reads back, answers GET_ID, and interrupts', () => {
    const s = setup();
    s.m.put(DATA, new Uint8Array(1024).fill(0xab));
    expect(request(s, VIRTIO_BLK_T_OUT, 3, 1024)).toEqual([VIRTIO_BLK_S_OK, 1]);
    expect(s.irq.at(-1)).toBe(true);
    expect(s.drv.r(R.VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(1);
    s.drv.w(R.VIRTIO_MMIO_INTERRUPT_ACK, 1);
    expect(s.irq.at(-1)).toBe(false);
    const flushes = s.store.flushes;
    expect(request(s, VIRTIO_BLK_T_FLUSH, 0, 0)).toEqual([VIRTIO_BLK_S_OK, 1]);
    expect(s.store.flushes).toBe(flushes + 1);
    const disk = new Uint8Array(1024);
    s.image.readSectors(3, disk);
    expect(disk.every((b) => b === 0xab)).toBe(true);
    s.m.put(DATA, new Uint8Array(2048));
    expect(request(s, VIRTIO_BLK_T_IN, 2, 2048)).toEqual([VIRTIO_BLK_S_OK, 2049]);
    const got = s.m.get(DATA, 2048);
    expect(got.subarray(0, 512).every((b) => b === 0)).toBe(true);
    expect(got.subarray(512, 1536).every((b) => b === 0xab)).toBe(true);
    expect(request(s, VIRTIO_BLK_T_GET_ID, 0, 20)).toEqual([VIRTIO_BLK_S_OK, 21]);
    expect(new TextDecoder().decode(s.m.get(DATA, 4))).toBe('xvda');
    expect(s.blk.stats).toMatchObject({ rdReq: 1, wrReq: 1, flReq: 1, rdSect: 4, wrSect: 2 });
    expect(s.m.written.has((DATA - TEST_RAM_BASE) / 4096)).toBe(true); // the dirty hook saw the read's data page
  });

  it('answers IOERR for bad lengths, ranges past the end and writes to a read-only disk; UNSUPP for other types', () => {
    const s = setup();
    expect(request(s, VIRTIO_BLK_T_IN, 0, 100)[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(request(s, VIRTIO_BLK_T_IN, SECTORS - 1, 1024)[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(request(s, VIRTIO_BLK_T_OUT, 2 ** 40, 512)[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(request(s, 11 /* DISCARD */, 0, 16)[0]).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(s.blk.stats.refused).toMatchObject({ badSegments: 1, pastEnd: 2, notSupported: 1 });
    const ro = setup({ readOnly: true });
    ro.drv.w(R.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    expect(ro.drv.r(R.VIRTIO_MMIO_DEVICE_FEATURES) & (1 << VIRTIO_BLK_F_RO)).toBeTruthy();
    ro.m.put(DATA, new Uint8Array(512).fill(1));
    expect(request(ro, VIRTIO_BLK_T_OUT, 0, 512)).toEqual([VIRTIO_BLK_S_IOERR, 1]);
    expect(ro.store.writes).toBe(0);
    expect(ro.blk.stats.refused.readOnly).toBe(1);
    expect(ro.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
  });

  it('a disk of 4096-byte sectors: blk_size 4096, capacity and sector numbers in 512-byte units, IOERR and a count for a request that is not whole sectors', () => {
    const s = setup({ sectorSize: 4096 });
    expect(s.dev.read(0x100 + 20, 4)).toBe(4096); // blk_size (5.2.4)
    expect(s.dev.read(0x100, 4)).toBe(SECTORS); // capacity: still 512-byte sectors
    s.m.put(DATA, new Uint8Array(8192).fill(0x5a));
    expect(request(s, VIRTIO_BLK_T_OUT, 8, 8192)).toEqual([VIRTIO_BLK_S_OK, 1]);
    expect(request(s, VIRTIO_BLK_T_IN, 16, 4096)).toEqual([VIRTIO_BLK_S_OK, 4097]);
    expect(s.blk.stats).toMatchObject({ wrReq: 1, wrSect: 16, rdReq: 1, rdSect: 8 });
    const before = s.store.bytes().slice();
    expect(request(s, VIRTIO_BLK_T_OUT, 9, 4096)[0]).toBe(VIRTIO_BLK_S_IOERR); // starts inside a sector
    expect(request(s, VIRTIO_BLK_T_OUT, 8, 512)[0]).toBe(VIRTIO_BLK_S_IOERR); // a part of one
    expect(request(s, VIRTIO_BLK_T_IN, 8, 1024)[0]).toBe(VIRTIO_BLK_S_IOERR);
    expect(s.blk.stats.refused.misaligned).toBe(3);
    expect(s.store.bytes()).toEqual(before);
    expect(s.blk.stats).toMatchObject({ wrReq: 1, rdReq: 1 });
    expect(() => setup({ sectorSize: 3000 })).toThrow(/sector-size 3000 is not a power of two from 512 to 4096/);
  });

  it('serves any framing: header and data split across descriptors, and an indirect table at any address', () => {
    const s = setup({ features: [VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC] });
    s.m.put(DATA, new Uint8Array(512).fill(7));
    header(s.m, VIRTIO_BLK_T_OUT, 5);
    // header in two pieces, the data sector in two, the status byte
    const head = s.drv.chain([
      { addr: HDR, len: 10 },
      { addr: HDR + 10, len: 6 },
      { addr: DATA, len: 100 },
      { addr: DATA + 100, len: 412 },
      { addr: STATUS, len: 1, write: true },
    ]);
    s.drv.offer(head);
    s.drv.notify();
    expect(s.drv.used()).toEqual([[head, 1]]);
    header(s.m, VIRTIO_BLK_T_IN, 5);
    s.m.put(DATA + 0x1000, new Uint8Array(512));
    const ih = s.drv.indirect(
      [
        { addr: HDR, len: 16 },
        { addr: DATA + 0x1000, len: 512, write: true },
        { addr: STATUS, len: 1, write: true },
      ],
      BUF + 0x40c, // no alignment: Linux kmallocs its indirect tables
    );
    s.drv.offer(ih);
    s.drv.notify();
    expect(s.drv.used()).toEqual([[ih, 513]]);
    expect(s.m.get(DATA + 0x1000, 512).every((b) => b === 7)).toBe(true);
  });

  it('suppresses interrupts by used_event with VIRTIO_F_EVENT_IDX (2.7.10) and publishes avail_event', () => {
    const s = setup({ features: [VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX] });
    const usedEvent = s.m.off(Q_AVAIL) + 4 + 2 * 8;
    s.m.view.setUint16(usedEvent, 5, true); // interrupt only once used idx passes 5
    let interrupts = 0;
    for (let i = 0; i < 4; i++) {
      const before = s.dev.counts.interrupts;
      request(s, VIRTIO_BLK_T_FLUSH, 0, 0);
      interrupts += s.dev.counts.interrupts - before;
    }
    expect(interrupts).toBe(0);
    request(s, VIRTIO_BLK_T_FLUSH, 0, 0);
    request(s, VIRTIO_BLK_T_FLUSH, 0, 0); // used idx 5 -> 6 crosses used_event 5
    expect(s.dev.counts.interrupts).toBe(1);
    expect(s.m.view.getUint16(s.m.off(BUF - 0x8000 + 0x3000) + 4 + 8 * 8, true)).toBe(6); // avail_event = last avail idx
  });
});

describe('virtio-blk against a hostile driver', () => {
  /** Offer the chain at `head` and notify; the device must need a reset, nothing else may happen. */
  function expectReset(s: ReturnType<typeof setup>, head: number): void {
    s.drv.offer(head);
    s.drv.notify();
    expect(s.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBeTruthy();
    expect(s.drv.r(R.VIRTIO_MMIO_INTERRUPT_STATUS) & R.VIRTIO_MMIO_INT_CONFIG).toBeTruthy();
    expect(s.m.foreign.every((b) => b === 0x5a)).toBe(true);
    // Nothing more is served until a reset; after one the device works again.
    const before = s.dev.counts.ignoredNotifies;
    s.drv.notify();
    expect(s.dev.counts.ignoredNotifies).toBe(before + 1);
    s.drv.availIdx = 0;
    s.drv.usedSeen = 0;
    s.drv.nextDesc = 0;
    s.drv.init([VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC]);
    expect(s.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
    expect(request(s, VIRTIO_BLK_T_FLUSH, 0, 0)[0]).toBe(VIRTIO_BLK_S_OK);
  }
  const fresh = () => setup({ features: [VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC] });

  it('a descriptor loop', () => {
    const s = fresh();
    header(s.m, VIRTIO_BLK_T_IN, 0);
    s.drv.desc(0, { addr: HDR, len: 16, flags: VIRTQ_DESC_F_NEXT, next: 1 });
    s.drv.desc(1, { addr: DATA, len: 512, flags: VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, next: 0 });
    expectReset(s, 0);
  });

  it('a chain longer than the queue (through an indirect table that loops)', () => {
    const s = fresh();
    const t = BUF + 0x400;
    for (let i = 0; i < 4; i++) s.drv.desc(i, { addr: DATA, len: 512, flags: VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, next: (i + 1) % 4 }, t);
    s.drv.desc(0, { addr: t, len: 64, flags: VIRTQ_DESC_F_INDIRECT });
    expectReset(s, 0);
  });

  for (const [what, addr] of [
    ['past the RAM', TEST_RAM_BASE + 64 * 4096],
    ['below the RAM', 0x1000],
    ['a 64-bit address', 2 ** 32 + TEST_RAM_BASE],
    ['a hole in the P2M', TEST_RAM_BASE + TEST_HOLE_GFN * 4096],
    ['another domain\u2019s granted frame', TEST_RAM_BASE + TEST_GRANT_GFN * 4096],
  ] as const) {
    it(`a data buffer ${what}`, () => {
      const s = fresh();
      header(s.m, VIRTIO_BLK_T_IN, 0);
      expectReset(
        s,
        s.drv.chain([
          { addr: HDR, len: 16 },
          { addr, len: 512, write: true },
          { addr: STATUS, len: 1, write: true },
        ]),
      );
    });
  }

  it('a device-writable buffer on a read-only frame, and a buffer that runs off the end of the RAM', () => {
    const s = fresh();
    header(s.m, VIRTIO_BLK_T_IN, 0);
    expectReset(
      s,
      s.drv.chain([
        { addr: HDR, len: 16 },
        { addr: TEST_RAM_BASE + TEST_RO_GFN * 4096, len: 512, write: true },
        { addr: STATUS, len: 1, write: true },
      ]),
    );
    header(s.m, VIRTIO_BLK_T_OUT, 0);
    expectReset(
      s,
      s.drv.chain([
        { addr: HDR, len: 16 },
        { addr: TEST_RAM_BASE + 60 * 4096, len: 0xffff_f000 },
        { addr: STATUS, len: 1, write: true },
      ]),
    );
  });

  it('no room for the header or the status byte; readable after writable', () => {
    const s = fresh();
    header(s.m, VIRTIO_BLK_T_IN, 0);
    expectReset(s, s.drv.chain([{ addr: HDR, len: 16 }]));
    expectReset(
      s,
      s.drv.chain([
        { addr: HDR, len: 8 },
        { addr: STATUS, len: 1, write: true },
      ]),
    );
    expectReset(
      s,
      s.drv.chain([
        { addr: HDR, len: 16 },
        { addr: STATUS, len: 1, write: true },
        { addr: DATA, len: 512 },
      ]),
    );
  });

  it('bad indirect tables: nested, with NEXT, odd length, not negotiated', () => {
    const s = fresh();
    const t = BUF + 0x400;
    s.drv.desc(0, { addr: t, len: 16, flags: VIRTQ_DESC_F_INDIRECT }, t);
    s.drv.desc(0, { addr: t, len: 16, flags: VIRTQ_DESC_F_INDIRECT });
    expectReset(s, 0);
    s.drv.desc(0, { addr: t, len: 16, flags: VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, next: 1 });
    expectReset(s, 0);
    s.drv.desc(0, { addr: t, len: 20, flags: VIRTQ_DESC_F_INDIRECT });
    expectReset(s, 0);
    const plain = setup();
    plain.drv.desc(0, { addr: t, len: 16, flags: VIRTQ_DESC_F_INDIRECT });
    plain.drv.offer(0);
    plain.drv.notify();
    expect(plain.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBeTruthy();
  });

  it('wild ring indices: a head past the table, an avail idx more than a queue ahead', () => {
    const s = fresh();
    expectReset(s, 200);
    s.m.view.setUint16(s.m.off(Q_AVAIL) + 2, 1000, true);
    s.drv.notify();
    expect(s.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBeTruthy();
  });

  it('bad queue setups: size not a power of 2 or too large, rings outside the RAM or misaligned', () => {
    for (const [reg, value] of [
      [R.VIRTIO_MMIO_QUEUE_NUM, 6],
      [R.VIRTIO_MMIO_QUEUE_NUM, 512],
      [R.VIRTIO_MMIO_QUEUE_NUM, 0],
      [R.VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000],
      [R.VIRTIO_MMIO_QUEUE_DESC_HIGH, 1],
      [R.VIRTIO_MMIO_QUEUE_DRIVER_LOW, TEST_RAM_BASE + 0x2001],
      [R.VIRTIO_MMIO_QUEUE_DEVICE_LOW, TEST_RAM_BASE + TEST_RO_GFN * 4096],
    ] as const) {
      const s = setup();
      s.drv.init([VIRTIO_F_VERSION_1], { ready: false });
      s.drv.w(reg, value);
      s.drv.w(R.VIRTIO_MMIO_QUEUE_READY, 1);
      expect(s.drv.r(R.VIRTIO_MMIO_QUEUE_READY)).toBe(0);
      expect(s.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET).toBeTruthy();
    }
  });

  it('narrow or misaligned control register accesses read 0 and change nothing; a notify of a queue that does not exist is ignored', () => {
    const s = setup();
    expect(s.dev.read(R.VIRTIO_MMIO_MAGIC_VALUE, 1)).toBe(0);
    s.dev.write(R.VIRTIO_MMIO_STATUS, 1, 0);
    expect(s.drv.status).not.toBe(0);
    expect(s.dev.counts.badAccess).toBe(2);
    s.drv.w(R.VIRTIO_MMIO_QUEUE_NOTIFY, 5);
    s.drv.w(R.VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff_ffff);
    expect(s.dev.counts.ignoredNotifies).toBe(2);
  });

  it('random descriptors and indices never throw, never touch another domain\u2019s frame, never write a read-only disk', () => {
    const rnd = seededRandom(13);
    const s = setup({ readOnly: true, features: [VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX] });
    const v = s.m.view;
    const addrs = [HDR, DATA, STATUS, TEST_RAM_BASE + TEST_GRANT_GFN * 4096, TEST_RAM_BASE + TEST_RO_GFN * 4096, 0, 0xffff_fff0, BUF + 0x400];
    for (let round = 0; round < 3000; round++) {
      for (let i = 0; i < 8; i++) {
        const o = s.m.off(BUF - 0x8000 + 0x1000) + 16 * i;
        v.setUint32(o, addrs[Math.floor(rnd() * addrs.length)]! + Math.floor(rnd() * 16), true);
        v.setUint32(o + 4, rnd() < 0.05 ? 1 : 0, true);
        v.setUint32(o + 8, [0, 1, 16, 512, 4096, 0xffff_ffff][Math.floor(rnd() * 6)]!, true);
        v.setUint16(o + 12, Math.floor(rnd() * 8), true);
        v.setUint16(o + 14, Math.floor(rnd() * 10), true);
      }
      header(s.m, Math.floor(rnd() * 10), Math.floor(rnd() * 80));
      v.setUint16(s.m.off(Q_AVAIL) + 4 + 2 * Math.floor(rnd() * 8), Math.floor(rnd() * 10), true);
      s.drv.availIdx = rnd() < 0.1 ? Math.floor(rnd() * 65536) : (s.drv.availIdx + 1) & 0xffff;
      v.setUint16(s.m.off(Q_AVAIL) + 2, s.drv.availIdx, true);
      s.drv.notify();
      if (s.dev.status & VIRTIO_CONFIG_S_NEEDS_RESET) {
        s.drv.availIdx = 0;
        s.drv.init([VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX]);
      }
    }
    expect(s.m.foreign.every((b) => b === 0x5a)).toBe(true);
    expect(s.store.writes).toBe(0);
    expect(s.dev.counts.needsReset).toBeGreaterThan(100);
  });
});

describe('virtio-blk transport state: save and restore', () => {
  it('a restored transport on the same memory goes on serving the driver where it was', () => {
    const s = setup({ features: [VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX] });
    s.m.put(DATA, new Uint8Array(512).fill(9));
    expect(request(s, VIRTIO_BLK_T_OUT, 1, 512)[0]).toBe(VIRTIO_BLK_S_OK);
    const saved = JSON.parse(JSON.stringify(saveVirtioMmio(s.dev))) as ReturnType<typeof saveVirtioMmio>;
    expect(saved.queues[0]).toMatchObject({ ready: true, num: 8, lastAvail: 1, usedIdx: 1, eventIdx: true });
    // A new device (as on the restoring host) over the same image and guest memory.
    const irq: boolean[] = [];
    const dev = new VirtioMmioDevice({ name: 'virtio-blk', model: s.blk, dma: s.m.dma, irq: { set: (l) => irq.push(l) } });
    restoreVirtioMmio(dev, saved);
    expect(irq.at(-1)).toBe(true); // InterruptStatus was still set: the line comes back up
    const s2 = { ...s, dev, drv: Object.assign(new TestDriver(s.m, dev, 8), { availIdx: s.drv.availIdx, usedSeen: s.drv.usedSeen, nextDesc: s.drv.nextDesc }) };
    s.m.put(DATA, new Uint8Array(512));
    expect(request(s2, VIRTIO_BLK_T_IN, 1, 512)).toEqual([VIRTIO_BLK_S_OK, 513]);
    expect(s.m.get(DATA, 512).every((b) => b === 9)).toBe(true);
  });

  it('refuses a hostile record with one line and leaves the device reset', () => {
    const s = setup();
    const good = saveVirtioMmio(s.dev);
    const bad = [
      { ...good, deviceId: 1 },
      { ...good, status: 1000 },
      { ...good, queues: [] },
      { ...good, driverFeatures: [1, -1] },
      { ...good, queues: [{ ...good.queues[0]!, descAddr: 0x1000 }] }, // a ready queue outside the RAM
      { ...good, queues: [{ ...good.queues[0]!, num: 6 }] },
      { ...good, queues: [{ ...good.queues[0]!, usedIdx: 70000 }] },
    ];
    for (const b of bad) {
      expect(() => restoreVirtioMmio(s.dev, b as typeof good)).toThrow(/^virtio-blk: saved state: /);
      expect(s.dev.status).toBe(0);
      expect(s.dev.queues[0]!.ready).toBe(false);
    }
  });
});
