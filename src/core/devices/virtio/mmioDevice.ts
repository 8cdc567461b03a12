/**
 * A virtio-mmio transport with a device plugged in: the modern interface (Version 2, virtio
 * 1.x section 4.2.2), as QEMU's hw/virtio/virtio-mmio.c with force-legacy=off. The empty
 * slot (no device) stays in ../virtioMmio.ts.
 *
 * It runs in the hypervisor thread as a device model (Xen's ioreq server): every register
 * access of the guest is an exit that lands here, and a QueueNotify processes the queue
 * there and then. Used-buffer notifications set InterruptStatus bit 0 and raise the
 * slot's interrupt line; the driver's InterruptACK lowers it (4.2.2.1: the line is the OR
 * of InterruptStatus).
 *
 * Faults: a device that finds a broken queue (virtqueue.ts) sets DEVICE_NEEDS_RESET and
 * sends a configuration change notification (2.1.2), and serves nothing more until the
 * driver writes 0 to Status. Control registers are 32-bit only (4.2.2.2: "The driver MUST
 * only use 32 bit wide and aligned reads and writes to access the control registers");
 * other widths read 0 and are ignored, as QEMU does, and counted.
 */
import type { AccessWidth, IrqLine, MmioDevice } from '../../bus/mmio';
import type { GuestDma } from './guestDma';
import { SplitVirtqueue, VirtqError } from './virtqueue';
import * as R from '../virtioMmio';
import {
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  featureWord,
  hasFeature,
} from './virtio';

/** What a device type (block, net...) gives the transport. */
export interface VirtioDeviceModel {
  readonly deviceId: number;
  /** Feature bits offered (the transport adds VIRTIO_F_VERSION_1). */
  readonly features: readonly number[];
  readonly numQueues: number;
  readonly queueNumMax: number;
  /** Device-specific configuration space, little-endian (read through offsets 0x100...). */
  readonly config: Uint8Array;
  /**
   * Serve queue `q` (ready, device live): take its chains and push them back used. Called on
   * the driver's notification and on the device's own `serve` (a frame arrived). May throw
   * VirtqError. `false`: nothing more to do now (a receive queue whose buffers wait for
   * frames), so the transport does not pass over it again.
   */
  processQueue(q: SplitVirtqueue, features: Uint32Array): void | boolean;
  /** The transport the model is plugged into (a device that uses buffers on its own, such as a NIC's receive queue, serves through it). */
  bind?(transport: VirtioMmioDevice): void;
  /** The driver reset the device. */
  reset(): void;
}

export interface VirtioMmioDeviceOptions {
  name: string;
  model: VirtioDeviceModel;
  dma: GuestDma;
  irq: IrqLine;
  /** One line for Domain-0's log (a device that needs a reset says why). */
  log?: (line: string) => void;
  /**
   * Where InterruptStatus lives when the guest's vCPU reads and acknowledges it itself
   * (vcpuControl.ts C_VIRTIO_ISR): a word of shared memory, set here with Atomics.or and
   * cleared there with Atomics.and. Default: a word of the device's own.
   */
  isr?: { cells: Int32Array; index: number } | undefined;
}

/**
 * Passes over the queue per notification at most (each serves up to a queue's worth of
 * chains): a driver that keeps refilling from other vCPUs cannot hold the hypervisor
 * thread for more than four queues' worth; the rest waits for its next notify.
 */
const MAX_PASSES_PER_NOTIFY = 4;

export class VirtioMmioDevice implements MmioDevice {
  readonly name: string;
  readonly size = R.VIRTIO_MMIO_SIZE;
  readonly model: VirtioDeviceModel;
  readonly queues: SplitVirtqueue[];
  status = 0;
  private readonly isr: Int32Array;
  private readonly isrAt: number;
  readonly driverFeatures = new Uint32Array(2);
  private readonly offered: number[];
  deviceFeaturesSel = 0;
  driverFeaturesSel = 0;
  queueSel = 0;
  /** Counters for the inspector and tests. */
  readonly counts = { notifies: 0, interrupts: 0, badAccess: 0, needsReset: 0, ignoredNotifies: 0 };
  /** Why the device last needed a reset. */
  lastError = '';

  constructor(private readonly o: VirtioMmioDeviceOptions) {
    this.isr = o.isr?.cells ?? new Int32Array(1);
    this.isrAt = o.isr?.index ?? 0;
    this.name = o.name;
    this.model = o.model;
    this.offered = [...o.model.features, VIRTIO_F_VERSION_1];
    this.queues = Array.from({ length: o.model.numQueues }, (_, i) => new SplitVirtqueue(i, o.model.queueNumMax, o.dma));
    o.model.bind?.(this);
  }

