/**
 * The types of window.hyperlab (automation.ts; docs/automation.md is the manual). Types
 * only, so e2e tests can import them without the page.
 */
import type {
  DiskCreateRequest,
  DiskImageRow,
  DiskList,
  DomainInspection,
  DomainJitStats,
  DomainState,
  HostRow,
  JitDump,
  MemoryMapView,
  MigrationNotice,
  MigrationPeer,
  MigrationStats,
  RestoreRequest,
  SliceRecord,
  SnapshotList,
  SnapshotRow,
  VbdInspection,
  VirtioInspection,
} from './hvProtocol';
import type { CaptureFileRow, NetCaptureRow, NetCounters, NetLinkRow, NetLinksView, NetView, PacketBatch, PacketRow } from './netTypes';

export type { CaptureFileRow, NetCaptureRow, NetCounters, NetView, PacketBatch, PacketRow };

export type {
  DiskCreateRequest,
  DiskImageRow,
  DiskList,
  DomainInspection,
  MemoryMapView,
  MigrationNotice,
  MigrationPeer,
  MigrationStats,
  RestoreRequest,
  SliceRecord,
  SnapshotList,
  SnapshotRow,
  VbdInspection,
  VirtioInspection,
};

export type IsolationVia = 'headers' | 'service-worker' | 'none';

export interface IsolationStatus {
  readonly isolated: boolean;
  /** How isolation was reached; 'none' when it was not. */
  readonly via: IsolationVia;
  /** Why the page is not isolated, in words for the user; null when it is. */
  readonly reason: string | null;
}

/** One point of a domain's or the host's history (window.hyperlab.history, the graphs). */
export interface Sample {
  /** Scheduler time, ms. */
  readonly t: number;
  readonly cpu: number;
  readonly mips: number;
  /** Per second, over about the last second. */
  readonly exits: number;
  /** Disk requests per second (reads + writes) and bytes per second (read + written), over the domain's virtual disks. */
  readonly disk: number;
  readonly diskBytes: number;
  /** The same, split. */
  readonly diskReads: number;
  readonly diskWrites: number;
  readonly diskReadBytes: number;
  readonly diskWriteBytes: number;
  readonly hypercalls: number;
  readonly evtchn: number;
  readonly mem: number;
  /** Exits per second by reason (hypercalls folded into one reason, "hypercall"). */
  readonly exitsBy: Readonly<Record<string, number>>;
  /** Hypercalls per second by type ("event_channel_op"...). */
  readonly hypercallsBy: Readonly<Record<string, number>>;
}

/**
 * What a domain is doing, in the words of the first lab page (before domains):
 * running, waiting (blocked: asleep in WFI or SCHEDOP_block), paused, off (shut down),
 * crashed.
 */
export type RunState = 'booting' | 'running' | 'waiting' | 'paused' | 'off' | 'crashed';

/** How a guest powered off: the test finisher's pass or fail(code); a pv poweroff is a pass. */
export interface PowerOff {
  readonly kind: 'pass' | 'fail';
  readonly code: number;
}

/** A domain's statistics: the machine's fields of version 1, then xentop's. */
export interface DomainStats {
  /** Increases with every report; the newest wins. */
  readonly seq: number;
  readonly state: RunState;
  /** Instructions retired by all vCPUs. */
  readonly instret: number;
  /** Million instructions per second over the last second. */
  readonly mips: number;
  /** instret over the CPU time the domain had. */
  readonly avgMips: number;
  /** CPU time, ms. */
  readonly runMs: number;
  /** Host ms since the domain was created. */
  readonly uptimeMs: number;
  readonly poweroff: PowerOff | null;
  /** The crash message, when it crashed. */
  readonly crash: string | null;
  /** Reboots into a new domain so far. */
  readonly resets: number;
  /** Guest RAM is shared memory (always, under the hypervisor). */
  readonly sharedMemory: boolean;
  readonly domid: number;
  readonly name: string;
  readonly type: 'pv' | 'hvm';
  /** The state as `xl list` says it. */
  readonly xlState: DomainState;
  readonly cpuNs: number;
  readonly cpuPct: number;
  readonly memKiB: number;
  readonly maxMemKiB: number;
  readonly vcpus: number;
  readonly exits: Readonly<Record<string, number>>;
  /** EVTCHNOP_send calls so far. */
  readonly evtchnSends: number;
  readonly weight: number;
  readonly cap: number;
}

/** Version 1's name for DomainStats. */
export type MachineStats = DomainStats;

