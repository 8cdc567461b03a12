/**
 * The virtual network's instruments for the page, in the hypervisor worker: the bridges
 * and their ports with counters (NetView, and the per-port samples of the 10 Hz report),
 * the packet list of one interface, and captures that end as pcap bytes. Everything reads
 * Domain-0's bridges (core/net/bridge.ts) through their ports and taps, so it serves any
 * device on a bridge: a pv vif (netback), an hvm vif, Domain-0's own interface.
 *
 * Cost: nothing runs per frame unless someone looks. A packet list is a tap on the port
 * (or the bridge) that keeps the last PACKET_RING summaries; it exists while the page
 * polls it and is dropped WATCH_LEASE_MS after the last poll, so a list the page forgot
 * (a closed tab, a folded panel) stops costing. A capture keeps pcap records up to
 * CAPTURE_MAX_BYTES, then counts what it leaves out; the file stays valid.
 */
import type { TapListener } from '../../core/net/bridge';
import { formatMac } from '../../core/net/ethernet';
import { formatIp } from '../../core/net/ipv4';
import { PcapCapture } from '../../core/net/pcap';
import { summarize } from '../../core/net/summary';
import type { VirtualNetworks } from '../../core/tools/vif';
import type { NetBridgeView, NetCaptureRow, NetPortRow, NetPortSample, NetView, PacketBatch, PacketRow } from '../protocol/netTypes';

/** Frames a packet list keeps (the newest). */
export const PACKET_RING = 512;
/** A packet list nobody polled for this long is dropped (its tap removed). */
export const WATCH_LEASE_MS = 10_000;
/** A capture keeps at most this many bytes of pcap; later frames are counted, not kept. */
export const CAPTURE_MAX_BYTES = 32 << 20;
/** Captures running at once (each is a tap and a growing list of records). */
export const MAX_CAPTURES = 8;

/** vifD.N (a pv vif: netback), vifD.N-emu (an hvm vif: virtio-net, Xen's name for an emulated NIC). */
const VIF_NAME = /^vif(\d+)\.(\d+)(-emu)?$/;

interface Tap {
  add(l: TapListener): void;
  remove(l: TapListener): void;
  /** Is the port (or bridge) still there? */
  alive(): boolean;
}

interface Watch {
  readonly tap: Tap;
  readonly listener: TapListener;
  readonly ring: (PacketRow | undefined)[];
  seq: number;
  polledAt: number;
}

interface Capture {
  readonly id: number;
  readonly iface: string;
  readonly tap: Tap;
  readonly listener: TapListener;
  readonly pcap: PcapCapture;
  readonly chunks: Uint8Array[];
  dropped: number;
  readonly startedMs: number;
}

export interface NetMonitorOptions {
  /** ms clock for leases (performance.now by default). */
  now?: () => number;
  /** Wall clock of packet times and pcap records, ms since the epoch. */
  epochMs?: () => number;
  captureMaxBytes?: number;
}

export class NetMonitor {
  private readonly watches = new Map<string, Watch>();
  private readonly captures = new Map<number, Capture>();
  private nextCapture = 1;
  private readonly now: () => number;
  private readonly epochMs: () => number;
  private readonly maxBytes: number;

  constructor(
    readonly nets: VirtualNetworks,
    opts: NetMonitorOptions = {},
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.epochMs = opts.epochMs ?? (() => Date.now());
    this.maxBytes = opts.captureMaxBytes ?? CAPTURE_MAX_BYTES;
  }

  /** Every port of every bridge with its counters: the statistics report's part (cheap: no strings but names). */
  samples(): NetPortSample[] {
    const out: NetPortSample[] = [];
    for (const br of this.nets.bridges.values())
      for (const p of br.ports) out.push({ name: p.name, bridge: br.name, domid: domidOf(p.name, br.name), counters: { ...p.counters } });
    return out;
  }

  view(): NetView {
    const bridges: NetBridgeView[] = [];
    for (const br of this.nets.bridges.values()) {
      const ports: NetPortRow[] = br.ports.map((p) => {
        const m = VIF_NAME.exec(p.name);
        const base = { name: p.name, bridge: br.name, domid: domidOf(p.name, br.name), counters: { ...p.counters } };
        if (p === this.nets.dom0.port) return { ...base, devid: null, mac: formatMac(this.nets.dom0.mac), kind: 'dom0' };
        if (!m) return { ...base, devid: null, mac: p.boundMac !== undefined ? formatMac(p.boundMac) : null, kind: 'other' };
        const vif = this.nets.of(Number(m[1])).find((a) => a.device.port === p);
        const row: NetPortRow = { ...base, devid: Number(m[2]), mac: p.boundMac !== undefined ? formatMac(p.boundMac) : null, kind: 'vif' };
        if (!vif) return row;
        const st = vif.device.stats;
        return {
          ...row,
          backend: {
            state: vif.device.state,
            refused: Object.values(st.txRefused).reduce((a, b) => a + b, 0) + st.badRing,
            rxDropped: st.rxDropped.queueFull + st.rxDropped.badGrant + st.rxDropped.notConnected,
            ip: vif.cfg.ip.map(formatIp),
          },
        };
      });
      bridges.push({ name: br.name, ageingMs: br.ageingMs, ports, fdb: br.fdbEntries() });
    }
    const dom0 = this.nets.dom0;
    return {
      bridges,
      dom0: { ip: formatIp(dom0.ip), mac: formatMac(dom0.mac) },
      leases: dom0.dhcp?.list() ?? [],
      captures: [...this.captures.values()].map((c) => this.captureRow(c)),
    };
  }

