/**
 * The host's bridge links (src/core/net/link.ts), the toolstack's part: which links exist,
 * who this host is on a linked segment (a random host id, Domain-0's slot of
 * net/segment.ts), what a peer's HELLO must pass, and a link over any MigrationChannel (TCP
 * between Node hosts, WebSocket between a page and a Node host: the transports migration
 * uses). The BroadcastChannel hub of the browser's tabs is src/web/worker/netLink.ts.
 */
import { BridgeLink, type LinkHost, type LinkTransport } from '../net/link';
import { LINK_VERSION, type LinkHello } from '../net/linkFraming';
import { formatIp } from '../net/ipv4';
import { formatMac } from '../net/ethernet';
import { freeSlot, slotAddress } from '../net/segment';
import type { MigrationChannel } from './migration/live/channel';
import { MIGRATE_RECEIVER_BANNER, sameBytes } from './migration/live/protocol';
import type { Toolstack } from './toolstack';
import type { VirtualNetworks } from './vif';

/** PDUs a link may have queued in its transport before it drops frames (a TCP socket that does not drain). */
export const LINK_MAX_PENDING = 256;

const hex = (n: number): string => n.toString(16).padStart(8, '0');
const line = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export class LinkSet implements LinkHost {
  readonly hostId: number;
  readonly links: BridgeLink[] = [];
  /** Domain-0's slot on a linked segment (net/segment.ts): 1 until this host joins one where 1 is taken. */
  slot = 1;
  private next = 0;

  /** The last events (links up and down, Domain-0 moving), newest last, for the Network tab. */
  readonly events: string[] = [];
  /** Where events go besides (Domain-0's log, `xl dmesg`). */
  onEvent: (line: string) => void = () => {};

  constructor(
    private readonly nets: VirtualNetworks,
    hostId?: number,
  ) {
    this.hostId = hostId ?? (Math.floor(Math.random() * 0xffff_fffe) + 1) >>> 0;
  }

  private log(line: string): void {
    this.events.push(line);
    if (this.events.length > 32) this.events.shift();
    this.onEvent(line);
  }

  /** A new link port on `bridge` over `transport`; it says HELLO at once. */
  add(bridgeName: string, transport: LinkTransport, role: 'join' | 'accept', remote: string, hub = false): BridgeLink {
    const br = this.nets.bridges.get(bridgeName);
    if (!br) throw new Error(`no bridge ${bridgeName} (${[...this.nets.bridges.keys()].join(', ')})`);
    if (hub && this.links.some((l) => l.hub && l.bridge === br)) throw new Error(`${bridgeName} is linked to the other tabs already`);
    let name: string;
    do name = `link${this.next++}`;
    while (br.port(name));
    const l = new BridgeLink(br, name, transport, this, role, remote, hub);
    this.links.push(l);
    l.hello();
    this.log(`${name}: ${bridgeName} linked to ${remote} (${role === 'join' ? 'joining' : 'accepted'}), waiting for its HELLO`);
    return l;
  }

  find(name: string): BridgeLink {
    const l = this.links.find((x) => x.name === name);
    if (!l) throw new Error(`no link ${name}${this.links.length ? ` (${this.links.map((x) => x.name).join(', ')})` : ''}`);
    return l;
  }

  hello(link: BridgeLink): LinkHello {
    return { v: LINK_VERSION, host: this.hostId, bridge: link.bridge.name, role: link.role, slot: this.slot, used: [...this.taken(link)] };
  }

  /** Slots this host knows to be held on the segment: its own and its peers' (and what they know), but `except`'s. */
  private taken(except?: BridgeLink): Set<number> {
    const t = new Set([this.slot]);
    for (const l of this.links)
      if (l !== except && l.state !== 'down')
        for (const p of l.peers.values()) {
          t.add(p.slot);
          for (const u of p.used) t.add(u);
        }
    return t;
  }

  accept(link: BridgeLink, h: LinkHello): string | undefined {
    if (h.v !== LINK_VERSION) return `link protocol version ${h.v} (this host speaks ${LINK_VERSION})`;
    if (h.host === this.hostId) return 'a link from this host to itself (it would loop every frame)';
    for (const l of this.links)
      if (l !== link && l.state !== 'down' && l.peers.has(h.host)) return `host ${hex(h.host)} is linked already (${l.name}): a second link would make a loop`;
    // The end that joins moves Domain-0 if its slot is taken on the other side (net/segment.ts).
    const dom0 = this.nets.dom0;
    if (h.role === 'accept' && link.bridge === dom0.port.bridge && (h.slot === this.slot || h.used.includes(this.slot))) {
      const taken = new Set([h.slot, ...h.used]);
      for (const l of this.links) if (l.state !== 'down') for (const p of l.peers.values()) [p.slot, ...p.used].forEach((u) => taken.add(u));
      const k = freeSlot(taken);
      if (k === undefined) return 'the segment has no free slot for Domain-0 (at most 6 hosts)';
      this.moveDom0(k);
      // Tell everyone where Domain-0 is now (after this HELLO is taken).
      queueMicrotask(() => this.links.forEach((l) => l.hello()));
    }
    this.log(`${link.name}: up, peer host ${hex(h.host)}`);
    return undefined;
  }

  private moveDom0(k: number): void {
    const s = this.nets.settings;
    const a = slotAddress(k, { ip: s.dom0Ip, prefix: s.prefix, first: s.dhcpFirst, last: s.dhcpLast });
    this.nets.dom0.readdress(a.ip, a.mac, a);
    this.slot = k;
    this.log(`xenbr0: Domain-0 joins a linked segment as ${formatIp(a.ip)} (${formatMac(a.mac)}), DHCP pool ${formatIp(a.first)}-${formatIp(a.last)}`);
  }

  down(link: BridgeLink, reason: string): void {
    const i = this.links.indexOf(link);
    if (i >= 0) this.links.splice(i, 1);
    this.log(`${link.name}: down (${reason})`);
  }

  /** `xl network-link` without arguments: one line per link. */
  list(): string {
    const rows = ['Name    Bridge    State       Peers             Frames out/in   Bytes out/in        Drops  Bad  Remote'];
    for (const l of this.links) {
      const c = l.port.counters;
      const bad = Object.values(l.counters.bad).reduce((a, b) => a + b, 0);
      const peers = [...l.peers.values()].map((p) => `${hex(p.host)}/${p.slot}`).join(',') || '-';
      rows.push(
        `${l.name.padEnd(7)} ${l.bridge.name.padEnd(9)} ${l.state.padEnd(11)} ${peers.padEnd(17)} ${`${c.txFrames}/${c.rxFrames}`.padEnd(15)} ${`${c.txBytes}/${c.rxBytes}`.padEnd(19)} ${String(c.txDrops + c.rxDrops + l.counters.looped + l.counters.ttlExpired + l.counters.beforeHello).padEnd(6)} ${String(bad).padEnd(4)} ${l.remote}`,
      );
    }
    rows.push(`this host: ${hex(this.hostId)}, Domain-0 in slot ${this.slot} (${formatIp(this.nets.dom0.ip)})`);
    return rows.join('\n');
  }
}

