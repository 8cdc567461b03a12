/**
 * A learning Ethernet bridge, as Linux's bridge is in a Xen Domain-0 (xenbr0 with one
 * vifD.N port per guest interface and the bridge's own interface for Domain-0).
 *
 * IEEE 802.1D transparent bridging, the parts that matter on one segment:
 *   - learning: the source MAC of every frame a port sends in is remembered against that
 *     port (the forwarding database, FDB), with a time stamp; entries older than the
 *     ageing time (300 s by default, Linux's and 802.1D's) are forgotten;
 *   - forwarding: a unicast destination in the FDB goes out of that one port (and nowhere
 *     if that is the port it came in by); an unknown unicast, a broadcast or a multicast
 *     destination is flooded to every other port;
 *   - filtering: a frame shorter than an Ethernet header or longer than a (VLAN-tagged)
 *     1518-byte frame, or with a group address as its source, is dropped and counted.
 * A port may be bound to a MAC (a vif's `mac=`): a frame from it with another source is
 * dropped and counted (`spoofed`), as Xen's vif-bridge script's ebtables rules do with
 * `ip=`/`mac=`. There is no spanning tree: hyperlab's topology has no loops.
 *
 * Storm control: a frame a guest's port (one bound to a MAC) sends that the bridge must
 * flood (broadcast, multicast, unknown unicast) takes a token from that port's bucket
 * (`floodLimit`, 1000 frames/s with a burst of 200 by default); with none left it is
 * dropped and counted (`floodDrops`), so one guest's broadcast storm cannot fill every
 * other port's receive queue and starve their unicast traffic. Linux's bridge has no such
 * limit (a Xen host leaves it to ebtables or tc); managed switches call it storm control
 * (e.g. `storm-control broadcast level`). Known unicast is never limited here: that is
 * the vif's `rate=` (netback's credit).
 *
 * Delivery is synchronous: `input` calls each destination port's `transmit` before it
 * returns. A port that cannot take the frame (no rx buffer posted) says so and the frame is
 * counted as that port's tx drop, as a full netback queue drops.
 */
import { ETH_FRAME_MAX_VLAN, ETH_HLEN, ethDest, ethSource, formatMac, isGroupMac } from './ethernet';

/** The device on the far side of a port: a vif's netback, Domain-0's interface, a link to another host. */
export interface PortDevice {
  /** Take a frame out of the bridge (`from`: the port it came in by); false if it was dropped (nowhere to put it). */
  transmit(frame: Uint8Array, from?: BridgePort): boolean;
  /** A link to another host's bridge (net/link.ts): the frames from it are other hosts' guests'. */
  readonly link?: boolean;
}

/** Counters of a port, from the bridge's side: rx = into the bridge from the device, tx = out of the bridge to it (as `ip -s link` counts on vifD.N). */
export interface PortCounters {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames from this port dropped: malformed, too long, or a group source. */
  rxDrops: number;
  /** Frames from this port with a source MAC other than the one the port is bound to. */
  spoofed: number;
  /** Frames for this port its device could not take. */
  txDrops: number;
  /** Frames from this port to be flooded that storm control dropped. */
  floodDrops: number;
}

/** A frame as a capture sees it: when, which port, which way. */
export type TapListener = (frame: Uint8Array, port: BridgePort, dir: 'in' | 'out', timeMs: number) => void;

export class BridgePort {
  readonly counters: PortCounters = { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, rxDrops: 0, spoofed: 0, txDrops: 0, floodDrops: 0 };
  /** Storm control's token bucket (frames this port may still flood) and when it was last filled. */
  floodTokens = Infinity;
  floodAt = -Infinity;
  /** Listeners of this port's frames (captures of one interface). */
  readonly taps = new Set<TapListener>();
  attached = true;

  constructor(
    readonly bridge: Bridge,
    readonly name: string,
    readonly device: PortDevice,
    /** The only source MAC this port may send, or undefined for any (Domain-0's own interface, links). */
    readonly boundMac: number | undefined,
  ) {}

  /** A frame from the device into the bridge. */
  input(frame: Uint8Array): void {
    this.bridge.input(this, frame);
  }
}

export interface FdbEntry {
  mac: string;
  port: string;
  ageMs: number;
}

/** Storm control: frames a guest's port may flood per second, and how many at once. */
export interface FloodLimit {
  perSecond: number;
  burst: number;
}

export const DEFAULT_FLOOD_LIMIT: FloodLimit = { perSecond: 1000, burst: 200 };

export interface BridgeOptions {
  /** Storm control for guests' ports (DEFAULT_FLOOD_LIMIT unless given; null: none, as Linux's bridge). */
  floodLimit?: FloodLimit | null;
  /** Forget a learned MAC after this long without a frame from it (ms); 300 s by default. */
  ageingMs?: number;
  /** The clock, in ms (performance.now by default; tests pass their own). */
  now?: () => number;
}