  /** The interfaces a packet list or a capture can take: every bridge, then every vif port. */
  interfaces(): string[] {
    const out: string[] = [];
    for (const br of this.nets.bridges.values()) out.push(br.name);
    for (const br of this.nets.bridges.values()) for (const p of br.ports) if (p.name !== br.name) out.push(p.name);
    return out;
  }

  /**
   * The packet list of `iface`: frames with seq > after. The first call starts the list
   * (a tap from now on); each call renews its lease.
   */
  packets(iface: string, after: number): PacketBatch {
    this.expire();
    let w = this.watches.get(iface);
    if (!w) {
      const tap = this.tap(iface);
      const ring: (PacketRow | undefined)[] = new Array<PacketRow | undefined>(PACKET_RING);
      const watch: Watch = {
        tap,
        ring,
        seq: 0,
        polledAt: this.now(),
        listener: (frame, port, dir) => {
          // Summarised now: the frame's buffer is the device's and is reused after the tap returns.
          const s = summarize(frame);
          const seq = ++watch.seq;
          ring[seq % PACKET_RING] = { seq, timeMs: this.epochMs(), port: port.name, dir, ...s };
        },
      };
      tap.add(watch.listener);
      this.watches.set(iface, watch);
      w = watch;
    }
    w.polledAt = this.now();
    const from = Math.max(after, 0);
    const oldest = Math.max(1, w.seq - PACKET_RING + 1);
    const start = Math.max(from + 1, oldest);
    const packets: PacketRow[] = [];
    for (let s = start; s <= w.seq; s++) packets.push(w.ring[s % PACKET_RING]!);
    return { iface, packets, next: w.seq, lost: Math.max(0, start - from - 1), gone: !w.tap.alive() };
  }

  /** Stop a packet list now (the page closed it). */
  unwatch(iface: string): void {
    const w = this.watches.get(iface);
    if (!w) return;
    w.tap.remove(w.listener);
    this.watches.delete(iface);
  }

  captureStart(iface: string): NetCaptureRow {
    if (this.captures.size >= MAX_CAPTURES) throw new Error(`${MAX_CAPTURES} captures are running already: stop one first`);
    const tap = this.tap(iface);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const c: Capture = {
      id: this.nextCapture++,
      iface,
      tap,
      chunks,
      dropped: 0,
      startedMs: this.epochMs(),
      pcap: new PcapCapture((chunk) => {
        chunks.push(chunk);
        size += chunk.length;
      }, this.epochMs),
      listener: (frame) => {
        if (size + frame.length + 16 > this.maxBytes) c.dropped++;
        else c.pcap.write(frame);
      },
    };
    tap.add(c.listener);
    this.captures.set(c.id, c);
    return this.captureRow(c);
  }

  /** End a capture: its pcap file (a header, then one record per frame). */
  captureStop(id: number): { row: NetCaptureRow; bytes: Uint8Array } {
    const c = this.captures.get(id);
    if (!c) throw new Error(`no capture ${id} is running`);
    c.tap.remove(c.listener);
    c.pcap.stop();
    this.captures.delete(id);
    return { row: this.captureRow(c), bytes: concat(c.chunks) };
  }

  /** Stop every list and capture (the service closes). */
  close(): void {
    for (const k of [...this.watches.keys()]) this.unwatch(k);
    for (const id of [...this.captures.keys()]) this.captureStop(id);
  }

  /** How many packet lists and captures are running (tests). */
  get running(): { watches: number; captures: number } {
    return { watches: this.watches.size, captures: this.captures.size };
  }

  private captureRow(c: Capture): NetCaptureRow {
    return { id: c.id, iface: c.iface, frames: c.pcap.frames, bytes: c.pcap.bytes, dropped: c.dropped, startedMs: c.startedMs };
  }

  private expire(): void {
    const t = this.now();
    for (const [k, w] of this.watches) if (t - w.polledAt > WATCH_LEASE_MS) this.unwatch(k);
  }

  /** A bridge by name (every frame it forwards, once), or a port of any bridge by name. */
  private tap(iface: string): Tap {
    const br = this.nets.bridges.get(iface);
    if (br) return { add: (l) => br.taps.add(l), remove: (l) => br.taps.delete(l), alive: () => this.nets.bridges.get(iface) === br };
    for (const b of this.nets.bridges.values()) {
      const p = b.port(iface);
      if (p) return { add: (l) => p.taps.add(l), remove: (l) => p.taps.delete(l), alive: () => p.attached };
    }
    const known = this.interfaces();
    throw new Error(`no interface ${JSON.stringify(iface.slice(0, 40))} (there are: ${known.join(', ') || 'none'})`);
  }
}

function domidOf(port: string, bridge: string): number | null {
  if (port === bridge) return 0;
  const m = VIF_NAME.exec(port);
  return m ? Number(m[1]) : null;
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of chunks) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}
