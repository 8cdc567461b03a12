/**
 * virtio-net (virtio 1.x section 5.1): the hvm front door to Domain-0's network, a port on
 * the same bridge netback's vifs use (src/core/net/bridge.ts). The transport and the
 * virtqueues are in src/core/devices/virtio; this file is the device type: its features,
 * its config space (5.1.4) and its two queues (5.1.2: receiveq1 = 0, transmitq1 = 1).
 *
 * Offered: VIRTIO_NET_F_MAC (the vif's MAC in the config space), VIRTIO_NET_F_STATUS (link
 * up), VIRTIO_NET_F_MTU (the vif's `mtu=`), VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC (the
 * transport adds VIRTIO_F_VERSION_1). Not offered: checksum and segmentation offloads,
 * the control queue, multiqueue, and VIRTIO_NET_F_MRG_RXBUF: every frame fits one receive
 * chain (at most 1518 bytes plus the header), so merging buffers would only save guest
 * memory; a driver posts chains of at least 1530 bytes (5.1.6.3.1, Linux's "small" buffers).
 *
 * Every packet is preceded by struct virtio_net_hdr (5.1.6), 12 bytes with VERSION_1
 * (num_buffers is there even without MRG_RXBUF, and the device sets it to 1, 5.1.6.4).
 *
 * Transmit (5.1.6.2): each chain of transmitq is a header and a frame in its device-
 * readable buffers (any framing, 2.7.4.3). A frame shorter than an Ethernet header or
 * longer than the MTU + 18, or a header asking for an offload not offered (NEEDS_CSUM, a
 * GSO type), is dropped and counted (VifStats.txRefused runt, oversized, badExtra); the
 * chain goes back used with length 0 either way (the device writes nothing). `rate=`
 * holds a frame on the ring (unpopped) until its credit comes (credit.ts).
 *
 * Receive (5.1.6.3, 5.1.6.4): a frame from the bridge is written with its header into the
 * next chain of receiveq, whose device-writable buffers must hold 12 bytes + the frame; a
 * chain too small is the driver breaking 5.1.6.3.1, and the device needs a reset (QEMU's
 * virtio-net calls virtio_error for a truncated non-mergeable packet too). With no chain
 * posted, up to RX_QUEUE_MAX frames wait (at most half of them from one sender, rxQueue.ts)
 * and EVENT_IDX's avail_event asks the driver to notify at its next post.
 */
import { DmaFault, type GuestDma } from '../../devices/virtio/guestDma';
import type { VirtioDeviceModel, VirtioMmioDevice } from '../../devices/virtio/mmioDevice';
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_ID_NET } from '../../devices/virtio/virtio';
import { VirtqError, type SplitVirtqueue, type VirtqBuffer } from '../../devices/virtio/virtqueue';
import type { Bridge, BridgePort, PortDevice } from '../../net/bridge';
import { ETH_HLEN, putMac } from '../../net/ethernet';
import { TxCredit, type TxRate } from './credit';
import { newVifStats } from './netback';
import { RxQueue } from './rxQueue';

// Feature bits, 5.1.3.
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GUEST_CSUM = 1;
export const VIRTIO_NET_F_MTU = 3;
export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_F_CTRL_VQ = 17;

/** Config status bits (5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;
/** struct virtio_net_hdr flags and gso_type (5.1.6). */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** sizeof(struct virtio_net_hdr) with VIRTIO_F_VERSION_1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
export const VIRTIO_NET_HDR_SIZE = 12;
const HDR_NUM_BUFFERS = 10;

/** Queue indices (5.1.2). */
export const VIRTIO_NET_RXQ = 0;
export const VIRTIO_NET_TXQ = 1;
/** Queue size offered (QEMU's rx_queue_size and tx_queue_size default to 256). */
export const VIRTIO_NET_QUEUE_MAX = 256;
/** A VLAN tag's worth over MTU + Ethernet header, as the bridge carries. */
const VLAN_HLEN = 4;

