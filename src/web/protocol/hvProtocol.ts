/**
 * The control plane between the page and the hypervisor worker: types and constants
 * only. Comlink is the transport (the page calls `HypervisorApi` on a Remote); this file
 * is the schema. It type-checks with the DOM library (the page) and with the WebWorker
 * library (the worker), so it names neither.
 *
 * Notes:
 *  1. Errors cross as values (`Result`), never as exceptions; a config error carries the
 *     line it is about, for the editor.
 *  2. Everything the worker tells the page on its own (console bytes, domains created and
 *     destroyed, statistics, the hypervisor's log) comes through one `HvSink`, as batches
 *     in the order it happened: a domain's last console bytes come before its `destroyed`.
 */

import type { DomainInspection, MemoryMapView } from '../../core/tools/inspect';
import type { SliceRecord } from '../../core/xen/common/sched/sliceTrace';
import type { VbdInspection, VirtioInspection } from '../../core/tools/vbd';
import type { MigrationEvent, MigrationStats, RoundStats } from '../../core/tools/migration/live/progress';
import type { NetOp, NetPortSample, NetReplies, NetRequestOf } from './netTypes';
import type { DomainJitStats, JitDump } from '../../core/xen/vcpu/jitControl';
export type { DomainJitStats, JitDump, JitDumpEntry } from '../../core/xen/vcpu/jitControl';

export type { DomainInspection, MemoryMapView, SliceRecord, VbdInspection, VirtioInspection };
export type { MigrationEvent, MigrationStats, RoundStats };

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string; readonly line?: number };

/** `xl list` states (Xen's r b p s c d flags). */
export type DomainState = 'running' | 'blocked' | 'paused' | 'shutdown' | 'crashed' | 'dying';

/** One vCPU as `xl vcpu-list` shows it. */
export interface VcpuRow {
  readonly vcpuId: number;
  readonly runstate: 'running' | 'runnable' | 'blocked' | 'offline';
  /** pCPU it runs on now, or -1. */
  readonly pcpu: number;
  /** Hard affinity as a pCPU bitmask. */
  readonly affinity: number;
}

/** One domain, with xentop's columns and a little more. */
export interface DomainRow {
  /**
   * Increases with every row the worker makes. Rows come in reports (events) and in the
   * replies to controls, on different ports: a receiver keeps the one with the highest.
   */
  readonly seq: number;
  readonly domid: number;
  readonly name: string;
  readonly type: 'pv' | 'hvm';
  readonly state: DomainState;
  /** Why it shut down, when it did: poweroff / reboot / crash, and the detail (PASS, FAIL 3, a crash message). */
  readonly shutdown: { readonly reason: 'poweroff' | 'reboot' | 'crash'; readonly detail: string } | null;
  /** CPU time over all vCPUs, ns (the current slice included). */
  readonly cpuNs: number;
  /** CPU time over the last second as a percentage of one pCPU (xentop's CPU(%)). */
  readonly cpuPct: number;
  readonly memKiB: number;
  readonly maxMemKiB: number;
  readonly vcpus: readonly VcpuRow[];
  /** Instructions retired by all vCPUs (as of their last slice). */
  readonly instret: number;
  /** Million instructions per second over the last second. */
  readonly mips: number;
  /** Exits by reason (mmio:uart0, wfi, hypercall:...). */
  readonly exits: Readonly<Record<string, number>>;
  /** EVTCHNOP_send calls so far (pv). */
  readonly evtchnSends: number;
  readonly weight: number;
  readonly cap: number;
  /** Host ms since the domain was created. */
  readonly uptimeMs: number;
  /** Times this guest was rebooted into a new domain (by the toolstack or a reset). */
  readonly restarts: number;
  /** Its virtual disks' counters summed (xentop's VBD_RD, VBD_WR, VBD_RSECT, VBD_WSECT; sectors of 512 bytes); absent without disks. */
  readonly vbd?: VbdCounters;
  /** The translation tier's counters summed over its vCPUs (docs/jit.md). */
  readonly jit?: DomainJitStats;
}

export interface VbdCounters {
  readonly rdReq: number;
  readonly wrReq: number;
  readonly rdSect: number;
  readonly wrSect: number;
}

/** One disk image of the browser's store (OPFS disks/), as the Disks panel lists it. */
export interface DiskImageRow {
  readonly name: string;
  readonly format: 'raw' | 'qcow2';
  /** Size the guest sees, bytes. */
  readonly virtualSize: number;
  /** Length of the file, bytes (what it takes of the quota). */
  readonly fileSize: number;
  /** Guest data held by the image itself (raw: the file; qcow2: its data clusters). */
  readonly allocatedBytes: number;
  /** The backing file a qcow2 image names, as recorded. */
  readonly backing: string | null;
  /** Disks open on it now (a domain's, or a base under one). */
  readonly users: number;
  /** Why the image layer refuses it (corrupt...), or null. */
  readonly error: string | null;
}

