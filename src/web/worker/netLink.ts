/**
 * Links of the page's bridges to other hosts (core/net/link.ts, core/tools/netLinks.ts), the
 * browser's two transports:
 *   - the other tabs of this origin: one BroadcastChannel per bridge (`hyperlab-link-xenbr0`),
 *     a shared segment like a hub: every linked tab gets every PDU, one link port per tab;
 *   - a Node host's `hyperlab host --listen-ws`: a WebSocket (the migration's
 *     WebSocketChannel), whose first text message `link BRIDGE` tells the host it is a link.
 */
import type { BridgeLink, LinkTransport } from '../../core/net/link';
import { linkOverChannel, type LinkSet } from '../../core/tools/netLinks';
import type { NetLinkRow, NetLinksView } from '../protocol/netTypes';
import { WebSocketChannel, type WebSocketLike } from './migrateWebSocket';

/** What the hub needs of a BroadcastChannel (the DOM's, or a test's). */
export interface LinkBus {
  postMessage(msg: unknown): void;
  close(): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export const linkBusName = (bridge: string): string => `hyperlab-link-${bridge}`;

/** Link `bridge` to every other tab that links it: the tab says HELLO and the tabs there answer. */
export function linkTabs(set: LinkSet, bridge: string, open: (name: string) => LinkBus): BridgeLink {
  const bus = open(linkBusName(bridge));
  let closed = false;
  const transport: LinkTransport = {
    send(pdu) {
      if (closed) return false;
      try {
        bus.postMessage(pdu);
        return true;
      } catch {
        return false;
      }
    },
    close() {
      closed = true;
      bus.onmessage = null;
      bus.close();
    },
  };
  let link: BridgeLink;
  try {
    link = set.add(bridge, transport, 'join', `BroadcastChannel ${linkBusName(bridge)}`, true);
  } catch (e) {
    bus.close();
    throw e;
  }
  bus.onmessage = (ev) => {
    const d = ev.data;
    // Structured clone keeps a Uint8Array a Uint8Array; anything else another page posted is a bad PDU.
    link.receive(d instanceof Uint8Array ? d : new Uint8Array(0));
  };
  return link;
}

/** Link `bridge` to a Node host's `--listen-ws` at `url`. */
export async function linkWebSocket(set: LinkSet, bridge: string, url: string, open: (url: string) => WebSocketLike): Promise<BridgeLink> {
  if (!/^wss?:\/\/[^\s]+$/.test(url)) throw new Error(`${JSON.stringify(url.slice(0, 80))} is not a ws:// or wss:// URL`);
  const ch = new WebSocketChannel(open(url));
  await ch.opened();
  ch.sendText(`link ${bridge}`);
  return linkOverChannel(set, bridge, ch, 'join', `websocket ${url}`);
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

export function linkRow(l: BridgeLink): NetLinkRow {
  return {
    name: l.name,
    bridge: l.bridge.name,
    state: l.state,
    remote: l.remote,
    peers: [...l.peers.values()].map((p) => ({ host: hex(p.host), slot: p.slot })),
    counters: { ...l.port.counters },
    bad: Object.values(l.counters.bad).reduce((a, b) => a + b, 0),
    looped: l.counters.looped + l.counters.ttlExpired,
  };
}

export function linksView(set: LinkSet): NetLinksView {
  return { host: hex(set.hostId), slot: set.slot, links: set.links.map(linkRow), events: [...set.events] };
}
