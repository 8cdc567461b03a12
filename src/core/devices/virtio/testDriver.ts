/**
 * For tests: a guest's memory (identity P2M over a SharedArrayBuffer, with a hole, a
 * read-only frame and a frame "granted" by another domain past the RAM) and a minimal
 * virtio-mmio driver that sets a device up the way Linux's virtio_mmio does (3.1.1) and
 * puts hand-made descriptor chains on queue 0, so tests can also make hostile ones.
 */
import { P2M_GRANT, P2M_READONLY } from '../../bus/bus';
import { GuestDma } from './guestDma';
import type { VirtioMmioDevice } from './mmioDevice';
import * as R from '../virtioMmio';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from './virtio';

export const TEST_RAM_BASE = 0x8000_0000;
export const TEST_RAM_FRAMES = 64;
/** Guest frames with no memory, a read-only frame, and one mapped from another domain. */
export const TEST_HOLE_GFN = 61;
export const TEST_RO_GFN = 62;
export const TEST_GRANT_GFN = 63;
/** Machine frame past the domain's RAM: another domain's, filled with 0x5a. */
export const TEST_FOREIGN_MFN = TEST_RAM_FRAMES;

export class TestMachine {
  readonly buffer = new SharedArrayBuffer((TEST_RAM_FRAMES + 1) * 4096);
  readonly u8 = new Uint8Array(this.buffer);
  readonly view = new DataView(this.buffer);
  readonly written = new Set<number>();
  readonly dma: GuestDma;

  constructor() {
    this.foreign.fill(0x5a);
    this.dma = new GuestDma({
      machine: this.buffer,
      ramBase: TEST_RAM_BASE,
      ramSize: TEST_RAM_FRAMES * 4096,
      p2m: (gfn) => (gfn === TEST_HOLE_GFN ? -1 : gfn === TEST_RO_GFN ? gfn | P2M_READONLY : gfn === TEST_GRANT_GFN ? TEST_FOREIGN_MFN | P2M_GRANT : gfn),
      onWrite: (gfn) => this.written.add(gfn),
    });
  }

  get foreign(): Uint8Array {
    return this.u8.subarray(TEST_FOREIGN_MFN * 4096, (TEST_FOREIGN_MFN + 1) * 4096);
  }

  /** Machine offset of a guest-physical address in the identity-mapped RAM. */
  off(gpa: number): number {
    return gpa - TEST_RAM_BASE;
  }

  put(gpa: number, bytes: Uint8Array): void {
    this.u8.set(bytes, this.off(gpa));
  }

  get(gpa: number, len: number): Uint8Array {
    return this.u8.slice(this.off(gpa), this.off(gpa) + len);
  }
}

export interface TestDesc {
  addr: number;
  len: number;
  flags?: number;
  next?: number;
}

/** Where the driver keeps queue 0 and its buffers (guest-physical). */
export const Q_DESC = TEST_RAM_BASE + 0x1000;
export const Q_AVAIL = TEST_RAM_BASE + 0x2000;
export const Q_USED = TEST_RAM_BASE + 0x3000;
export const BUF = TEST_RAM_BASE + 0x8000;

/** Where a queue's three areas are (guest-physical). */
export interface TestQueueAreas {
  index: number;
  desc: number;
  avail: number;
  used: number;
}

/** Queue 1's areas, for devices with two queues (virtio-net's transmitq). */
export const Q1_AREAS: TestQueueAreas = { index: 1, desc: TEST_RAM_BASE + 0x4000, avail: TEST_RAM_BASE + 0x5000, used: TEST_RAM_BASE + 0x6000 };

export class TestDriver {
  availIdx = 0;
  usedSeen = 0;
  nextDesc = 0;

  constructor(
    readonly m: TestMachine,
    readonly dev: VirtioMmioDevice,
    readonly num = 8,
    readonly q: TestQueueAreas = { index: 0, desc: Q_DESC, avail: Q_AVAIL, used: Q_USED },
  ) {}

  r(off: number): number {
    return this.dev.read(off, 4);
  }

  w(off: number, v: number): void {
    this.dev.write(off, 4, v);
  }

