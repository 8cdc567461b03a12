/**
 * The device's side of a split virtqueue (virtio 1.x section 2.7): the descriptor table,
 * the driver area ("avail" ring) and the device area ("used" ring), all in guest memory and
 * all reached through GuestDma. Optional features: VIRTIO_F_INDIRECT_DESC (2.7.5.3) and
 * VIRTIO_F_EVENT_IDX (2.7.7, 2.7.10: used_event / avail_event).
 *
 * Everything in these areas is written by the guest and treated as hostile: an avail index
 * more than a queue ahead, a head or `next` past the table, a chain longer than the queue
 * (which is also how a loop shows), an indirect table of a bad length, nested, or combined
 * with NEXT, a device-readable buffer after a device-writable one (2.7.4.2), or a buffer
 * that is not the guest's memory: each is a VirtqError, on which the transport marks the
 * device DEVICE_NEEDS_RESET (2.1.2), as QEMU's virtio_error does. Work per chain is
 * bounded by the queue size plus the largest indirect table.
 */
import { DmaFault, type GuestDma } from './guestDma';
import { VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_SIZE } from './virtio';

/** The driver broke the queue's rules: the device needs a reset. */
export class VirtqError extends Error {
  override name = 'VirtqError';
}

/** The largest indirect table accepted (QEMU's VIRTQUEUE_MAX_SIZE). */
export const VIRTQ_MAX_INDIRECT = 1024;

export interface VirtqBuffer {
  /** Guest-physical address and length, checked to be the guest's memory (writable if `write`). */
  addr: number;
  len: number;
}

/** One descriptor chain as the device sees it: device-readable buffers first, then device-writable. */
export interface VirtqChain {
  head: number;
  readable: VirtqBuffer[];
  writable: VirtqBuffer[];
  readLen: number;
  writeLen: number;
}

export class SplitVirtqueue {
  /** Queue size the driver chose (QueueNum). */
  num = 0;
  ready = false;
  /** Guest-physical addresses of the three areas (QueueDesc, QueueDriver, QueueDevice). */
  descAddr = 0;
  driverAddr = 0;
  deviceAddr = 0;
  /** The device's own indices (free-running 16-bit). */
  lastAvail = 0;
  usedIdx = 0;
  /** Negotiated features that change the ring's behaviour. */
  eventIdx = false;
  indirect = false;
  private readonly descBuf = new Uint8Array(VIRTQ_DESC_SIZE);
  private readonly descView = new DataView(this.descBuf.buffer);

  constructor(
    readonly index: number,
    readonly numMax: number,
    private readonly dma: GuestDma,
  ) {}

  reset(): void {
    this.num = 0;
    this.ready = false;
    this.descAddr = this.driverAddr = this.deviceAddr = 0;
    this.lastAvail = this.usedIdx = 0;
    this.eventIdx = this.indirect = false;
  }

  /** Check the queue's configuration when the driver sets QueueReady (2.7: sizes and alignment); the reason it is unusable, or undefined. */
  validate(): string | undefined {
    const n = this.num;
    if (!Number.isInteger(n) || n < 1 || n > this.numMax || (n & (n - 1)) !== 0)
      return `queue ${this.index}: size ${n} is not a power of 2 in 1..${this.numMax}`;
    if (this.descAddr % 16 !== 0 || this.driverAddr % 2 !== 0 || this.deviceAddr % 4 !== 0) return `queue ${this.index}: ring areas misaligned`;
    try {
      this.dma.check(this.descAddr, VIRTQ_DESC_SIZE * n, false);
      this.dma.check(this.driverAddr, 6 + 2 * n, false);
      this.dma.check(this.deviceAddr, 6 + 8 * n, true);
    } catch (e) {
      return `queue ${this.index}: ${(e as Error).message}`;
    }
    return undefined;
  }

  /** The driver's avail idx as it is in guest memory now (for inspectors), or undefined if it cannot be read. */
  peekAvailIdx(): number | undefined {
    if (!this.ready) return undefined;
    try {
      return this.dma.u16At(this.driverAddr + 2);
    } catch {
      return undefined;
    }
  }

  /** Chains the driver has made available and the device has not taken. */
  pending(): number {
    const n = (this.availIdx() - this.lastAvail) & 0xffff;
    if (n > this.num) throw new VirtqError(`queue ${this.index}: avail idx is ${n} ahead of the device (queue size ${this.num})`);
    return n;
  }

  private availIdx(): number {
    return this.guard(() => this.dma.u16At(this.driverAddr + 2));
  }