export interface DiskList {
  readonly images: readonly DiskImageRow[];
  /** navigator.storage.estimate(), bytes. */
  readonly quota: number;
  readonly usage: number;
  /** Where the images live ("OPFS disks/"). */
  readonly where: string;
  /** Which domain uses which image: image name -> "name (domid) vdev". */
  readonly attached: Readonly<Record<string, readonly string[]>>;
}

export interface DiskCreateRequest {
  readonly name: string;
  readonly format: 'raw' | 'qcow2';
  /** Bytes (rounded up to 512); an overlay defaults to its base's size. */
  readonly size?: number;
  /** qcow2 only: the base, an image name or a shipped guests/FILE. */
  readonly backing?: string;
}

/** A save file kept in the browser (OPFS snapshots/), as the Snapshots panel lists it. */
export interface SnapshotRow {
  readonly name: string;
  /** The saved domain's name and type (from its config). */
  readonly domain: string;
  readonly type: 'pv' | 'hvm';
  /** When it was taken, ms since the epoch (0: unknown). */
  readonly date: number;
  /** The file's length, bytes. */
  readonly size: number;
  /** The domain it was taken of, "name (domain N)". */
  readonly from?: string;
  /** Why the file does not read as a save file, or null. */
  readonly error: string | null;
}

export interface SnapshotList {
  readonly snapshots: readonly SnapshotRow[];
  /** Where they live ("OPFS snapshots/"). */
  readonly where: string;
  readonly quota: number;
  readonly usage: number;
}

/** How a save file is restored: paused (xl restore -p), under another name, or a free variant of its name when taken. */
export interface RestoreRequest {
  readonly paused?: boolean;
  readonly name?: string;
  readonly uniqueName?: boolean;
}

/** A save or restore done: xl's line ("Saved domain 1 (x) to ...: N bytes in M ms"). */
export interface SavedDomain {
  /** The xl save file, the bytes `xl save` writes on a Node host. */
  readonly bytes: Uint8Array;
  readonly message: string;
}

export interface RestoredDomain {
  readonly row: DomainRow;
  readonly message: string;
}

export interface HostRow {
  readonly pcpus: number;
  readonly scheduler: string;
  readonly totalKiB: number;
  readonly freeKiB: number;
  /** Domain-0's CPU time, ns: its backends' and device models' work in the hypervisor worker (docs/hypervisor.md). */
  readonly dom0CpuNs?: number;
  /** The host's translation tier mode (the `jit` host setting): what new vCPUs start with. */
  readonly jit?: 'off' | 'on' | 'always';
}

export interface StatsReport {
  /** Increases with every report; replies to controls carry rows too, so keep the newest. */
  readonly seq: number;
  readonly host: HostRow;
  readonly domains: readonly DomainRow[];
  /** Scheduler time (ns, `Hypervisor.now()`) the report was made at: the clock of `slices`. */
  readonly nowNs: number;
  /**
   * The scheduler's slices that ended since the previous report, oldest first (at most
   * MAX_SLICES_PER_REPORT: under a storm of tiny slices the oldest are left out).
   */
  readonly slices: readonly SliceRecord[];
  /** Every bridge port's counters (netTypes.ts): the graphs' per-interface lines. */
  readonly net?: readonly NetPortSample[];
}

export const MAX_SLICES_PER_REPORT = 4096;

/** Another tab of the origin running a hypervisor: a place to migrate to (BroadcastChannel discovery). */
export interface MigrationPeer {
  readonly id: string;
  /** "tab 3f2a". */
  readonly label: string;
  readonly domains: number;
}

/** What a live migration reported, on either side (the migration view draws these). */
export interface MigrationNotice {
  /** One migration, the same id on both sides. */
  readonly session: string;
  readonly side: 'send' | 'receive';
  /** The other end ("tab 3f2a"). */
  readonly peer: string;
  readonly event: MigrationEvent;
}

export type HvEvent =
  | { readonly type: 'console'; readonly domid: number; readonly bytes: Uint8Array }
  | { readonly type: 'created'; readonly row: DomainRow; readonly restartOf: number | null }
  | { readonly type: 'destroyed'; readonly domid: number }
  | { readonly type: 'stats'; readonly report: StatsReport }
  | { readonly type: 'log'; readonly lines: readonly string[] }
  | { readonly type: 'migration'; readonly notice: MigrationNotice }
  /** Lines of a Domain-0 command that finishes later (ping, tcpdump), as they come: `xl(line, stream)`'s stream id. */
  | { readonly type: 'dom0-lines'; readonly stream: number; readonly lines: readonly string[] };