  /** Device initialization (3.1.1), accepting `features` (bit numbers); returns the status read back after FEATURES_OK. */
  init(features: readonly number[], opts: { ready?: boolean; others?: readonly TestDriver[] } = {}): number {
    this.w(R.VIRTIO_MMIO_STATUS, 0);
    this.w(R.VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    this.w(R.VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    for (let word = 0; word < 2; word++) {
      let v = 0;
      for (const b of features) if (b >>> 5 === word) v |= 1 << (b & 31);
      this.w(R.VIRTIO_MMIO_DRIVER_FEATURES_SEL, word);
      this.w(R.VIRTIO_MMIO_DRIVER_FEATURES, v >>> 0);
    }
    this.w(R.VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    const st = this.r(R.VIRTIO_MMIO_STATUS);
    this.setupQueue(opts.ready ?? true);
    for (const other of opts.others ?? []) other.setupQueue(true);
    this.w(R.VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_DRIVER_OK);
    return st;
  }

  /** Program this driver's queue (QueueSel, QueueNum, the three areas) and optionally set it ready. */
  setupQueue(ready: boolean): void {
    this.w(R.VIRTIO_MMIO_QUEUE_SEL, this.q.index);
    this.w(R.VIRTIO_MMIO_QUEUE_NUM, this.num);
    this.w(R.VIRTIO_MMIO_QUEUE_DESC_LOW, this.q.desc);
    this.w(R.VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    this.w(R.VIRTIO_MMIO_QUEUE_DRIVER_LOW, this.q.avail);
    this.w(R.VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    this.w(R.VIRTIO_MMIO_QUEUE_DEVICE_LOW, this.q.used);
    this.w(R.VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    if (ready) this.w(R.VIRTIO_MMIO_QUEUE_READY, 1);
  }

  /** Write descriptor `i` of the table at `table`. */
  desc(i: number, d: TestDesc, table = this.q.desc): void {
    const o = this.m.off(table) + 16 * i;
    const v = this.m.view;
    v.setUint32(o, d.addr % 0x1_0000_0000, true);
    v.setUint32(o + 4, Math.floor(d.addr / 0x1_0000_0000), true);
    v.setUint32(o + 8, d.len, true);
    v.setUint16(o + 12, d.flags ?? 0, true);
    v.setUint16(o + 14, d.next ?? 0, true);
  }

  /** Put a chain (linked with NEXT, from descriptor `first`) in the table; returns its head. */
  chain(parts: readonly { addr: number; len: number; write?: boolean }[], first = this.nextDesc): number {
    parts.forEach((p, k) => {
      const i = (first + k) % this.num;
      const last = k === parts.length - 1;
      this.desc(i, { addr: p.addr, len: p.len, flags: (p.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT), next: (i + 1) % this.num });
    });
    this.nextDesc = (first + parts.length) % this.num;
    return first % this.num;
  }

  /** A chain through one indirect table at `table` (its descriptors linked with NEXT). */
  indirect(parts: readonly { addr: number; len: number; write?: boolean }[], table: number): number {
    parts.forEach((p, k) =>
      this.desc(
        k,
        { addr: p.addr, len: p.len, flags: (p.write ? VIRTQ_DESC_F_WRITE : 0) | (k === parts.length - 1 ? 0 : VIRTQ_DESC_F_NEXT), next: k + 1 },
        table,
      ),
    );
    const head = this.nextDesc;
    this.desc(head, { addr: table, len: 16 * parts.length, flags: VIRTQ_DESC_F_INDIRECT });
    this.nextDesc = (head + 1) % this.num;
    return head;
  }

  /** Make `head` available (without notifying). */
  offer(head: number): void {
    const v = this.m.view;
    v.setUint16(this.m.off(this.q.avail) + 4 + 2 * (this.availIdx % this.num), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    v.setUint16(this.m.off(this.q.avail) + 2, this.availIdx, true);
  }

  notify(): void {
    this.w(R.VIRTIO_MMIO_QUEUE_NOTIFY, this.q.index);
  }

  /** Used entries since the last call: [id, len]. */
  used(): [number, number][] {
    const v = this.m.view;
    const idx = v.getUint16(this.m.off(this.q.used) + 2, true);
    const out: [number, number][] = [];
    for (; this.usedSeen !== idx; this.usedSeen = (this.usedSeen + 1) & 0xffff) {
      const e = this.m.off(this.q.used) + 4 + 8 * (this.usedSeen % this.num);
      out.push([v.getUint32(e, true), v.getUint32(e + 4, true)]);
    }
    return out;
  }

  get status(): number {
    return this.r(R.VIRTIO_MMIO_STATUS);
  }
}