const sets = new WeakMap<VirtualNetworks, LinkSet>();

/** A host's links (made on first use), by its networks. */
export function linksOfNets(nets: VirtualNetworks): LinkSet {
  let s = sets.get(nets);
  if (!s) sets.set(nets, (s = new LinkSet(nets)));
  return s;
}

/** The toolstack's links; their events go to Domain-0's log too. */
export function linksOf(ts: Toolstack): LinkSet {
  const s = linksOfNets(ts.nets);
  s.onEvent = (l) => ts.hv.dmesg(l);
  return s;
}

/**
 * A link over a MigrationChannel. `first`: a message already read from the channel (the
 * accepting side read the peer's HELLO to tell a link from a migration). The joining end of a
 * TCP link talks to `hyperlab host --listen`, whose receiver says the migration banner first:
 * the link skips it.
 */
export function linkOverChannel(set: LinkSet, bridge: string, ch: MigrationChannel, role: 'join' | 'accept', remote: string, first?: Uint8Array): BridgeLink {
  let pending = 0;
  const transport: LinkTransport = {
    send(pdu) {
      if (ch.closed !== undefined || pending >= LINK_MAX_PENDING) return false;
      pending++;
      ch.send(pdu).then(
        () => pending--,
        () => pending--,
      );
      return true;
    },
    close: (reason) => ch.close(reason),
  };
  const link = set.add(bridge, transport, role, remote);
  if (first) link.receive(first);
  void (async () => {
    for (let n = 0; ; n++) {
      let m: Uint8Array;
      try {
        m = await ch.receive();
      } catch (e) {
        link.down(line(e));
        return;
      }
      if (n === 0 && role === 'join' && sameBytes(m, MIGRATE_RECEIVER_BANNER)) continue;
      link.receive(m);
      if (link.state === 'down') return;
    }
  })();
  return link;
}