export interface VirtioNetOptions {
  /** The interface's name in Domain-0 (`vif<domid>.<devid>-emu`, Xen's name for an hvm guest's emulated NIC). */
  name: string;
  mac: number;
  mtu: number;
  bridge: Bridge;
  dma: GuestDma;
  rate?: TxRate;
  now?: () => number;
  log?: (line: string) => void;
}

export class VirtioNet implements VirtioDeviceModel, PortDevice {
  readonly deviceId = VIRTIO_ID_NET;
  readonly numQueues = 2;
  readonly queueNumMax = VIRTIO_NET_QUEUE_MAX;
  readonly features: readonly number[] = [VIRTIO_NET_F_MAC, VIRTIO_NET_F_MTU, VIRTIO_NET_F_STATUS, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC];
  /** struct virtio_net_config (5.1.4): mac[6] at 0, status at 6, max_virtqueue_pairs at 8, mtu at 10, speed at 12, duplex at 16. */
  readonly config = new Uint8Array(0x18);
  /** One shape with netback's: runt, oversized, badExtra (an offload not offered) on tx; queueFull, notConnected on rx. */
  readonly stats = newVifStats();
  readonly port: BridgePort;
  private transport: VirtioMmioDevice | undefined;
  private readonly rxQueue = new RxQueue();
  private readonly credit: TxCredit | undefined;
  private creditTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly maxFrame: number;
  private readonly hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
  private readonly frame: Uint8Array;
  private released = false;

  constructor(private readonly o: VirtioNetOptions) {
    const v = new DataView(this.config.buffer);
    putMac(this.config, 0, o.mac);
    v.setUint16(6, VIRTIO_NET_S_LINK_UP, true);
    v.setUint16(8, 1, true);
    v.setUint16(10, o.mtu, true);
    v.setUint32(12, 10_000, true); // speed in Mbit/s (only read with VIRTIO_NET_F_SPEED_DUPLEX, not offered)
    v.setUint8(16, 1); // full duplex
    this.maxFrame = o.mtu + ETH_HLEN + VLAN_HLEN;
    this.frame = new Uint8Array(this.maxFrame);
    this.credit = o.rate ? new TxCredit(o.rate, o.now ?? (() => performance.now())) : undefined;
    this.port = o.bridge.attach(o.name, this, o.mac);
  }

  get name(): string {
    return this.o.name;
  }

  /** Frames waiting for a receive buffer. */
  get rxWaiting(): number {
    return this.rxQueue.length;
  }

  bind(t: VirtioMmioDevice): void {
    this.transport = t;
  }

  reset(): void {
    this.rxQueue.clear();
    clearTimeout(this.creditTimer);
    this.creditTimer = undefined;
  }

  /** The domain is gone: leave the bridge. */
  release(): void {
    this.released = true;
    this.reset();
    this.o.bridge.detach(this.port);
  }

  processQueue(q: SplitVirtqueue): boolean {
    if (q.index === VIRTIO_NET_RXQ) {
      this.receive(q);
      return false;
    }
    return this.transmitQueue(q);
  }

  // ---- transmit: guest -> bridge ----

  private transmitQueue(q: SplitVirtqueue): boolean {
    for (let n = 0; n < q.num; n++) {
      const c = q.pop();
      if (!c) return true;
      const len = c.readLen - VIRTIO_NET_HDR_SIZE;
      if (this.credit && len > 0) {
        const wait = this.credit.take(len);
        if (wait > 0) {
          q.unpop(); // the chain stays on the ring until the credit comes
          this.stats.rateDeferred++;
          clearTimeout(this.creditTimer);
          this.creditTimer = setTimeout(() => {
            this.creditTimer = undefined;
            this.transport?.serve(VIRTIO_NET_TXQ);
          }, wait);
          return false;
        }
      }
      const frame = this.txFrame(c.readable, len);
      q.push(c.head, 0);
      if (frame) {
        this.stats.txPackets++;
        this.stats.txBytes += frame.length;
        this.port.input(frame);
      }
    }
    return true;
  }

