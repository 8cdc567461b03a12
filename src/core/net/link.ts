/**
 * A bridge link: a port of a bridge whose far end is another host's bridge, as a VXLAN or
 * GRE tunnel (or an Ethernet cable) joins two Xen Domain-0 bridges into one segment. To the
 * bridge it is a port like any other: it learns the MACs behind it, floods to it, counts
 * its frames (`brctl show`), and captures of the bridge see what crosses it. It is not bound
 * to a MAC (frames from many guests come through it) and storm control does not apply to it:
 * the far host's bridge limited its guests' floods where they entered.
 *
 * The link speaks linkFraming.ts's PDUs over a LinkTransport (TCP between Node hosts, a
 * WebSocket between a page and a Node host, a BroadcastChannel between tabs, where one
 * link reaches every linked tab as a hub does). Each end says HELLO first; frames cross only
 * once the other end's HELLO was accepted (LinkHost.accept: a link to oneself, a second link
 * to a host already linked, another bridge name or version are refused with a BYE).
 *
 * No spanning tree (IEEE 802.1D's STP is not implemented). What keeps a loop of links from
 * melting down instead: every FRAME carries the host it entered the links at (`origin`) and a
 * hop budget (`ttl`); a link never sends a frame to the host it came from, a host drops a
 * frame of its own that comes back, and a frame dies after LINK_TTL hops. A loop then costs
 * duplicates (and MACs that move between ports), never a storm; one link per pair of hosts
 * is enforced, so a loop takes three hosts or more.
 */
import type { Bridge, BridgePort, PortDevice } from './bridge';
import { decodeLinkPdu, encodeBye, encodeFrame, encodeHello, LINK_BYE, LINK_FRAME, LINK_TTL, type LinkHello, type LinkPduError } from './linkFraming';

/** The transport under a link: PDUs out, one per message. */
export interface LinkTransport {
  /** Queue one PDU; false if it cannot be taken now (the peer is slow or gone): the frame becomes the port's tx drop. */
  send(pdu: Uint8Array): boolean;
  /** Close the transport (after what was queued). */
  close(reason: string): void;
}

/** What a link needs of its host (the toolstack's LinkSet). */
export interface LinkHost {
  readonly hostId: number;
  /** This host's HELLO for `link` (Domain-0's slot as it is now). */
  hello(link: BridgeLink): LinkHello;
  /** A peer said HELLO: undefined to accept it, else the one-line reason it is refused. */
  accept(link: BridgeLink, hello: LinkHello): string | undefined;
  /** The link went down (closed here, by the peer, or by its transport). */
  down(link: BridgeLink, reason: string): void;
}

export interface LinkCounters {
  /** PDUs refused, by reason (linkFraming.ts). */
  bad: Record<LinkPduError, number>;
  /** Frames that came before the peer's HELLO was accepted. */
  beforeHello: number;
  /** Frames dropped because they would go back to the host they came from, or came back to this one. */
  looped: number;
  /** Frames dropped with no hops left. */
  ttlExpired: number;
}

export interface LinkPeer {
  host: number;
  bridge: string;
  slot: number;
  used: number[];
  role: 'join' | 'accept';
}

/** The frame being delivered by a link's receive, so that a link it is flooded to forwards its origin and ttl (delivery is synchronous). */
let inflight: { frame: Uint8Array; origin: number; ttl: number } | undefined;

export class BridgeLink implements PortDevice {
  readonly link = true;
  readonly port: BridgePort;
  readonly counters: LinkCounters = { bad: { short: 0, length: 0, type: 0, runt: 0, oversized: 0, hello: 0 }, beforeHello: 0, looped: 0, ttlExpired: 0 };
  readonly peers = new Map<number, LinkPeer>();
  state: 'connecting' | 'up' | 'down' = 'connecting';
  /** Why it went down. */
  reason: string | undefined;
  readonly since = Date.now();

