/**
 * netback: Domain-0's backend for Xen's split network driver (io/netif.h), one VifDevice
 * per interface a pv domain has, each a port `vif<domid>.<devid>` on a bridge (src/core/net).
 *
 * Handshake (../xenbus/device.ts): the backend offers feature-rx-copy, feature-sg and no
 * GSO, multicast control or split event channels; at connect it reads tx-ring-ref,
 * rx-ring-ref, event-channel, request-rx-copy (must be 1: only the copying receive path
 * exists, as in Linux's netback since 3.x) and feature-rx-notify (must be 1, as Linux's
 * netback requires), maps both ring pages and binds the one channel.
 *
 * Transmit (guest -> bridge), on the frontend's notification: each packet's slots are
 * taken off the tx ring (tx.ts checks them), the data copied out of the granted pages
 * with GrantTables.dom0Copy, every slot answered in order (OKAY, ERROR, or NULL for an
 * extra-info slot), and the frame handed to the bridge. `rate=` is Linux netback's credit
 * scheduler: `bytes` per `usec`, a packet waits (on the ring, unconsumed) for the credit.
 *
 * Receive (bridge -> guest): each frame is copied with dom0Copy into the page of the next
 * rx request the frontend posted, and answered in that request's slot (netif.h: "each
 * response in the same slot as its request", which Linux's netfront relies on). With no
 * request posted the frame waits in a short queue (RX_QUEUE_MAX) and the backend sets the
 * rx ring's req_event, so that the frontend's next post notifies (feature-rx-notify).
 */
import type { Bridge, BridgePort, PortDevice } from '../../net/bridge';
import * as N from '../../xen/public/netif';
import { GNTST_okay } from '../../xen/public/xen';
import { BackRing } from '../xenbus/backRing';
import { BackendDevices, XenbusBackendDevice, type XenbusPaths } from '../xenbus/device';
import type { BackendHost } from '../xenbus/host';
import { TxCredit, type TxRate } from './credit';
import { RxQueue } from './rxQueue';
import { checkTxPacket, decodeTxSlot, encodeRxResponse, encodeTxResponse, TX_REFUSALS, type TxRefusal, type TxSlot } from './tx';

export interface VifSpec extends XenbusPaths {
  mac: number;
  mtu: number;
  bridge: Bridge;
  /** Linux netback's credit scheduler: at most `bytes` every `usec` from the guest. */
  rate?: TxRate;
}

/** Packets taken off the tx ring per notification before the rest waits for the next task. */
export const MAX_TX_PER_ROUND = 256;
export { RX_QUEUE_MAX } from './rxQueue';

export interface VifStats {
  /** From the guest (its transmit): packets and bytes accepted and handed to the bridge. */
  txPackets: number;
  txBytes: number;
  /** To the guest (its receive): frames copied into its buffers. */
  rxPackets: number;
  rxBytes: number;
  /** Transmitted packets refused, by reason (their slots answered NETIF_RSP_ERROR). */
  txRefused: Record<TxRefusal, number>;
  /** Frames for the guest dropped: no buffer and the queue full, a bad rx grant, not connected. */
  rxDropped: { queueFull: number; badGrant: number; notConnected: number };
  /** Times a ring's producer index was more than a ring ahead (that batch ignored). */
  badRing: number;
  /** Packets that had to wait for rate credit. */
  rateDeferred: number;
  notifyIn: number;
  notifyOut: number;
}

/** Zeroed counters (netback's and virtio-net's: one shape, so xentop and `xl network-list` read both). */
export const newVifStats = (): VifStats => ({
  txPackets: 0,
  txBytes: 0,
  rxPackets: 0,
  rxBytes: 0,
  txRefused: Object.fromEntries(TX_REFUSALS.map((r) => [r, 0])) as Record<TxRefusal, number>,
  rxDropped: { queueFull: 0, badGrant: 0, notConnected: 0 },
  badRing: 0,
  rateDeferred: 0,
  notifyIn: 0,
  notifyOut: 0,
});