export type HvSink = (events: readonly HvEvent[]) => void;

/** What a domain is created from: config text or a preset, and optionally image bytes. */
export interface CreateRequest {
  /** xl.cfg text; a `kernel` naming an uploaded file's name finds it. */
  readonly config?: string;
  /** A preset's name (presets.ts) when there is no config text. */
  readonly preset?: string;
  /** An image the user gave; without config or preset it boots as its own domain. */
  readonly image?: { readonly name: string; readonly bytes: Uint8Array };
  /** Type of an image booted without a config (default hvm). */
  readonly type?: 'pv' | 'hvm';
  /** Overrides of config keys. */
  readonly name?: string;
  readonly memory?: number;
  /** Pick a free name ("hello-2") instead of failing when the name is taken. */
  readonly uniqueName?: boolean;
}

export interface XlOutput {
  readonly status: number;
  /** stdout and stderr, in order, as lines of text. */
  readonly output: string;
  /** `xl console DOM`: the page should show that domain's console. */
  readonly attach?: number;
}

export interface PresetInfo {
  readonly name: string;
  readonly type: 'pv' | 'hvm';
  readonly description: string;
  readonly config: string;
  /** Disk images its `disk = [...]` names, made (in OPFS disks/) the first time the preset is created, if missing. */
  readonly disks?: readonly DiskCreateRequest[];
}

export interface GuestFile {
  /** Image name without extension ("hello"). */
  readonly name: string;
  /** File name under guests/ ("hello.elf"). */
  readonly file: string;
  readonly size: number;
}

export interface HypervisorInit {
  /** Absolute URL of the site's guests/ directory, ending in '/'. */
  readonly guestBaseUrl: string;
  readonly catalog: readonly GuestFile[];
}

/** The host's settings, fixed for the hypervisor's life. */
export interface HostSettings {
  /** Physical CPUs the scheduler hands out (at most 16). */
  readonly pcpus: number;
  /** Machine memory, MiB. */
  readonly memoryMiB: number;
  readonly scheduler: 'credit' | 'rr';
  /** The translation tier's mode for every vCPU (docs/jit.md); each domain can still be switched. Default on. */
  readonly jit?: 'off' | 'on' | 'always';
}

/** What the worker exposes first: its protocol version, then start one hypervisor and get its control plane. */
export interface HypervisorFactory {
  /** HV_PROTOCOL_VERSION of the worker's build; the page checks it before `start`. */
  readonly protocolVersion: number;
  start(settings: HostSettings): HypervisorApi;
}