  /** InterruptStatus (4.2.2): bit 0 used buffer, bit 1 configuration change (a shared word may hold anything: masked). */
  get interruptStatus(): number {
    return Atomics.load(this.isr, this.isrAt) & (R.VIRTIO_MMIO_INT_VRING | R.VIRTIO_MMIO_INT_CONFIG);
  }

  set interruptStatus(v: number) {
    Atomics.store(this.isr, this.isrAt, v & (R.VIRTIO_MMIO_INT_VRING | R.VIRTIO_MMIO_INT_CONFIG));
  }

  private get queue(): SplitVirtqueue | undefined {
    return this.queues[this.queueSel];
  }

  read(offset: number, width: AccessWidth): number {
    if (offset >= R.VIRTIO_MMIO_CONFIG) return this.readConfig(offset - R.VIRTIO_MMIO_CONFIG, width);
    if (width !== 4 || offset % 4 !== 0) {
      this.counts.badAccess++;
      return 0;
    }
    const q = this.queue;
    switch (offset) {
      case R.VIRTIO_MMIO_MAGIC_VALUE:
        return R.VIRTIO_MMIO_MAGIC;
      case R.VIRTIO_MMIO_VERSION:
        return R.VIRTIO_MMIO_VERSION_MODERN;
      case R.VIRTIO_MMIO_DEVICE_ID:
        return this.model.deviceId;
      case R.VIRTIO_MMIO_VENDOR_ID:
        return R.VIRTIO_MMIO_VENDOR_QEMU;
      case R.VIRTIO_MMIO_DEVICE_FEATURES:
        return featureWord(this.offered, this.deviceFeaturesSel);
      case R.VIRTIO_MMIO_QUEUE_NUM_MAX:
        return q ? q.numMax : 0;
      case R.VIRTIO_MMIO_QUEUE_READY:
        return q?.ready ? 1 : 0;
      case R.VIRTIO_MMIO_INTERRUPT_STATUS:
        return this.interruptStatus;
      case R.VIRTIO_MMIO_STATUS:
        return this.status;
      case R.VIRTIO_MMIO_SHM_LEN_LOW:
      case R.VIRTIO_MMIO_SHM_LEN_HIGH:
        return 0xffff_ffff; // no shared memory region (4.2.2: length -1)
      case R.VIRTIO_MMIO_CONFIG_GENERATION:
        return 0; // the config space never changes under the driver
      default:
        return 0;
    }
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (offset >= R.VIRTIO_MMIO_CONFIG) return; // the config space is read-only to the driver (virtio-blk's writeback and virtio-net's CTRL_MAC_ADDR are not offered)
    if (width !== 4 || offset % 4 !== 0) {
      this.counts.badAccess++;
      return;
    }
    const v = value >>> 0;
    const q = this.queue;
    // Queue layout may change only while the queue is not ready (4.2.3.2).
    const setup = q !== undefined && !q.ready;
    switch (offset) {
      case R.VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = v;
        return;
      case R.VIRTIO_MMIO_DRIVER_FEATURES:
        if (this.driverFeaturesSel < 2 && (this.status & VIRTIO_CONFIG_S_FEATURES_OK) === 0) this.driverFeatures[this.driverFeaturesSel] = v;
        return;
      case R.VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = v;
        return;
      case R.VIRTIO_MMIO_QUEUE_SEL:
        this.queueSel = v;
        return;
      case R.VIRTIO_MMIO_QUEUE_NUM:
        if (setup) q.num = v;
        return;
      case R.VIRTIO_MMIO_QUEUE_READY:
        if (q) this.setReady(q, v === 1);
        return;
      case R.VIRTIO_MMIO_QUEUE_NOTIFY:
        this.notify(v);
        return;
      case R.VIRTIO_MMIO_INTERRUPT_ACK:
        Atomics.and(this.isr, this.isrAt, ~v);
        this.o.irq.set(this.interruptStatus !== 0);
        return;
      case R.VIRTIO_MMIO_STATUS:
        this.setStatus(v & 0xff);
        return;
      case R.VIRTIO_MMIO_QUEUE_DESC_LOW:
        if (setup) q.descAddr = hi(q.descAddr) + v;
        return;
      case R.VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (setup) q.descAddr = v * 0x1_0000_0000 + (q.descAddr % 0x1_0000_0000);
        return;
      case R.VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        if (setup) q.driverAddr = hi(q.driverAddr) + v;
        return;
      case R.VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (setup) q.driverAddr = v * 0x1_0000_0000 + (q.driverAddr % 0x1_0000_0000);
        return;
      case R.VIRTIO_MMIO_QUEUE_DEVICE_LOW:
        if (setup) q.deviceAddr = hi(q.deviceAddr) + v;
        return;
      case R.VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (setup) q.deviceAddr = v * 0x1_0000_0000 + (q.deviceAddr % 0x1_0000_0000);
        return;
      default:
        return; // read-only or unknown registers ignore writes
    }
  }

