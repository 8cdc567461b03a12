/**
 * The hypervisor as the page sees it: one Hypervisor and its Toolstack behind the
 * control plane of hvProtocol.ts. Host-agnostic: the vCPU host, the guest fetcher and the
 * clock come in as options, so Vitest runs it in Node with worker_threads vCPUs and the
 * browser runs it in workers/hypervisor.worker.ts with Web Worker vCPUs.
 *
 * What it adds to the core: console bytes and events in batches (eventBatcher.ts), xentop
 * rows about 10 times a second (domainRows.ts), Domain-0's files and commands
 * (dom0Files.ts, dom0Commands.ts), and a hard reset for guests that cannot reboot
 * themselves.
 */
import { Hypervisor, type VcpuHost } from '../../core/xen/common/hypervisor';
import { Toolstack } from '../../core/tools/toolstack';
import { parseCpus, runXl } from '../../core/tools/xl';
import type { DomainConfig } from '../../core/tools/xlConfig';
import { ImageError } from '../../core/loader/imageError';
import type { Domain } from '../../core/xen/common/domain';
import { inspectDomain, memoryMap } from '../../core/tools/inspect';
import type { SliceRecord } from '../../core/xen/common/sched/sliceTrace';
import { runDom0Command, splitWords } from './dom0Commands';
import { NetMonitor } from './netMonitor';
import { CaptureFiles, captureFileName } from './netCaptureFiles';
import { serveNet } from './netService';
import type { NetOp, NetReplies, NetRequestOf } from '../protocol/netTypes';
import { checkCreateRequest, configOf, lineOf } from './createRequest';
import { Dom0Files, fetchGuestFrom, type FetchGuest } from './dom0Files';
import { hostRow, RowSampler } from './domainRows';
import { domainJitStats, requestJitDump, requestJitMode } from '../../core/xen/vcpu/jitControl';
import { JIT_MODES } from '../../core/cpu/jit/engine';
import { defaultClock, EventBatcher, type BatchClock } from './eventBatcher';
import * as P from '../protocol/hvProtocol';
import { presetsFor } from '../protocol/presets';
import { DiskLibrary, type DiskTarget } from './diskLibrary';
import type { FileDirectory } from './opfsDir';
import { SnapshotLibrary } from './snapshotLibrary';
import { SnapshotService } from './snapshotService';
import { MigrateService } from './migrateService';
import type { BusLike } from './migrateBroadcast';
import type { WebSocketLike } from './migrateWebSocket';

export interface ServiceOptions {
  host: VcpuHost;
  memoryMiB: number;
  pcpus: number;
  scheduler?: 'credit' | 'rr';
  /** The translation tier's mode for every vCPU (default: defaultJitMode(), on). */
  jit?: 'off' | 'on' | 'always';
  icountShift?: number;
  /** Reads guests/FILE; default: fetch() under HypervisorInit.guestBaseUrl. */
  fetchGuest?: FetchGuest;
  clock?: BatchClock;
  /** Where disk images live (the browser: OPFS disks/, opfsDir.ts); without it domains get no disks. */
  diskDirectory?: () => Promise<FileDirectory>;
  /** Where `xl network-capture` writes its files (the browser: OPFS captures/, netCaptureFiles.ts). */
  captureDirectory?: () => Promise<FileDirectory>;
  /** Where snapshots and Domain-0's save files live (the browser: OPFS snapshots/); without it xl save/restore at Domain-0 are refused. */
  snapshotDirectory?: () => Promise<FileDirectory>;
  /** The bus to the other tabs' hypervisors (a BroadcastChannel, migrateBroadcast.ts); without it no tab-to-tab migration. */
  migrationBus?: () => BusLike;
  /** Opens a WebSocket to a Node host (default: the platform's WebSocket); for migrations to and from `hyperlab host --listen-ws`. */
  openWebSocket?: (url: string) => WebSocketLike;
}