export class Bridge {
  readonly ports: BridgePort[] = [];
  /** Listeners of every frame the bridge forwards (a capture of the whole bridge), called once per frame as it comes in. */
  readonly taps = new Set<TapListener>();
  readonly ageingMs: number;
  floodLimit: FloodLimit | null;
  private readonly now: () => number;
  private readonly fdb = new Map<number, { port: BridgePort; seen: number }>();

  constructor(
    readonly name: string,
    opts: BridgeOptions = {},
  ) {
    this.ageingMs = opts.ageingMs ?? 300_000;
    this.floodLimit = opts.floodLimit === undefined ? DEFAULT_FLOOD_LIMIT : opts.floodLimit;
    this.now = opts.now ?? (() => performance.now());
  }

  /** `brctl addif`: a new port for `device`. */
  attach(name: string, device: PortDevice, boundMac?: number): BridgePort {
    if (this.ports.some((p) => p.name === name)) throw new Error(`bridge ${this.name} has a port ${name} already`);
    const p = new BridgePort(this, name, device, boundMac);
    this.ports.push(p);
    return p;
  }

  /** `brctl delif`: the port goes, and every address learned on it. */
  detach(port: BridgePort): void {
    const i = this.ports.indexOf(port);
    if (i < 0) return;
    this.ports.splice(i, 1);
    port.attached = false;
    for (const [mac, e] of this.fdb) if (e.port === port) this.fdb.delete(mac);
  }

  port(name: string): BridgePort | undefined {
    return this.ports.find((p) => p.name === name);
  }

  /** `bridge fdb show`: what the bridge has learned and how long ago, entries past the ageing time left out. */
  fdbEntries(): FdbEntry[] {
    const t = this.now();
    const out: FdbEntry[] = [];
    for (const [mac, e] of this.fdb) {
      if (t - e.seen > this.ageingMs) continue;
      out.push({ mac: formatMac(mac), port: e.port.name, ageMs: Math.round(t - e.seen) });
    }
    return out.sort((a, b) => a.mac.localeCompare(b.mac));
  }

  /** A frame from `from`'s device: learn, then forward or flood. */
  input(from: BridgePort, frame: Uint8Array): void {
    if (!from.attached) return;
    const c = from.counters;
    if (frame.length < ETH_HLEN || frame.length > ETH_FRAME_MAX_VLAN) {
      c.rxDrops++;
      return;
    }
    const src = ethSource(frame);
    if (isGroupMac(src)) {
      c.rxDrops++;
      return;
    }
    if (from.boundMac !== undefined && src !== from.boundMac) {
      c.spoofed++;
      return;
    }
    c.rxFrames++;
    c.rxBytes += frame.length;
    const t = this.now();
    for (const l of this.taps) l(frame, from, 'in', t);
    for (const l of from.taps) l(frame, from, 'in', t);
    this.fdb.set(src, { port: from, seen: t });
    const dst = ethDest(frame);
    if (!isGroupMac(dst)) {
      const e = this.fdb.get(dst);
      if (e !== undefined && t - e.seen <= this.ageingMs && e.port.attached) {
        if (e.port !== from) this.output(e.port, frame, t, from);
        return;
      }
      if (e !== undefined) this.fdb.delete(dst); // aged out: flood, and learn again from the answer
    }
    if (!this.mayFlood(from, t)) {
      c.floodDrops++;
      return;
    }
    for (const p of [...this.ports]) if (p !== from) this.output(p, frame, t, from);
  }

  /** Storm control: take a token from a guest port's bucket (refilled at perSecond, up to burst). */
  private mayFlood(from: BridgePort, t: number): boolean {
    const lim = this.floodLimit;
    if (!lim || from.boundMac === undefined) return true;
    if (from.floodAt === -Infinity) from.floodTokens = lim.burst;
    else from.floodTokens = Math.min(lim.burst, from.floodTokens + ((t - from.floodAt) * lim.perSecond) / 1000);
    from.floodAt = t;
    if (from.floodTokens < 1) return false;
    from.floodTokens -= 1;
    return true;
  }

  private output(p: BridgePort, frame: Uint8Array, t: number, from: BridgePort): void {
    if (!p.attached) return;
    for (const l of p.taps) l(frame, p, 'out', t);
    let ok: boolean;
    try {
      ok = p.device.transmit(frame, from);
    } catch {
      ok = false; // a device's failure is its own port's drop, never the sender's problem
    }
    if (ok) {
      p.counters.txFrames++;
      p.counters.txBytes += frame.length;
    } else p.counters.txDrops++;
  }
}