  private readConfig(offset: number, width: AccessWidth): number {
    const c = this.model.config;
    if (offset + width > c.length) return 0;
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | c[offset + i]!;
    return v >>> 0;
  }

  private setReady(q: SplitVirtqueue, ready: boolean): void {
    if (!ready) {
      q.ready = false;
      return;
    }
    if (q.ready) return;
    const why = q.validate();
    if (why !== undefined) {
      this.needsReset(why);
      return;
    }
    q.eventIdx = hasFeature(this.driverFeatures, VIRTIO_F_EVENT_IDX) && this.offered.includes(VIRTIO_F_EVENT_IDX);
    q.indirect = hasFeature(this.driverFeatures, VIRTIO_F_INDIRECT_DESC) && this.offered.includes(VIRTIO_F_INDIRECT_DESC);
    q.ready = true;
  }

  private setStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    let s = v | (this.status & VIRTIO_CONFIG_S_NEEDS_RESET); // only a reset clears NEEDS_RESET
    if ((v & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 && (this.status & VIRTIO_CONFIG_S_FEATURES_OK) === 0 && !this.featuresAcceptable()) {
      s &= ~VIRTIO_CONFIG_S_FEATURES_OK; // 3.1.1 step 6: the driver reads it back and gives up
    }
    this.status = s;
  }

  /** The driver accepted only what was offered, and VIRTIO_F_VERSION_1 (a modern device needs it, 6.1). */
  private featuresAcceptable(): boolean {
    for (let w = 0; w < 2; w++) if ((this.driverFeatures[w]! & ~featureWord(this.offered, w)) !== 0) return false;
    return hasFeature(this.driverFeatures, VIRTIO_F_VERSION_1);
  }

  reset(): void {
    this.status = 0;
    this.interruptStatus = 0;
    this.driverFeatures.fill(0);
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    for (const q of this.queues) q.reset();
    this.model.reset();
    this.o.irq.set(false);
  }

  /** The driver has set DRIVER_OK and the device does not need a reset. */
  get live(): boolean {
    return (this.status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) === VIRTIO_CONFIG_S_DRIVER_OK;
  }

  /** QueueNotify: serve the queue now, then notify the driver if it wants it. */
  notify(index: number): void {
    this.counts.notifies++;
    if (!this.serve(index)) this.counts.ignoredNotifies++;
  }

  /**
   * Serve queue `index` now (the driver's notification, or the device's own work: a frame
   * to receive, a transmit that waited for rate credit), then send a used-buffer
   * notification if the driver wants one. False if the queue is not ready or the device not live.
   */
  serve(index: number): boolean {
    const q = this.queues[index];
    if (!q?.ready || !this.live) return false;
    const oldUsed = q.usedIdx;
    try {
      for (let pass = 0; pass < MAX_PASSES_PER_NOTIFY; pass++) {
        const more = this.model.processQueue(q, this.driverFeatures);
        q.armNotify();
        if (more === false || q.pending() === 0) break; // checked after avail_event is published: nothing added meanwhile is missed
      }
      if (q.needInterrupt(oldUsed)) this.interrupt(R.VIRTIO_MMIO_INT_VRING);
    } catch (e) {
      // A broken queue (VirtqError) or anything unexpected: this device stops, nothing else does.
      this.needsReset(e instanceof VirtqError ? e.message : `internal error: ${String(e)}`);
      if (q.usedIdx !== oldUsed) this.interrupt(R.VIRTIO_MMIO_INT_VRING); // what was served before the fault
    }
    return true;
  }

  /** Drive the interrupt line from InterruptStatus (after a restore). */
  irqLevel(): void {
    this.o.irq.set(this.interruptStatus !== 0);
  }

  private interrupt(bit: number): void {
    this.counts.interrupts++;
    Atomics.or(this.isr, this.isrAt, bit); // before the line: a vCPU acknowledging meanwhile rechecks the word after lowering it
    this.o.irq.set(true);
  }

  /** 2.1.2: set DEVICE_NEEDS_RESET and, once the driver is live, send a configuration change notification. */
  needsReset(why: string): void {
    this.counts.needsReset++;
    this.lastError = why;
    if ((this.status & VIRTIO_CONFIG_S_NEEDS_RESET) === 0) this.o.log?.(`${this.name}: device needs reset: ${why}`);
    this.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.interrupt(R.VIRTIO_MMIO_INT_CONFIG);
  }
}

function hi(addr: number): number {
  return Math.floor(addr / 0x1_0000_0000) * 0x1_0000_0000;
}