export class VifDevice extends XenbusBackendDevice implements PortDevice {
  readonly stats = newVifStats();
  readonly port: BridgePort;
  txRingRef = -1;
  rxRingRef = -1;
  evtchn = -1;
  private tx: BackRing | undefined;
  private rx: BackRing | undefined;
  private maps: number[] = [];
  private evPort = 0;
  private readonly rxQueue = new RxQueue();
  private readonly slot = new Uint8Array(N.NETIF_TX_REQUEST_SIZE);
  private readonly rxSlot = new Uint8Array(N.NETIF_RX_REQUEST_SIZE);
  private readonly frame = new Uint8Array(N.XEN_NETIF_MAX_TX_SIZE);
  private readonly credit: TxCredit | undefined;
  private creditTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    host: BackendHost,
    readonly spec: VifSpec,
    onGone: (d: VifDevice) => void,
    now: () => number = () => performance.now(),
  ) {
    super(host, spec, 'netback', (d) => onGone(d as VifDevice));
    this.credit = spec.rate ? new TxCredit(spec.rate, now) : undefined;
    this.port = spec.bridge.attach(this.name, this, spec.mac);
  }

  /** The interface's name in Domain-0, as Linux's netback names it. */
  get name(): string {
    return `vif${this.domid}.${this.devid}`;
  }

  get connectedNow(): boolean {
    return this.tx !== undefined;
  }

  /** The rings' indices as the backend keeps them (for inspectors), or undefined when not connected. */
  get ringIndices(): { tx: { reqProd: number; reqCons: number; rspProd: number }; rx: { reqProd: number; reqCons: number; rspProd: number } } | undefined {
    const { tx, rx } = this;
    if (!tx || !rx) return undefined;
    return {
      tx: { reqProd: tx.reqProd(), reqCons: tx.reqCons, rspProd: tx.rspProdPvt },
      rx: { reqProd: rx.reqProd(), reqCons: rx.reqCons, rspProd: rx.rspProdPvt },
    };
  }

  /** The machine frames of the mapped rings (tests), or -1. */
  get ringMfns(): { tx: number; rx: number } {
    return { tx: this.tx?.mfn ?? -1, rx: this.rx?.mfn ?? -1 };
  }

  protected async publish(): Promise<void> {
    const be = this.spec.backendPath;
    const w = (k: string, v: string): Promise<void> => this.host.xs.write(`${be}/${k}`, v);
    await w('feature-rx-copy', '1');
    await w('feature-rx-flip', '0');
    await w('feature-sg', '1');
    await w('feature-gso-tcpv4', '0');
    await w('feature-gso-tcpv6', '0');
    await w('feature-multicast-control', '0');
  }

  protected async connect(): Promise<string | undefined> {
    const num = async (k: string): Promise<number> => Number((await this.readFront(k)) ?? NaN);
    const txRef = await num('tx-ring-ref');
    const rxRef = await num('rx-ring-ref');
    const evtchn = await num('event-channel');
    const rxCopy = await this.readFront('request-rx-copy');
    const rxNotify = await this.readFront('feature-rx-notify');
    const queues = await this.readFront('multi-queue-num-queues');
    if (this.gone) return undefined;
    const isRef = (r: number): boolean => Number.isInteger(r) && r >= 0 && r <= 0xffff_ffff;
    if (rxCopy !== '1') return 'request-rx-copy is not 1: only the copying receive path is offered (feature-rx-copy)';
    if (rxNotify !== '1') return 'feature-rx-notify is mandatory';
    if (queues !== undefined && queues !== '1') return `multi-queue-num-queues ${queues.slice(0, 16)}: one queue only`;
    if (!isRef(txRef) || !isRef(rxRef)) return 'bad tx-ring-ref or rx-ring-ref';
    if (!Number.isInteger(evtchn) || evtchn <= 0) return 'bad event-channel';
    const gt = this.host.gnttab;
    const mt = gt.dom0Map(this.domid, txRef, false);
    if (mt.status !== GNTST_okay) return `mapping tx-ring-ref ${txRef} failed (GNTST ${mt.status})`;
    const mr = gt.dom0Map(this.domid, rxRef, false);
    if (mr.status !== GNTST_okay) {
      gt.dom0Unmap(mt.handle);
      return `mapping rx-ring-ref ${rxRef} failed (GNTST ${mr.status})`;
    }
    // BACK_RING_ATTACH (Linux's xenvif_map_frontend_data_rings): a restored frontend's rings
    // go on where they were answered; packets and buffers after that are taken again.
    const txAt = BackRing.attachIndex(this.host.machine, mt.mfn, N.NET_TX_RING_SIZE),
      rxAt = BackRing.attachIndex(this.host.machine, mr.mfn, N.NET_RX_RING_SIZE);
    const port = txAt === undefined || rxAt === undefined ? 0 : this.host.dom0Bind(this.domid, evtchn, () => this.kick());
    if (port <= 0) {
      gt.dom0Unmap(mt.handle);
      gt.dom0Unmap(mr.handle);
      if (txAt === undefined || rxAt === undefined) return "a ring's req_prod is more than a ring ahead of its rsp_prod";
      return `binding event-channel ${evtchn} failed (${port})`;
    }
    this.maps = [mt.handle, mr.handle];
    this.txRingRef = txRef;
    this.rxRingRef = rxRef;
    this.evtchn = evtchn;
    this.evPort = port;
    this.tx = new BackRing(this.host.machine, mt.mfn, N.NET_TX_RING_SIZE, N.NETIF_TX_REQUEST_SIZE, txAt);
    this.rx = new BackRing(this.host.machine, mr.mfn, N.NET_RX_RING_SIZE, N.NETIF_RX_REQUEST_SIZE, rxAt);
    return undefined;
  }

  protected override connected(): void {
    this.process();
  }

  protected disconnect(): void {
    this.tx = undefined;
    this.rx = undefined;
    this.rxQueue.clear();
    clearTimeout(this.creditTimer);
    if (this.evPort > 0) this.host.dom0Close(this.evPort);
    this.evPort = 0;
    for (const h of this.maps) this.host.gnttab.dom0Unmap(h);
    this.maps = [];
  }

  protected release(): void {
    this.spec.bridge.detach(this.port);
  }

  private kick(): void {
    this.stats.notifyIn++;
    this.process();
  }

  protected serveRings(): void {
    this.drainRx();
    this.serveTx();
  }

  private notify(): void {
    if (this.evPort <= 0) return;
    this.stats.notifyOut++;
    this.host.dom0Notify(this.evPort);
  }

  private overflowed(ring: BackRing, prod: number, which: string): boolean {
    if (!ring.prodOverflow(prod)) return false;
    // A producer more than a ring ahead is a broken or hostile frontend: nothing is taken
    // from that batch until a notification finds sane indices.
    if (this.stats.badRing++ === 0) this.log(`${which} req_prod ${prod} is more than a ring ahead of ${ring.rspProdPvt}: ignored`);
    return true;
  }

  // ---- transmit: guest -> bridge ----

  private serveTx(): void {
    const ring = this.tx;
    if (!ring) return;
    let budget = MAX_TX_PER_ROUND;
    let notify = false;
    let prod: number | undefined = ring.reqProd();
    while (prod !== undefined && this.tx === ring) {
      if (this.overflowed(ring, prod, 'tx')) break;
      let avail = ring.unconsumed(prod);
      while (avail > 0 && budget > 0) {
        if (!this.haveCredit(ring)) break;
        avail -= this.txPacket(ring, avail);
        budget--;
      }
      if (ring.pushResponses()) notify = true;
      if (budget === 0) {
        setTimeout(() => this.process(), 0);
        break;
      }
      if (avail > 0) break; // waiting for credit
      prod = ring.finalCheck();
    }
    if (notify) this.notify();
  }

  /** Rate limiting (credit.ts): may the next packet go now? */
  private haveCredit(ring: BackRing): boolean {
    if (!this.credit) return true;
    ring.peekRequest(this.slot);
    const wait = this.credit.take(decodeTxSlot(this.slot).size);
    if (wait === 0) return true;
    this.stats.rateDeferred++;
    clearTimeout(this.creditTimer);
    this.creditTimer = setTimeout(() => this.process(), wait);
    return false;
  }

  /** Take one packet (all its slots) off the ring, answer them, pass the frame on; returns the slots taken. */
  private txPacket(ring: BackRing, avail: number): number {
    const slots: TxSlot[] = [];
    const take = (): TxSlot => {
      ring.copyRequest(this.slot);
      const s = decodeTxSlot(this.slot);
      slots.push(s);
      return s;
    };
    let why: TxRefusal | undefined;
    const first = take();
    const data: TxSlot[] = [first];
    if (first.flags & N.NETTXF_extra_info) {
      // netif_extra_info slots follow the first; none is offered, so any is refused (but consumed).
      let more = true;
      while (more) {
        if (slots.length >= avail) {
          why = 'unterminated';
          break;
        }
        const e = take();
        e.extra = true;
        more = (this.slot[N.NETIF_EXTRA_FLAGS]! & N.XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
        why ??= 'badExtra';
      }
    }
    let last = first;
    while (why !== 'unterminated' && last.flags & N.NETTXF_more_data) {
      if (slots.length >= avail) {
        why = 'unterminated';
        break;
      }
      last = take();
      data.push(last);
    }
    let lens: number[] | TxRefusal = why ?? checkTxPacket(data, this.spec.mtu + N.ETH_HLEN + 4);
    if (typeof lens !== 'string') {
      let off = 0;
      const total = first.size;
      for (let i = 0; i < data.length; i++) {
        const len = lens[i]!;
        if (len === 0) continue;
        const st = this.host.gnttab.dom0Copy(this.domid, data[i]!.gref, data[i]!.offset, this.frame.subarray(off, off + len), false);
        if (st !== GNTST_okay) {
          lens = 'badGrant';
          break;
        }
        off += len;
      }
      if (typeof lens !== 'string' && off !== total) lens = 'badSize';
    }
    const ok = typeof lens !== 'string';
    if (!ok) this.stats.txRefused[lens as TxRefusal]++;
    const u8 = this.host.machine.u8;
    for (const s of slots) {
      encodeTxResponse(u8, ring.responseSlot(), s.id, s.extra ? N.NETIF_RSP_NULL : ok ? N.NETIF_RSP_OKAY : N.NETIF_RSP_ERROR);
      ring.produced();
    }
    if (ok) {
      const frame = this.frame.slice(0, first.size);
      this.stats.txPackets++;
      this.stats.txBytes += frame.length;
      this.port.input(frame);
    }
    return slots.length;
  }

  // ---- receive: bridge -> guest ----

  /** A frame from the bridge for this guest. */
  transmit(frame: Uint8Array, from?: BridgePort): boolean {
    if (!this.rx || this.gone) {
      this.stats.rxDropped.notConnected++;
      return false;
    }
    if (!this.rxQueue.push(frame, from)) {
      this.stats.rxDropped.queueFull++; // the queue, or this sender's share of it (rxQueue.ts)
      return false;
    }
    // A frame that comes back while this vif is serving its own tx ring (Domain-0 answering
    // at once through the bridge) is delivered by that loop's next turn.
    if (this.inPass) this.passAgain();
    else this.drainRx();
    return true;
  }

  /** Copy queued frames into the buffers the frontend has posted; with none left, ask to be notified of the next. */
  private drainRx(): void {
    const ring = this.rx;
    if (!ring || this.rxQueue.length === 0) return;
    let delivered = false;
    let prod: number | undefined = ring.reqProd();
    while (prod !== undefined && this.rxQueue.length > 0) {
      if (this.overflowed(ring, prod, 'rx')) break;
      for (let n = ring.unconsumed(prod); n > 0 && this.rxQueue.length > 0; n--) {
        const frame = this.rxQueue.shift()!;
        ring.copyRequest(this.rxSlot);
        const v = new DataView(this.rxSlot.buffer);
        const id = v.getUint16(N.NETIF_RX_REQ_ID, true);
        const gref = v.getUint32(N.NETIF_RX_REQ_GREF, true);
        const st = this.host.gnttab.dom0Copy(this.domid, gref, 0, frame, true);
        let status: number = frame.length;
        if (st !== GNTST_okay) {
          this.stats.rxDropped.badGrant++;
          status = N.NETIF_RSP_ERROR;
        } else {
          this.stats.rxPackets++;
          this.stats.rxBytes += frame.length;
        }
        encodeRxResponse(this.host.machine.u8, ring.responseSlot(), id, 0, 0, status);
        ring.produced();
        delivered = true;
      }
      if (this.rxQueue.length === 0) break;
      prod = ring.finalCheck(); // sets req_event: the frontend's next post notifies us
    }
    if (delivered && ring.pushResponses()) this.notify();
  }
}

/** The driver: every vif Domain-0 serves, by domain and device id. */
export class NetBack extends BackendDevices<VifDevice, VifSpec> {
  constructor(host: BackendHost) {
    super('vif', (spec, onGone) => new VifDevice(host, spec, onGone));
  }
}