export interface DomainListing {
  /** The domid (machines of version 1 had ids; they are domids now). */
  readonly id: number;
  readonly name: string;
  readonly type: 'pv' | 'hvm';
  readonly origin: 'catalog' | 'upload' | 'config' | 'xl';
  readonly state: RunState;
  readonly xlState: DomainState;
  readonly poweroff: PowerOff | null;
}

export interface CreateOptions {
  /** xl.cfg text (errors reject with "line N: ..."). */
  readonly config?: string;
  /** A preset name ("teaching-os-pv", "hello"...). */
  readonly preset?: string;
  /** Image bytes: a config's kernel may name `name`; alone, they boot as their own domain. */
  readonly image?: Uint8Array | ArrayBuffer | readonly number[];
  readonly name?: string;
  readonly type?: 'pv' | 'hvm';
  /** MiB of RAM (default: the config's, 16 for presets and images). */
  readonly memory?: number;
}

export interface BootOptions {
  readonly name?: string;
  /** RAM in bytes (version 1's unit). */
  readonly memSize?: number;
  readonly type?: 'pv' | 'hvm';
}

export interface HyperlabAutomation {
  readonly version: number;
  ready(): Promise<void>;
  isolation(): IsolationStatus;
  images(): readonly string[];
  presets(): readonly string[];
  host(): HostRow | null;
  domains(): DomainListing[];
  machines(): DomainListing[];
  create(spec: string | CreateOptions): Promise<number>;
  boot(image: string | Uint8Array | ArrayBuffer | readonly number[], options?: BootOptions): Promise<number>;
  consoleText(id: number): string;
  waitForText(id: number, text: string, timeoutMs?: number): Promise<string>;
  waitForPowerOff(id: number, timeoutMs?: number): Promise<PowerOff>;
  sendInput(id: number, text: string | readonly number[]): Promise<void>;
  pause(id: number): Promise<DomainStats>;
  unpause(id: number): Promise<DomainStats>;
  resume(id: number): Promise<DomainStats>;
  shutdown(id: number): Promise<void>;
  reboot(id: number): Promise<number>;
  reset(id: number): Promise<DomainStats>;
  destroy(id: number): Promise<void>;
  stats(id: number): DomainStats;
  setSchedParams(id: number, params: { weight?: number; cap?: number }): Promise<DomainStats>;
  pinVcpu(id: number, vcpu: number, cpus: string): Promise<DomainStats>;
  xl(line: string): Promise<string>;
  /** The inspectors' data of a domain (0: Domain-0): event channels, grants, mappings, xenstore subtree. */
  inspect(id: number): Promise<DomainInspection>;
  /** Owner of every machine frame, frames per domain, and the frames grants share. */
  memoryMap(): Promise<MemoryMapView>;
  /** The graphs' samples of the last minute (about 10 a second): of a domain, or of the host without an id. */
  history(id?: number): Sample[];
  /** The scheduler's slices of the last ten seconds, oldest first, and the scheduler time (ms) of the newest report. */
  slices(): { nowMs: number; slices: SliceRecord[] };
  /** A domain's virtual disks as the vbd inspector shows them. */
  vbds(id: number): Promise<VbdInspection[]>;
  /** An hvm domain's virtio-blk disks as the inspector shows them. */
  virtioDisks(id: number): Promise<VirtioInspection[]>;
  /** Disk images in the browser's storage (OPFS disks/): the Disks panel's operations. */
  readonly disks: DiskAutomation;
  /** The virtual network: bridges, counters, packet lists, captures (netTypes.ts). */
  readonly net: NetAutomation;
  /** `xl save [-c] DOM`: the save file's bytes (what `xl save` writes on a Node host); without checkpoint the domain is destroyed once saved. */
  save(id: number, options?: { checkpoint?: boolean }): Promise<Uint8Array>;
  /** `xl restore` of a save file; resolves with the new domid. A bad file rejects with one line and builds nothing. */
  restore(bytes: Uint8Array | ArrayBuffer | readonly number[], options?: RestoreRequest): Promise<number>;
  /** Save files kept in the browser (OPFS snapshots/): the Snapshots panel's operations. */
  readonly snapshots: SnapshotAutomation;
  /** Live migration to another tab of the origin (BroadcastChannel). */
  readonly migrate: MigrationAutomation;
  /** The translation tier (docs/jit.md): counters, the switch, and the inspector's data. */
  readonly jit: JitAutomation;
}