/** The control plane of a running hypervisor. */
export interface HypervisorApi {
  /** Start delivering events to `sink`; returns the host and the presets. */
  attach(init: HypervisorInit, sink: HvSink): { host: HostRow; presets: readonly PresetInfo[] };
  createDomain(req: CreateRequest): Promise<Result<DomainRow>>;
  destroy(domid: number): Result<null>;
  /** Resolves once no vCPU of the domain is on a pCPU: its CPU time is frozen. */
  pause(domid: number): Promise<Result<DomainRow>>;
  unpause(domid: number): Result<DomainRow>;
  /** pv: asks the guest through xenstore. hvm: refused (no PV channel; use destroy). */
  shutdown(domid: number): Result<null>;
  /** pv: asks the guest; hvm, or any domain that is already off: a hard reset. Resolves with the domid it runs as. */
  reboot(domid: number): Promise<Result<number>>;
  consoleInput(domid: number, bytes: Uint8Array): Result<null>;
  /** What the domain printed so far (the last 64 KiB), for a page that attaches late. */
  consoleHistory(domid: number): Result<Uint8Array>;
  /**
   * One Domain-0 command line: `xl ...`, or a shell command (help, ls, cat). With `stream`,
   * a command that finishes later also sends its lines as they come ('dom0-lines' events).
   */
  xl(line: string, stream?: number): Promise<XlOutput>;
  /** The virtual network: bridges, ports, counters, packet lists, captures, capture files (netTypes.ts). */
  net<K extends NetOp>(req: NetRequestOf<K>): Promise<Result<NetReplies[K]>>;
  /** Every domain's row, as `xentop` would list them now. */
  list(): DomainRow[];
  setSchedParams(domid: number, params: { weight?: number; cap?: number }): Result<DomainRow>;
  /** `xl vcpu-pin`: cpus is "all", "1" or "0-1,3". */
  pinVcpu(domid: number, vcpu: number, cpus: string): Result<DomainRow>;
  stats(): StatsReport;
  /** The inspectors' view of a domain (0: Domain-0): event channels, grants, xenstore. */
  inspect(domid: number): Result<DomainInspection>;
  /** Owner of every machine frame, and the frames grants share. */
  memoryMap(): MemoryMapView;
  /** The vbd inspector: a domain's virtual disks (xenstore nodes of both ends, handshake, ring indices, requests in flight). */
  vbds(domid: number): Result<VbdInspection[]>;
  /** The same for an hvm domain's virtio-blk disks (slot, status, features, queue indices, counters). */
  virtioDisks(domid: number): Result<VirtioInspection[]>;
  /** The disk images (OPFS disks/) and the storage quota. */
  disks(): Promise<Result<DiskList>>;
  diskCreate(req: DiskCreateRequest): Promise<Result<DiskImageRow>>;
  /** Keep a file as an image, once the image layer has opened it (a refusal is one line). */
  diskUpload(name: string, bytes: Uint8Array): Promise<Result<DiskImageRow>>;
  diskDownload(name: string): Promise<Result<Uint8Array>>;
  /** Refused while a domain has it attached. */
  diskDelete(name: string): Promise<Result<null>>;
  /** The image layer's ByteStore rules run on a scratch file of the disks' directory (real OPFS handles in the browser). */
  diskSelfCheck(): Promise<Result<string>>;
  /** `xl save [-c] DOM`: the save file's bytes (without `checkpoint` the domain is destroyed once saved). */
  saveDomain(domid: number, checkpoint: boolean): Promise<Result<SavedDomain>>;
  /** `xl restore` of a save file's bytes; a bad file is refused in one line and nothing is built. */
  restoreDomain(bytes: Uint8Array, req: RestoreRequest): Promise<Result<RestoredDomain>>;
  /** The save files in OPFS snapshots/ and the storage quota. */
  snapshots(): Promise<Result<SnapshotList>>;
  /** `xl save -c DOM snapshots/NAME`: the domain runs on (default name: DOMAIN-DATE). */
  snapshotTake(domid: number, name?: string): Promise<Result<SnapshotRow>>;
  snapshotRestore(name: string, req: RestoreRequest): Promise<Result<RestoredDomain>>;
  snapshotDownload(name: string): Promise<Result<Uint8Array>>;
  snapshotDelete(name: string): Promise<Result<null>>;
  /** The other tabs of the origin that run a hypervisor (asked over a BroadcastChannel; those that answer within 300 ms). */
  migrationPeers(): Promise<Result<MigrationPeer[]>>;
  /** Live-migrate a domain to another tab (`peer`: its id); resolves once it runs there, with the rounds and the downtime. */
  migrateDomain(domid: number, peer: string): Promise<Result<MigrationStats>>;
  /** Live-migrate a domain to a Node host (`hyperlab host --listen-ws`, url ws://HOST:PORT). */
  migrateToHost(domid: number, url: string): Promise<Result<MigrationStats>>;
  /** Fetch a Node host's domain DOM (name or id) by live migration; resolves with its row here. */
  migrateFromHost(url: string, dom: string): Promise<Result<DomainRow>>;
  /** The translation tier of a domain's vCPUs (docs/jit.md): its counters; with `mode`, switch it (each vCPU at its next slice). */
  jit(domid: number, mode?: 'off' | 'on' | 'always'): Result<DomainJitStats>;
  /** One vCPU's hottest translations (default vCPU 0) with the guest's disassembly and the generated code; it answers at its next slice. */
  jitTranslations(domid: number, vcpu?: number): Promise<Result<JitDump>>;
}

/**
 * Every method of HypervisorApi, once: the calls the page forwards to the worker (and
 * `localPort` to an in-thread service). `satisfies` makes a method added to the type but
 * not here, or named here but not in the type, a compile error.
 */
export const HV_API_METHODS = {
  attach: true,
  createDomain: true,
  destroy: true,
  pause: true,
  unpause: true,
  shutdown: true,
  reboot: true,
  consoleInput: true,
  consoleHistory: true,
  xl: true,
  net: true,
  list: true,
  setSchedParams: true,
  pinVcpu: true,
  stats: true,
  inspect: true,
  memoryMap: true,
  vbds: true,
  virtioDisks: true,
  disks: true,
  diskCreate: true,
  diskUpload: true,
  diskDownload: true,
  diskDelete: true,
  diskSelfCheck: true,
  saveDomain: true,
  restoreDomain: true,
  snapshots: true,
  snapshotTake: true,
  snapshotRestore: true,
  snapshotDownload: true,
  snapshotDelete: true,
  migrationPeers: true,
  migrateDomain: true,
  migrateToHost: true,
  migrateFromHost: true,
  jit: true,
  jitTranslations: true,
} as const satisfies { readonly [K in keyof HypervisorApi]: true };

export type HvMethod = keyof typeof HV_API_METHODS;
export const HV_API_METHOD_NAMES = Object.keys(HV_API_METHODS) as readonly HvMethod[];