  constructor(
    readonly bridge: Bridge,
    /** The port's name, e.g. `link0` (what `brctl show` and `tcpdump -i` name it). */
    name: string,
    private readonly transport: LinkTransport,
    private readonly host: LinkHost,
    /** `join`: this end connected; `accept`: it was connected to. */
    readonly role: 'join' | 'accept',
    /** Where the other end is, for people (`tcp 127.0.0.1:8002`, `BroadcastChannel hyperlab-link-xenbr0`). */
    readonly remote: string,
    /** A hub (BroadcastChannel): many peers on one link, each saying HELLO. */
    readonly hub = false,
  ) {
    this.port = bridge.attach(name, this);
  }

  get name(): string {
    return this.port.name;
  }

  /** Say HELLO (again, after Domain-0 moved). */
  hello(): void {
    if (this.state !== 'down') this.transport.send(encodeHello(this.host.hello(this)));
  }

  /** A frame from the bridge, to the far side. */
  transmit(frame: Uint8Array): boolean {
    if (this.state !== 'up') return false;
    let origin = this.host.hostId,
      ttl = LINK_TTL;
    const f = inflight;
    // The very frame a link delivered (not, say, Domain-0's ARP answer sent while it was being delivered).
    if (f && f.frame === frame) {
      // Flooded or forwarded here from another link: pass on where it came from, one hop fewer.
      if (this.peers.has(f.origin)) {
        this.counters.looped++;
        return false;
      }
      origin = f.origin;
      ttl = f.ttl - 1;
      if (ttl <= 0) {
        this.counters.ttlExpired++;
        return false;
      }
    }
    return this.transport.send(encodeFrame(frame, origin, ttl));
  }

  /** One message from the transport. Never throws: what is wrong with it is counted. */
  receive(msg: Uint8Array): void {
    if (this.state === 'down') return;
    const pdu = decodeLinkPdu(msg);
    if (typeof pdu === 'string') {
      this.counters.bad[pdu]++;
      return;
    }
    if (pdu.type === LINK_FRAME) {
      if (this.state !== 'up') {
        this.counters.beforeHello++;
        return;
      }
      if (pdu.origin === this.host.hostId) {
        this.counters.looped++;
        return;
      }
      const prev = inflight;
      inflight = { frame: pdu.frame, origin: pdu.origin, ttl: pdu.ttl };
      try {
        this.port.input(pdu.frame);
      } finally {
        inflight = prev;
      }
      return;
    }
    if (pdu.type === LINK_BYE) {
      if (this.hub) this.peers.delete(pdu.origin);
      else this.down(`closed by the peer: ${pdu.reason}`);
      return;
    }
    const h = pdu.hello;
    const known = this.peers.get(h.host);
    if (!known) {
      const refused = this.host.accept(this, h);
      if (refused !== undefined) {
        if (this.hub) return; // one tab's mismatch is not every tab's: ignore that peer
        this.close(refused);
        return;
      }
    }
    const isNew = !known;
    this.peers.set(h.host, { host: h.host, bridge: h.bridge, slot: h.slot, used: h.used, role: h.role });
    if (this.state === 'connecting') this.state = 'up';
    // A hub's newcomer needs to hear from the tabs already there.
    if (this.hub && isNew && h.role === 'join') this.transport.send(encodeHello({ ...this.host.hello(this), role: 'accept' }));
  }

  /** Close from this side: a BYE, then the transport. */
  close(reason = 'unlinked'): void {
    if (this.state === 'down') return;
    this.transport.send(encodeBye(this.host.hostId, reason));
    this.transport.close(reason);
    this.down(reason);
  }

  /** The transport is gone (or the peer said BYE): the port leaves the bridge, with what it learned. */
  down(reason: string): void {
    if (this.state === 'down') return;
    this.state = 'down';
    this.reason = reason.split('\n')[0]!;
    this.bridge.detach(this.port);
    this.host.down(this, this.reason);
  }
}