export const STATS_MS = 100;
/** xl.cfg's limit on a domain name (a xenstore path element), which `uniqueName` keeps to. */
const MAX_DOMAIN_NAME = 64;
const PAUSE_SETTLE_MS = 5000;
/** States whose arrival or end the page hears at once, not at the next report. */
const NOTABLE = new Set(['paused', 'shutdown', 'crashed', 'dying']);

const fail = (error: string, line?: number): { ok: false; error: string; line?: number } => (line ? { ok: false, error, line } : { ok: false, error });
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class HypervisorService implements P.HypervisorApi {
  readonly hv: Hypervisor;
  readonly ts: Toolstack;
  readonly batcher: EventBatcher;
  private files = new Dom0Files([], [], () => Promise.reject(new Error('not attached')));
  private presets: P.PresetInfo[] = [];
  private readonly rows: RowSampler;
  private readonly clock: BatchClock;
  private readonly known = new Map<number, string>();
  private readonly restarts = new Map<number, number>();
  /** Guests being rebuilt after a reboot: name -> the domid they had. */
  private readonly pendingRestart = new Map<string, number>();
  private cancelStats: (() => void) | null = null;
  private statsQueued = false;
  /** Creates load their images side by side but build in the order they were asked for. */
  private createTurn: Promise<void> = Promise.resolve();
  private statsSeq = 0;
  /** `sliceTrace.total` when the last periodic report took its slices. */
  private slicesSent = 0;
  private fetchGuest: FetchGuest = () => Promise.reject(new Error('not attached'));
  private library: Promise<DiskLibrary> | null = null;
  /** The library once it exists (openDisk is synchronous; `prepare` made it first). */
  private disksNow: DiskLibrary | null = null;
  /** The network's instruments (packet lists, captures, counters) and capture files. */
  readonly netMonitor: NetMonitor;
  private readonly captureFiles: CaptureFiles | undefined;
  private snapshotLibrary: Promise<SnapshotLibrary> | null = null;
  /** Save, restore and snapshots (snapshotService.ts). */
  readonly snaps: SnapshotService;
  /** Live migration to other tabs (migrateService.ts). */
  readonly migration: MigrateService;

  constructor(private readonly opts: ServiceOptions) {
    this.clock = opts.clock ?? defaultClock;
    this.batcher = new EventBatcher(this.clock);
    this.hv = new Hypervisor({
      memoryMiB: opts.memoryMiB,
      pcpus: opts.pcpus,
      host: opts.host,
      scheduler: opts.scheduler ?? 'credit',
      ...(opts.jit !== undefined ? { jit: opts.jit } : {}),
      ...(opts.icountShift !== undefined ? { icountShift: opts.icountShift } : {}),
    });
    this.rows = new RowSampler(this.hv, opts.icountShift === undefined);
    this.ts = new Toolstack(this.hv, {
      readFile: (p) => this.files.readBytes(p),
      openDisk: (spec) => {
        if (!this.disksNow) throw new Error(`disk ${spec.vdev}: this host keeps no disk images`);
        return this.disksNow.openDisk(spec);
      },
    });
    this.snaps = new SnapshotService(
      this.ts,
      () => this.files,
      () => this.snapshotDir(),
      (base) => this.freeName(base),
      (disks) => this.prepareDisks(disks),
    );
    this.netMonitor = new NetMonitor(this.ts.nets);
    this.captureFiles = opts.captureDirectory ? new CaptureFiles(opts.captureDirectory) : undefined;
    this.migration = new MigrateService(
      this.ts,
      (notice) => this.batcher.event({ type: 'migration', notice }),
      opts.migrationBus,
      opts.openWebSocket,
      opts.diskDirectory ? () => this.diskLibrary() : undefined,
    );
    this.hv.on('domain', (domid) => this.onDomain(domid));
    this.hv.on('console', (domid, bytes) => this.batcher.consoleBytes(domid, bytes));
    this.hv.on('log', (line) => this.batcher.event({ type: 'log', lines: [line] }));
    this.hv.start();
  }

  attach(init: P.HypervisorInit, sink: P.HvSink): { host: P.HostRow; presets: readonly P.PresetInfo[] } {
    this.presets = presetsFor(init.catalog);
    const fetchGuest = this.opts.fetchGuest ?? fetchGuestFrom(init.guestBaseUrl);
    this.fetchGuest = fetchGuest;
    this.files = new Dom0Files(init.catalog, this.presets, fetchGuest);
    this.batcher.setSink(sink);
    this.cancelStats?.();
    const tick = (): void => {
      this.pushStats(true);
      this.cancelStats = this.clock.setTimer(tick, STATS_MS);
    };
    this.cancelStats = this.clock.setTimer(tick, STATS_MS);
    return { host: hostRow(this.hv), presets: this.presets };
  }

  /** Stop every domain and the scheduler (tests; a page just closes). */
  close(): void {
    this.cancelStats?.();
    this.migration.close();
    this.netMonitor.close();
    this.hv.shutdownHost();
    this.batcher.flush(true);
  }

  async createDomain(req: P.CreateRequest): Promise<P.Result<P.DomainRow>> {
    const shape = checkCreateRequest(req);
    if (!shape.ok) return shape;
    const upload = req.image ? this.files.addUpload(req.image.name, req.image.bytes) : undefined;
    const parsed = configOf(req, this.presets, upload);
    if (!parsed.ok) return parsed;
    const { text } = parsed.value;
    const { cfg } = parsed.value;
    let done!: () => void;
    const turn = this.createTurn;
    this.createTurn = new Promise((resolve) => (done = resolve));
    try {
      for (const key of ['kernel', 'ramdisk'] as const) {
        const path = cfg[key];
        if (path === undefined) continue;
        try {
          await this.files.load(path);
        } catch (e) {
          return fail(message(e), lineOf(text, key));
        }
      }
      let release = (): void => {};
      if (cfg.disk !== undefined && cfg.disk.length > 0) {
        try {
          if (req.preset !== undefined && req.config === undefined) await this.presetDisks(req.preset);
          release = await this.prepareDisks(cfg.disk);
        } catch (e) {
          return fail(`disk: ${message(e)}`, lineOf(text, 'disk'));
        }
      }
      try {
        await turn;
        if (req.uniqueName) cfg.name = this.freeName(cfg.name);
        return this.build(cfg, text);
      } finally {
        release();
      }
    } finally {
      void turn.then(done); // the next create waits for every earlier one
    }
  }

  private build(cfg: DomainConfig, text: string): P.Result<P.DomainRow> {
    try {
      const d = this.ts.createFrom(cfg);
      return { ok: true, value: this.rowOf(d) };
    } catch (e) {
      if (e instanceof ImageError) return fail(`${cfg.kernel.split('/').pop()}: ${e.message}`, lineOf(text, 'kernel'));
      const m = message(e);
      const key = /named/.test(m) ? 'name' : /vCPU/.test(m) ? 'vcpus' : /memory/.test(m) ? 'memory' : undefined;
      return fail(m, key && lineOf(text, key));
    }
  }

  destroy(domid: number): P.Result<null> {
    return this.attempt(() => {
      this.hv.destroyDomain(domid);
      return null;
    });
  }

  async pause(domid: number): Promise<P.Result<P.DomainRow>> {
    const r = this.attempt(() => this.hv.pauseDomain(domid));
    if (!r.ok) return r;
    // The slice in progress ends at the next look at the preempt flag (about a millisecond).
    const end = this.clock.now() + PAUSE_SETTLE_MS;
    while (this.hv.domains.get(domid)?.vcpus.some((v) => v.pcpu >= 0) && this.clock.now() < end) {
      await new Promise<void>((resolve) => this.clock.setTimer(resolve, 1));
    }
    return this.rowResult(domid);
  }

  unpause(domid: number): P.Result<P.DomainRow> {
    const r = this.attempt(() => this.hv.unpauseDomain(domid));
    return r.ok ? this.rowResult(domid) : r;
  }

  shutdown(domid: number): P.Result<null> {
    return this.attempt(() => {
      const d = this.hv.getDomain(domid);
      if (d.shutdownReason) throw new Error(`${d.name} is shut down already (${d.shutdownReason})`);
      this.xlSync(['shutdown', String(domid)]);
      return null;
    });
  }

  async reboot(domid: number): Promise<P.Result<number>> {
    return this.attempt(() => {
      const d = this.hv.getDomain(domid);
      if (d.pv && !d.shutdownReason) {
        this.xlSync(['reboot', String(domid)]); // the guest reboots itself; the toolstack restarts it
        return domid;
      }
      // No PV channel (hvm), or nothing left running: a hard reset from the same config and images.
      const cfg = d.config;
      this.hv.destroyDomain(domid);
      this.pendingRestart.set(cfg.name, domid);
      return this.ts.createFrom(cfg).domid;
    });
  }

  consoleInput(domid: number, bytes: Uint8Array): P.Result<null> {
    return this.attempt(() => {
      // The hypervisor queues what the guest has not taken yet (the pv ring, the UART's FIFO).
      this.hv.consoleInput(domid, bytes);
      return null;
    });
  }

  consoleHistory(domid: number): P.Result<Uint8Array> {
    return this.attempt(() => Uint8Array.from(this.hv.getDomain(domid).console));
  }

  async xl(line: string, stream?: number): Promise<P.XlOutput> {
    // `xl create teaching-os-pv-disk.cfg`: the preset's images are made first, as its create button does.
    const words = splitWords(line);
    if (words[0] === 'xl') words.shift();
    if (words[0] === 'create' && words[1] !== undefined) {
      const file = words[1]
        .split('/')
        .pop()!
        .replace(/\.cfg$/, '');
      if (this.presets.some((p) => p.name === file && p.disks)) {
        try {
          await this.presetDisks(file);
        } catch (e) {
          return { status: 1, output: `xl: disk: ${message(e)}` };
        }
      }
    }
    // xl save / xl restore: files in OPFS snapshots/ (snapshotService.ts).
    const saved = await this.snaps.dom0(words);
    if (saved) return saved;
    const files = this.captureFiles;
    const ran = await runDom0Command(this.ts, this.files, line, (disks) => this.prepareDisks(disks), {
      migrationChannel: (host) => this.migration.channelFor(host),
      ...(stream !== undefined ? { stream: (lines: string[]) => this.batcher.event({ type: 'dom0-lines', stream, lines }) } : {}),
      ...(files ? { writeFile: (path: string, bytes: Uint8Array) => files.write(path, bytes), checkFileName: captureFileName } : {}),
    });
    // `ls` lists the capture files too (OPFS captures/, written by xl network-capture).
    const captures = words.length === 1 && words[0] === 'ls' && ran.status === 0 && files ? await files.list().catch(() => []) : [];
    const out =
      captures.length === 0
        ? ran
        : { ...ran, output: [ran.output, ...captures.map((f) => `captures/${f.name}`.padEnd(40) + `${f.size}`.padStart(9))].join('\n') };
    // `ls` lists the disk images too (OPFS disks/), as disks/NAME with their file size.
    if (words.length === 1 && words[0] === 'ls' && out.status === 0 && this.opts.diskDirectory !== undefined) {
      try {
        const { images } = await (await this.diskLibrary()).list();
        const rows = images.map((i) => `disks/${i.name}`.padEnd(40) + `${i.fileSize}`.padStart(9));
        if (rows.length > 0) return { ...out, output: [out.output, ...rows].join('\n') };
      } catch {
        // no OPFS here: the files alone
      }
    }
    if (words.length === 1 && words[0] === 'ls' && out.status === 0 && this.opts.snapshotDirectory !== undefined) {
      try {
        const rows = (await this.snaps.list()).snapshots.map((r) => `snapshots/${r.name}`.padEnd(40) + `${r.size}`.padStart(9));
        if (rows.length > 0) return { ...out, output: [out.output, ...rows].join('\n') };
      } catch {
        // no OPFS here
      }
    }
    return out;
  }

  net<K extends NetOp>(req: NetRequestOf<K>): Promise<P.Result<NetReplies[K]>> {
    return this.attemptAsync(() => serveNet(this.netMonitor, this.captureFiles, req));
  }

  vbds(domid: number): P.Result<P.VbdInspection[]> {
    return this.attempt(() => {
      this.hv.getDomain(domid);
      return this.ts.disks.inspect(domid);
    });
  }

  virtioDisks(domid: number): P.Result<P.VirtioInspection[]> {
    return this.attempt(() => {
      this.hv.getDomain(domid);
      return this.ts.disks.inspectVirtio(domid);
    });
  }

  disks(): Promise<P.Result<P.DiskList>> {
    return this.attemptAsync(async () => {
      const lib = await this.diskLibrary();
      const attached: Record<string, string[]> = {};
      for (const d of this.hv.domains.values()) {
        for (const { spec } of [...this.ts.disks.of(d.domid), ...this.ts.disks.virtioOf(d.domid)]) {
          const key = lib.keyOf(spec.target);
          if (key !== undefined) (attached[key] ??= []).push(`${d.name} (${d.domid}) ${spec.vdev}`);
        }
      }
      const list = await lib.list();
      return { ...list, where: lib.location, attached };
    });
  }

  diskCreate(req: P.DiskCreateRequest): Promise<P.Result<P.DiskImageRow>> {
    return this.attemptAsync(async () => (await this.diskLibrary()).create(req));
  }

  diskUpload(name: string, bytes: Uint8Array): Promise<P.Result<P.DiskImageRow>> {
    return this.attemptAsync(async () => (await this.diskLibrary()).upload(name, bytes));
  }

  diskDownload(name: string): Promise<P.Result<Uint8Array>> {
    return this.attemptAsync(async () => (await this.diskLibrary()).download(name));
  }

  diskSelfCheck(): Promise<P.Result<string>> {
    return this.attemptAsync(async () => (await this.diskLibrary()).selfCheck());
  }

  diskDelete(name: string): Promise<P.Result<null>> {
    return this.attemptAsync(async () => {
      await (await this.diskLibrary()).remove(name);
      return null;
    });
  }

  // ---- save, restore, snapshots (snapshotService.ts) ----------------------------------

  saveDomain(domid: number, checkpoint: boolean): Promise<P.Result<P.SavedDomain>> {
    return this.attemptAsync(() => this.snaps.save(domid, checkpoint));
  }

  restoreDomain(bytes: Uint8Array, req: P.RestoreRequest): Promise<P.Result<P.RestoredDomain>> {
    return this.attemptAsync(async () => {
      const r = await this.snaps.restore(bytes, req);
      return { row: this.rowOf(this.hv.getDomain(r.domid)), message: r.message };
    });
  }

  snapshots(): Promise<P.Result<P.SnapshotList>> {
    return this.attemptAsync(() => this.snaps.list());
  }

  snapshotTake(domid: number, name?: string): Promise<P.Result<P.SnapshotRow>> {
    return this.attemptAsync(() => this.snaps.take(domid, name));
  }

  snapshotRestore(name: string, req: P.RestoreRequest): Promise<P.Result<P.RestoredDomain>> {
    return this.attemptAsync(async () => {
      const r = await this.snaps.restoreSnapshot(name, req);
      return { row: this.rowOf(this.hv.getDomain(r.domid)), message: r.message };
    });
  }

  snapshotDownload(name: string): Promise<P.Result<Uint8Array>> {
    return this.attemptAsync(() => this.snaps.download(name));
  }

  snapshotDelete(name: string): Promise<P.Result<null>> {
    return this.attemptAsync(async () => {
      await this.snaps.remove(name);
      return null;
    });
  }

  migrationPeers(): Promise<P.Result<P.MigrationPeer[]>> {
    return this.attemptAsync(() => this.migration.peers());
  }

  migrateDomain(domid: number, peer: string): Promise<P.Result<P.MigrationStats>> {
    return this.attemptAsync(() => this.migration.send(domid, peer));
  }

  migrateToHost(domid: number, url: string): Promise<P.Result<P.MigrationStats>> {
    return this.attemptAsync(() => this.migration.toHost(domid, url));
  }

  migrateFromHost(url: string, dom: string): Promise<P.Result<P.DomainRow>> {
    return this.attemptAsync(async () => this.rowOf(this.hv.getDomain(await this.migration.fromHost(url, dom))));
  }

  setSchedParams(domid: number, params: { weight?: number; cap?: number }): P.Result<P.DomainRow> {
    const r = this.attempt(() => this.hv.setSchedParams(domid, params));
    return r.ok ? this.rowResult(domid) : r;
  }

  pinVcpu(domid: number, vcpu: number, cpus: string): P.Result<P.DomainRow> {
    const r = this.attempt(() => this.hv.pinVcpu(domid, vcpu, parseCpus(cpus, this.hv.pcpus)));
    return r.ok ? this.rowResult(domid) : r;
  }

  list(): P.DomainRow[] {
    return [...this.hv.domains.values()].map((d) => this.rowOf(d));
  }

  stats(): P.StatsReport {
    return this.report(false);
  }

  inspect(domid: number): P.Result<P.DomainInspection> {
    return this.attempt(() => inspectDomain(this.hv, domid));
  }

  memoryMap(): P.MemoryMapView {
    return memoryMap(this.hv);
  }

  // ---- internals -------------------------------------------------------------------

  jit(domid: number, mode?: 'off' | 'on' | 'always'): P.Result<P.DomainJitStats> {
    return this.attempt(() => {
      const d = this.hv.getDomain(domid);
      if (mode !== undefined && !(JIT_MODES as readonly string[]).includes(mode)) throw new Error(`jit mode ${String(mode)}: expected off, on or always`);
      if (mode !== undefined) requestJitMode(d, mode);
      return domainJitStats(d, this.hv.jit);
    });
  }

  jitTranslations(domid: number, vcpu = 0): Promise<P.Result<P.JitDump>> {
    return this.attemptAsync(async () => {
      const v = this.hv.getDomain(domid).vcpus[vcpu];
      if (v === undefined) throw new Error(`domain ${domid} has no vCPU ${vcpu}`);
      return requestJitDump(v);
    });
  }

  private rowOf(d: Domain, sample = false): P.DomainRow {
    const row = { ...this.rows.row(d, this.restarts.get(d.domid) ?? 0, sample), jit: domainJitStats(d, this.hv.jit) };
    // pv disks (blkback) and hvm disks (virtio-blk) alike: xentop's VBD counters.
    const stats = this.ts.disks.statsOf(d.domid);
    if (stats.length === 0) return row;
    const vbd = { rdReq: 0, wrReq: 0, rdSect: 0, wrSect: 0 };
    for (const st of stats) {
      vbd.rdReq += st.rdReq;
      vbd.wrReq += st.wrReq;
      vbd.rdSect += st.rdSect;
      vbd.wrSect += st.wrSect;
    }
    return { ...row, vbd };
  }

  /** The disk library, made on first use (opening OPFS is asynchronous). */
  private diskLibrary(): Promise<DiskLibrary> {
    const dir = this.opts.diskDirectory;
    if (dir === undefined) return Promise.reject(new Error('this host keeps no disk images'));
    this.library ??= dir().then((d) => {
      this.disksNow = new DiskLibrary(d, (file) => this.fetchGuest(file));
      return this.disksNow;
    });
    return this.library;
  }

  /** OPFS snapshots/, opened on first use. */
  private snapshotDir(): Promise<SnapshotLibrary> {
    const dir = this.opts.snapshotDirectory;
    if (dir === undefined) return Promise.reject(new Error('this host keeps no save files (no snapshots/ directory)'));
    this.snapshotLibrary ??= dir().then((d) => new SnapshotLibrary(d));
    return this.snapshotLibrary;
  }

  /** Make the images a preset's disks name, where missing (PresetInfo.disks). */
  private async presetDisks(name: string): Promise<void> {
    const preset = this.presets.find((p) => p.name === name || `${p.name}.elf` === name);
    if (!preset?.disks) return;
    const lib = await this.diskLibrary();
    for (const d of preset.disks) if (!(await lib.has(d.name))) await lib.create(d);
  }

  /** Open what attaching `targets` needs (diskLibrary.ts); the release goes once the command is over. */
  private async prepareDisks(disks: readonly DiskTarget[]): Promise<() => void> {
    return (await this.diskLibrary()).prepare(disks);
  }

  private async attemptAsync<T>(op: () => Promise<T>): Promise<P.Result<T>> {
    try {
      return { ok: true, value: await op() };
    } catch (e) {
      return fail(message(e));
    }
  }

  private rowResult(domid: number): P.Result<P.DomainRow> {
    const d = this.hv.domains.get(domid);
    return d ? { ok: true, value: this.rowOf(d) } : fail(`no domain ${domid}`);
  }

  private attempt<T>(op: () => T): P.Result<T> {
    try {
      return { ok: true, value: op() };
    } catch (e) {
      return fail(message(e));
    }
  }

  /** shutdown and reboot go through xenstore: xl answers at once (or throws why not). */
  private xlSync(argv: string[]): void {
    runXl(this.ts, argv, { out: () => {}, readFile: () => '' });
  }

  /** `base`, or `base-2`, `base-3`... cut to stay within xl.cfg's 64 characters. */
  private freeName(base: string): string {
    const taken = new Set([...this.hv.domains.values()].map((d) => d.name));
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) {
      const name = `${base.slice(0, MAX_DOMAIN_NAME - `-${i}`.length)}-${i}`;
      if (!taken.has(name)) return name;
    }
  }

  private report(sample: boolean): P.StatsReport {
    const domains = [...this.hv.domains.values()].map((d) => this.rowOf(d, sample));
    // Only the periodic reports carry slices, so each slice reaches the page once.
    const slices = sample ? this.newSlices() : [];
    return { seq: ++this.statsSeq, host: hostRow(this.hv), domains, nowNs: this.hv.now(), slices, net: this.netMonitor.samples() };
  }

  /** The slices recorded since the last call (the ring keeps them in the order they ended). */
  private newSlices(): SliceRecord[] {
    const trace = this.hv.sliceTrace;
    const fresh = Math.min(trace.total - this.slicesSent, P.MAX_SLICES_PER_REPORT, trace.capacity);
    this.slicesSent = trace.total;
    if (fresh <= 0) return [];
    const all = trace.since(-Infinity);
    return all.slice(all.length - fresh);
  }

  private pushStats(sample: boolean): void {
    this.statsQueued = false;
    // What a guest printed before it shut down reaches the page before the report that says so.
    const ended = [...this.hv.domains.values()].filter((d) => d.shutdownReason !== null).map((d) => d.domid);
    this.batcher.event({ type: 'stats', report: this.report(sample) }, ...ended);
  }

  /** A domain changed (every slice end says so): announce arrivals and departures. */
  private onDomain(domid: number): void {
    const d = this.hv.domains.get(domid);
    const last = this.known.get(domid);
    if (!d) {
      if (last === undefined) return;
      this.known.delete(domid);
      this.rows.forget(domid);
      this.batcher.event({ type: 'destroyed', domid }, domid);
      this.batcher.forget(domid);
      return;
    }
    const state = d.state;
    if (last === undefined) {
      const restartOf = this.pendingRestart.get(d.name) ?? null;
      if (restartOf !== null) {
        this.pendingRestart.delete(d.name);
        this.restarts.set(domid, (this.restarts.get(restartOf) ?? 0) + 1);
      }
      this.known.set(domid, state);
      this.batcher.event({ type: 'created', row: this.rowOf(d), restartOf }, domid);
      return;
    }
    if (state !== last) {
      this.known.set(domid, state);
      if ((NOTABLE.has(state) || NOTABLE.has(last)) && !this.statsQueued) {
        this.statsQueued = true;
        this.clock.setTimer(() => this.pushStats(false), 0);
      }
    }
    if (d.shutdownReason) {
      const action = d.shutdownReason === 'crash' ? d.config.on_crash : d.shutdownReason === 'reboot' ? d.config.on_reboot : d.config.on_poweroff;
      if (action === 'restart') this.pendingRestart.set(d.name, domid); // the toolstack rebuilds it next
    }
  }
}