  /** The chain's frame, or undefined (counted) if it is refused. */
  private txFrame(bufs: readonly VirtqBuffer[], len: number): Uint8Array | undefined {
    if (len < ETH_HLEN) {
      this.stats.txRefused.runt++;
      return undefined;
    }
    if (len > this.maxFrame) {
      this.stats.txRefused.oversized++;
      return undefined;
    }
    this.dmaGather(bufs, 0, this.hdr);
    const flags = this.hdr[0]!;
    const gso = this.hdr[1]!;
    if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0 || gso !== VIRTIO_NET_HDR_GSO_NONE) {
      this.stats.txRefused.badExtra++; // 5.1.6.2.1: the driver MUST NOT ask for what was not negotiated
      return undefined;
    }
    const f = this.frame.subarray(0, len);
    this.dmaGather(bufs, VIRTIO_NET_HDR_SIZE, f);
    return f.slice();
  }

  // ---- receive: bridge -> guest ----

  /** A frame from the bridge for this guest. */
  transmit(frame: Uint8Array, from?: BridgePort): boolean {
    const t = this.transport;
    if (this.released || !t?.live || !t.queues[VIRTIO_NET_RXQ]!.ready) {
      this.stats.rxDropped.notConnected++;
      return false;
    }
    if (!this.rxQueue.push(frame, from)) {
      this.stats.rxDropped.queueFull++; // the queue, or this sender's share of it (rxQueue.ts)
      return false;
    }
    t.serve(VIRTIO_NET_RXQ);
    return true;
  }

  private receive(q: SplitVirtqueue): void {
    while (this.rxQueue.length > 0) {
      const c = q.pop();
      if (!c) return; // the transport has set avail_event: the driver's next post notifies
      const frame = this.rxQueue.shift()!;
      const need = VIRTIO_NET_HDR_SIZE + frame.length;
      if (c.writeLen < need)
        throw new VirtqError(`virtio-net: receive buffer ${c.head} holds ${c.writeLen} bytes, a frame needs ${need} (5.1.6.3.1; MRG_RXBUF is not offered)`);
      this.hdr.fill(0);
      new DataView(this.hdr.buffer).setUint16(HDR_NUM_BUFFERS, 1, true);
      this.dmaScatter(c.writable, this.hdr, 0);
      this.dmaScatter(c.writable, frame, VIRTIO_NET_HDR_SIZE);
      q.push(c.head, need);
      this.stats.rxPackets++;
      this.stats.rxBytes += frame.length;
    }
  }

  // ---- guest memory, through GuestDma only ----

  /** Copy the chain's bytes from offset `skip` into `dst`. */
  private dmaGather(bufs: readonly VirtqBuffer[], skip: number, dst: Uint8Array): void {
    let done = 0;
    for (const b of bufs) {
      if (done === dst.length) return;
      if (skip >= b.len) {
        skip -= b.len;
        continue;
      }
      const n = Math.min(b.len - skip, dst.length - done);
      this.dma(() => this.o.dma.read(b.addr + skip, dst.subarray(done, done + n)));
      done += n;
      skip = 0;
    }
  }

  /** Copy `src` into the chain's writable buffers from offset `skip`. */
  private dmaScatter(bufs: readonly VirtqBuffer[], src: Uint8Array, skip: number): void {
    let done = 0;
    for (const b of bufs) {
      if (done === src.length) return;
      if (skip >= b.len) {
        skip -= b.len;
        continue;
      }
      const n = Math.min(b.len - skip, src.length - done);
      this.dma(() => this.o.dma.write(b.addr + skip, src.subarray(done, done + n)));
      done += n;
      skip = 0;
    }
  }

  private dma(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof DmaFault) throw new VirtqError(`virtio-net: ${e.message}`);
      throw e;
    }
  }
}