  /** Take the next available chain, or undefined if there is none. */
  pop(): VirtqChain | undefined {
    if (this.pending() === 0) return undefined;
    const head = this.guard(() => this.dma.u16At(this.driverAddr + 4 + 2 * (this.lastAvail % this.num)));
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    if (head >= this.num) throw new VirtqError(`queue ${this.index}: head ${head} is past the descriptor table (${this.num})`);
    return this.guard(() => this.walk(head));
  }

  /** Give the chain just popped back to the available ring (QEMU's virtqueue_unpop): the device could not take it yet. */
  unpop(): void {
    this.lastAvail = (this.lastAvail - 1) & 0xffff;
  }

  private walk(head: number): VirtqChain {
    const chain: VirtqChain = { head, readable: [], writable: [], readLen: 0, writeLen: 0 };
    let table = this.descAddr;
    let size = this.num;
    let limit = this.num; // descriptors a chain may have: the queue size (2.7.5.3.1), or the indirect table's
    let inIndirect = false;
    let i = head;
    for (let count = 0; ; count++) {
      if (count >= limit) throw new VirtqError(`queue ${this.index}: chain from ${head} is longer than ${limit} descriptors (a loop?)`);
      // One copy of the descriptor (an indirect table has no alignment: Linux kmallocs it).
      this.dma.read(table + VIRTQ_DESC_SIZE * i, this.descBuf);
      const dv = this.descView;
      const addr = dv.getUint32(0, true) + dv.getUint32(4, true) * 0x1_0000_0000;
      const len = dv.getUint32(8, true);
      const flags = dv.getUint16(12, true);
      const next = dv.getUint16(14, true);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        // 2.7.5.3.1: only when negotiated, never inside an indirect table, never with NEXT.
        if (!this.indirect) throw new VirtqError(`queue ${this.index}: indirect descriptor without VIRTIO_F_INDIRECT_DESC`);
        if (inIndirect) throw new VirtqError(`queue ${this.index}: indirect descriptor inside an indirect table`);
        if ((flags & VIRTQ_DESC_F_NEXT) !== 0) throw new VirtqError(`queue ${this.index}: indirect descriptor with NEXT`);
        if (len === 0 || len % VIRTQ_DESC_SIZE !== 0 || len / VIRTQ_DESC_SIZE > VIRTQ_MAX_INDIRECT)
          throw new VirtqError(`queue ${this.index}: indirect table of ${len} bytes`);
        this.dma.check(addr, len, false);
        table = addr;
        size = limit = len / VIRTQ_DESC_SIZE;
        inIndirect = true;
        count = -1;
        i = 0;
        continue;
      }
      const write = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (!write && chain.writable.length > 0) throw new VirtqError(`queue ${this.index}: device-readable buffer after a device-writable one`);
      this.dma.check(addr, len, write);
      (write ? chain.writable : chain.readable).push({ addr, len });
      if (write) chain.writeLen += len;
      else chain.readLen += len;
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return chain;
      if (next >= size) throw new VirtqError(`queue ${this.index}: next ${next} is past the descriptor table (${size})`);
      i = next;
    }
  }

  /** Return a chain to the driver with `len` bytes written into its device-writable buffers (2.7.8). */
  push(head: number, len: number): void {
    this.guard(() => {
      const e = this.deviceAddr + 4 + 8 * (this.usedIdx % this.num);
      this.dma.setU32(e, head);
      this.dma.setU32(e + 4, len);
      this.usedIdx = (this.usedIdx + 1) & 0xffff;
      this.dma.setU16(this.deviceAddr + 2, this.usedIdx); // after the entry (Atomics order it)
    });
  }

  /** After pushing from `oldUsed` to usedIdx: does the driver want a used-buffer notification? (2.7.7.2, 2.7.10) */
  needInterrupt(oldUsed: number): boolean {
    if (this.usedIdx === oldUsed) return false;
    return this.guard(() => {
      if (this.eventIdx) {
        const usedEvent = this.dma.u16At(this.driverAddr + 4 + 2 * this.num);
        // vring_need_event(event_idx, new_idx, old_idx)
        return ((this.usedIdx - usedEvent - 1) & 0xffff) < ((this.usedIdx - oldUsed) & 0xffff);
      }
      return (this.dma.u16At(this.driverAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    });
  }

  /** With EVENT_IDX: ask for a notification when the driver makes the next chain available (avail_event = lastAvail). */
  armNotify(): void {
    if (this.eventIdx) this.guard(() => this.dma.setU16(this.deviceAddr + 4 + 8 * this.num, this.lastAvail));
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DmaFault) throw new VirtqError(`queue ${this.index}: ${e.message}`);
      throw e;
    }
  }
}
