/**
 * The virtual network as the page sees it (the Live panel's Network tab, the graphs'
 * per-interface lines, window.hyperlab.net): Domain-0's bridges and their ports with
 * their counters, what each bridge learned, the packet list of one interface and the
 * captures. Types only; the worker side is src/web/worker/netMonitor.ts.
 *
 * An interface is named as tcpdump's `-i` names it at Domain-0's prompt: `vifD.N` (a
 * guest's interface: the bridge port of its vif), or a bridge's name (`xenbr0`: every
 * frame the bridge forwards, once, as it comes in).
 */

/** A port's counters from the bridge's side (core/net/bridge.ts PortCounters): rx = from the guest into the bridge, tx = from the bridge to the guest. */
export interface NetCounters {
  readonly rxFrames: number;
  readonly rxBytes: number;
  readonly txFrames: number;
  readonly txBytes: number;
  /** Malformed or group-source frames from the port, dropped. */
  readonly rxDrops: number;
  /** Frames whose source was not the vif's MAC, dropped (the vif-bridge script's rule). */
  readonly spoofed: number;
  /** Frames for the port its device could not take (no buffer posted). */
  readonly txDrops: number;
  /** Broadcast and unknown-destination frames over the port's flood allowance, dropped (the bridge's storm control). */
  readonly floodDrops?: number;
}

/** One port of a bridge, in the 10 Hz statistics report (StatsReport.net) and in NetView. */
export interface NetPortSample {
  /** The port's name: vifD.N, or the bridge's name for Domain-0's own interface. */
  readonly name: string;
  readonly bridge: string;
  /** The guest the port belongs to (0: Domain-0's interface; null: a port of no domain). */
  readonly domid: number | null;
  readonly counters: NetCounters;
}

export interface NetPortRow extends NetPortSample {
  readonly devid: number | null;
  /** The MAC the port is bound to (a vif's mac=), or the interface's own (Domain-0). */
  readonly mac: string | null;
  readonly kind: 'vif' | 'dom0' | 'other';
  /** For a pv vif: netback's XenbusState and its refusals and rx drops (netback's VifStats), summed. */
  readonly backend?: { readonly state: number; readonly refused: number; readonly rxDropped: number; readonly ip: readonly string[] };
}

export interface NetFdbRow {
  readonly mac: string;
  readonly port: string;
  /** ms since a frame from that MAC last came in. */
  readonly ageMs: number;
}

export interface NetBridgeView {
  readonly name: string;
  readonly ageingMs: number;
  readonly ports: readonly NetPortRow[];
  /** `brctl showmacs`: what the bridge learned. */
  readonly fdb: readonly NetFdbRow[];
}

export interface NetCaptureRow {
  readonly id: number;
  readonly iface: string;
  readonly frames: number;
  /** Bytes of pcap so far (header included). */
  readonly bytes: number;
  /** Frames left out because the capture reached its size limit. */
  readonly dropped: number;
  readonly startedMs: number;
}

export interface NetView {
  readonly bridges: readonly NetBridgeView[];
  /** Domain-0's interface on xenbr0. */
  readonly dom0: { readonly ip: string; readonly mac: string };
  /** DHCP leases Domain-0 handed out. */
  readonly leases: readonly { readonly mac: string; readonly ip: string; readonly expiresInS: number | 'static' }[];
  /** Captures running now (Capture buttons, window.hyperlab.net.captureStart). */
  readonly captures: readonly NetCaptureRow[];
}

/** One frame of a packet list, with tcpdump's one-line summary (core/net/summary.ts). */
export interface PacketRow {
  /** Increases by one per frame the list saw on that interface. */
  readonly seq: number;
  /** ms since the epoch. */
  readonly timeMs: number;
  /** The port it crossed, and which way: 'in' = into the bridge (the guest sent it), 'out' = to the guest. */
  readonly port: string;
  readonly dir: 'in' | 'out';
  readonly source: string;
  readonly destination: string;
  readonly protocol: string;
  readonly length: number;
  /** What tcpdump prints after the time stamp. */
  readonly info: string;
}

export interface PacketBatch {
  readonly iface: string;
  /** Frames with seq > `after`, oldest first (at most the ring's size). */
  readonly packets: readonly PacketRow[];
  /** Pass it as `after` next time. */
  readonly next: number;
  /** Frames after `after` that had left the ring already. */
  readonly lost: number;
  /** The interface is gone (its domain was destroyed): no more frames will come. */
  readonly gone: boolean;
}

/** A pcap file in the browser's storage (OPFS captures/), written by `xl network-capture`. */
export interface CaptureFileRow {
  readonly name: string;
  readonly size: number;
}

/** A link between this host's bridge and other hosts' (core/net/link.ts; docs/network.md, "Links between hosts"). */
export interface NetLinkRow {
  /** The port's name on the bridge (`link0`). */
  readonly name: string;
  readonly bridge: string;
  /** connecting: no peer's HELLO yet (a tab alone on the BroadcastChannel); up; down. */
  readonly state: 'connecting' | 'up' | 'down';
  /** `BroadcastChannel hyperlab-link-xenbr0`, `websocket ws://...`, `tcp ADDR:PORT`. */
  readonly remote: string;
  /** The hosts on the other side, each with its Domain-0's slot (10.0.0.SLOT). */
  readonly peers: readonly { readonly host: string; readonly slot: number }[];
  readonly counters: NetCounters;
  /** Malformed PDUs dropped (linkFraming.ts). */
  readonly bad: number;
  /** Frames dropped so as not to loop (sent back where they came from, or come back, or out of hops). */
  readonly looped: number;
}

export interface NetLinksView {
  /** This host's id on linked segments (8 hex digits). */
  readonly host: string;
  /** Domain-0's slot: 1 until this host joined a segment where 1 was taken. */
  readonly slot: number;
  readonly links: readonly NetLinkRow[];
  /** Links up and down, Domain-0 moving: the last few lines. */
  readonly events: readonly string[];
}

/**
 * The control plane's one network call (HypervisorApi.net), one operation per request as
 * a hypercall has sub-operations; NetReplies names each one's answer.
 */
export type NetRequest =
  | { readonly op: 'view' }
  | { readonly op: 'interfaces' }
  | { readonly op: 'packets'; readonly iface: string; readonly after: number }
  | { readonly op: 'unwatch'; readonly iface: string }
  | { readonly op: 'captureStart'; readonly iface: string }
  | { readonly op: 'captureStop'; readonly id: number }
  | { readonly op: 'files' }
  | { readonly op: 'file'; readonly name: string }
  | { readonly op: 'deleteFile'; readonly name: string }
  | { readonly op: 'links' }
  /** Link `bridge` to the other tabs of this origin (`to`: 'tabs') or to a Node host's `--listen-ws` (`to`: ws://ADDR:PORT). */
  | { readonly op: 'link'; readonly bridge: string; readonly to: string }
  | { readonly op: 'unlink'; readonly name: string };

export interface NetReplies {
  readonly view: NetView;
  readonly interfaces: readonly string[];
  readonly packets: PacketBatch;
  readonly unwatch: null;
  readonly captureStart: NetCaptureRow;
  readonly captureStop: { readonly row: NetCaptureRow; readonly bytes: Uint8Array };
  readonly files: readonly CaptureFileRow[];
  readonly file: Uint8Array;
  readonly deleteFile: null;
  readonly links: NetLinksView;
  readonly link: NetLinkRow;
  readonly unlink: null;
}

export type NetOp = NetRequest['op'];
/** The request of one operation. */
export type NetRequestOf<K extends NetOp> = Extract<NetRequest, { readonly op: K }>;