export interface JitAutomation {
  /** A domain's tier counters summed over its vCPUs (instructions run translated, translations, invalidations, cache). */
  stats(id: number): Promise<DomainJitStats>;
  /** Switch a running domain's tier; each vCPU takes it at its next slice. Resolves with the counters. */
  set(id: number, mode: 'off' | 'on' | 'always'): Promise<DomainJitStats>;
  /** One vCPU's hottest translations with the guest's disassembly and the generated code (rejects if the vCPU does not run within 3 s). */
  translations(id: number, vcpu?: number): Promise<JitDump>;
}

export interface MigrationAutomation {
  /** The other tabs running a hypervisor (those answering within 300 ms). */
  peers(): Promise<MigrationPeer[]>;
  /** Migrate domain `id` live to the tab `peer` (an id from peers()); resolves once it runs there. */
  send(id: number, peer: string): Promise<MigrationStats>;
  /** Migrate domain `id` live to a Node host running `hyperlab host --listen-ws` (url: ws://HOST:PORT). */
  toHost(id: number, url: string): Promise<MigrationStats>;
  /** Bring the Node host's domain `dom` (name or id) here by live migration; resolves with its domid here. */
  fromHost(url: string, dom: string): Promise<number>;
  /** What migrations reported on this tab, either side, oldest first (the last 500). */
  notices(): MigrationNotice[];
}

export interface SnapshotAutomation {
  list(): Promise<SnapshotList>;
  /** `xl save -c`: the domain runs on; name default DOMAIN-DATE. */
  take(id: number, name?: string): Promise<SnapshotRow>;
  /** Resolves with the new domid. */
  restore(name: string, options?: RestoreRequest): Promise<number>;
  download(name: string): Promise<Uint8Array>;
  remove(name: string): Promise<void>;
}

export interface DiskAutomation {
  list(): Promise<DiskList>;
  /** Rejects with one line (name taken, no room in the quota, a base that does not open...). */
  create(req: DiskCreateRequest): Promise<DiskImageRow>;
  /** Keep bytes as an image once the image layer opens them; a corrupt image rejects with one line. */
  upload(name: string, bytes: Uint8Array | ArrayBuffer | readonly number[]): Promise<DiskImageRow>;
  download(name: string): Promise<Uint8Array>;
  /** Refused while attached. */
  remove(name: string): Promise<void>;
  /** The image layer's ByteStore rules on a scratch file of OPFS disks/ (through the real access handles); resolves with a line, rejects with the broken rule. */
  check(): Promise<string>;
  /** xl block-attach; vdev default xvdb, access default rw. */
  attach(id: number, name: string, options?: { vdev?: string; access?: 'rw' | 'ro' }): Promise<void>;
}

/** The virtual network (docs/automation.md, "Network"): what the Network tab shows, and captures. Interfaces are named as tcpdump -i names them: vifD.N, vifD.N-emu, xenbr0. */
export interface NetAutomation {
  /** Bridges, their ports with counters, MAC tables, DHCP leases, running captures. */
  view(): Promise<NetView>;
  /** Names a packet list or a capture takes: the bridges, then every guest interface. */
  interfaces(): Promise<string[]>;
  /** One port's counters (a guest interface, or Domain-0's port on its bridge by the bridge's name). */
  counters(iface: string): Promise<NetCounters>;
  /** The packet list of an interface: frames with seq > after (0: starts the list; it runs while polled). */
  packets(iface: string, after?: number): Promise<PacketBatch>;
  /** Stop a packet list now. */
  unwatch(iface: string): Promise<void>;
  captureStart(iface: string): Promise<NetCaptureRow>;
  /** End a capture: the pcap file's bytes (LINKTYPE_ETHERNET). */
  captureStop(id: number): Promise<Uint8Array>;
  /** Capture files `xl network-capture` wrote in the browser's storage (OPFS captures/). */
  files(): Promise<CaptureFileRow[]>;
  file(name: string): Promise<Uint8Array>;
  removeFile(name: string): Promise<void>;
  /** Links between this page's bridges and other hosts' (docs/network.md, "Links between hosts"). */
  links(): Promise<NetLinksView>;
  /** Link a bridge (xenbr0 by default) to the other tabs of this origin (`to` = 'tabs', the default) or to `hyperlab host --listen-ws` (`to` = ws://ADDR:PORT). */
  link(to?: string, bridge?: string): Promise<NetLinkRow>;
  /** Close a link by its port name (`link0`), or all of them (the default). */
  unlink(name?: string): Promise<void>;
}

declare global {
  interface Window {
    hyperlab?: HyperlabAutomation;
  }
}
