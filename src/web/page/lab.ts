/**
 * The lab: the hypervisor worker behind one facade with a typed event map (the shape of
 * v86's V86 object). The UI's store and window.hyperlab are both views of it. It keeps,
 * per domain, the newest xentop row and the console log; everything else lives in the
 * worker. Until `connect` it runs nothing, and every control says why.
 */
import { ConsoleLog } from './consoleLog';
import { Emitter, type Unsubscribe } from './emitter';
import type { HvPort } from './hypervisorClient';
import type * as P from '../protocol/hvProtocol';
import type { NetOp, NetReplies, NetRequestOf } from '../protocol/netTypes';
import { StatsHistory } from './statsHistory';

/** Where a domain came from: a catalog image (preset), config text, an uploaded image, or Domain-0's xl. */
export type DomainOrigin = 'catalog' | 'config' | 'upload' | 'xl';

export interface DomainView {
  readonly domid: number;
  readonly name: string;
  readonly type: 'pv' | 'hvm';
  readonly origin: DomainOrigin;
  readonly row: P.DomainRow;
}

export interface LabEvents {
  'domain-added': { readonly domain: DomainView };
  'domain-removed': { readonly domid: number };
  /** New rows (a report, or a control's reply). */
  rows: { readonly domains: readonly DomainView[]; readonly host: P.HostRow | null };
  console: { readonly domid: number; readonly bytes: Uint8Array };
  /** The toolstack rebuilt a guest after a reboot: its console moved to the new domid. */
  restarted: { readonly from: number; readonly to: number };
  log: { readonly lines: readonly string[] };
  /** A periodic statistics report as it came (the graphs' and the scheduler view's data). */
  report: { readonly report: P.StatsReport };
  /** Disk images were created, uploaded, deleted or attached. */
  disks: Record<string, never>;
  /** Snapshots were taken, restored or deleted (OPFS snapshots/). */
  snapshots: Record<string, never>;
  /** A live migration reported progress (either side). */
  migration: { readonly notice: P.MigrationNotice };
}

export type LabPhase = { readonly phase: 'starting' } | { readonly phase: 'running' } | { readonly phase: 'failed'; readonly error: string };

/** What a terminal prints where a guest was rebooted into a new domain. */
export function restartMarker(from: number, to: number): Uint8Array {
  return new TextEncoder().encode(`\r\n\x1b[2m--- domain ${from} rebooted as domain ${to} ---\x1b[0m\r\n`);
}

interface Entry {
  view: DomainView;
  readonly console: ConsoleLog;
}

export class Lab {
  private port: HvPort | null = null;
  private readonly entries = new Map<number, Entry>();
  /** Logs of domains that went away, for the guest that comes back after a reboot. */
  private readonly retired = new Map<number, ConsoleLog>();
  private readonly gone = new Set<number>();
  private readonly events = new Emitter<LabEvents>();
  private readonly origins = new Map<number, DomainOrigin>();
  /** Domain-0 commands whose lines come as they are printed ('dom0-lines' events), by stream id. */
  private readonly streams = new Map<number, (lines: readonly string[]) => void>();
  private nextStream = 1;
  phase: LabPhase = { phase: 'starting' };
  host: P.HostRow | null = null;
  presets: readonly P.PresetInfo[] = [];
  /** The last minute of reports and ten seconds of scheduler slices (graphs, scheduler view). */
  readonly history = new StatsHistory();
  /** The last migration notices (both sides), oldest first. */
  readonly migrations: P.MigrationNotice[] = [];

  on<K extends keyof LabEvents>(type: K, listener: (payload: LabEvents[K]) => void): Unsubscribe {
    return this.events.on(type, listener);
  }

  /** Attach to a running hypervisor. */
  async connect(port: HvPort, init: P.HypervisorInit): Promise<void> {
    this.port = port;
    const { host, presets } = await port.attach(init, (events) => this.receive(events));
    this.host = host;
    this.presets = presets;
    this.phase = { phase: 'running' };
    this.events.emit('rows', { domains: this.domains(), host });
  }

  fail(error: string): void {
    this.phase = { phase: 'failed', error };
    this.events.emit('rows', { domains: [], host: null });
  }

  domains(): DomainView[] {
    return [...this.entries.values()].map((e) => e.view).sort((a, b) => a.domid - b.domid);
  }

  /** A domain by id; throws for an unknown one. */
  domain(domid: number): DomainView {
    return this.entry(domid).view;
  }

  has(domid: number): boolean {
    return this.entries.has(domid);
  }

  console(domid: number): ConsoleLog {
    return this.entry(domid).console;
  }

  async create(req: P.CreateRequest, origin: DomainOrigin): Promise<P.Result<DomainView>> {
    const r = await this.hv().createDomain(req);
    if (!r.ok) return r;
    this.origins.set(r.value.domid, origin);
    return { ok: true, value: this.upsert(r.value, origin) };
  }

  /** Removes the domain from the lab at once; the worker frees it. */
  async destroy(domid: number): Promise<P.Result<null>> {
    this.entry(domid);
    this.remove(domid);
    return this.hv().destroy(domid);
  }

  pause(domid: number): Promise<P.Result<P.DomainRow>> {
    return this.control(domid, () => this.hv().pause(domid));
  }

  unpause(domid: number): Promise<P.Result<P.DomainRow>> {
    return this.control(domid, () => this.hv().unpause(domid));
  }

  shutdown(domid: number): Promise<P.Result<null>> {
    this.entry(domid);
    return this.hv().shutdown(domid);
  }

  /** Resolves with the domid the guest runs as afterwards (a new one after a hard reset). */
  reboot(domid: number): Promise<P.Result<number>> {
    this.entry(domid);
    return this.hv().reboot(domid);
  }

  sendInput(domid: number, data: string | Uint8Array): Promise<P.Result<null>> {
    this.entry(domid);
    return this.hv().consoleInput(domid, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  /** A Domain-0 command; `onLines` hears the lines of one that finishes later (ping, tcpdump) as they come. */
  async xl(line: string, onLines?: (lines: readonly string[]) => void): Promise<P.XlOutput> {
    if (!onLines) return this.hv().xl(line);
    const id = this.nextStream++;
    this.streams.set(id, onLines);
    try {
      return await this.hv().xl(line, id);
    } finally {
      this.streams.delete(id);
    }
  }

  /** The virtual network (netTypes.ts): the Network tab, the graphs' interface lines, window.hyperlab.net. */
  net<K extends NetOp>(req: NetRequestOf<K>): Promise<P.Result<NetReplies[K]>> {
    // The port's mapped type loses the method's type parameter: the worker answers the request's op.
    return this.hv().net(req) as Promise<P.Result<NetReplies[K]>>;
  }

  setSchedParams(domid: number, params: { weight?: number; cap?: number }): Promise<P.Result<P.DomainRow>> {
    return this.control(domid, () => this.hv().setSchedParams(domid, params));
  }

  pinVcpu(domid: number, vcpu: number, cpus: string): Promise<P.Result<P.DomainRow>> {
    return this.control(domid, () => this.hv().pinVcpu(domid, vcpu, cpus));
  }

  /** The inspectors' view of a domain (0: Domain-0). */
  inspect(domid: number): Promise<P.Result<P.DomainInspection>> {
    if (domid !== 0) this.entry(domid);
    return this.hv().inspect(domid);
  }

  memoryMap(): Promise<P.MemoryMapView> {
    return this.hv().memoryMap();
  }

  /** The vbd inspector's data: a domain's virtual disks. */
  vbds(domid: number): Promise<P.Result<P.VbdInspection[]>> {
    this.entry(domid);
    return this.hv().vbds(domid);
  }

  /** The virtio-blk inspector's data: an hvm domain's disks. */
  virtioDisks(domid: number): Promise<P.Result<P.VirtioInspection[]>> {
    this.entry(domid);
    return this.hv().virtioDisks(domid);
  }

  /** The translation tier of a domain: its counters, and with `mode` the switch (docs/jit.md). */
  jit(domid: number, mode?: 'off' | 'on' | 'always'): Promise<P.Result<P.DomainJitStats>> {
    this.entry(domid);
    return this.hv().jit(domid, mode);
  }

  /** The translation inspector's data: one vCPU's hottest translations. */
  jitTranslations(domid: number, vcpu?: number): Promise<P.Result<P.JitDump>> {
    this.entry(domid);
    return this.hv().jitTranslations(domid, vcpu);
  }

  // Disk images (OPFS disks/ in the hypervisor worker): the Disks panel and window.hyperlab.disks.
  disks(): Promise<P.Result<P.DiskList>> {
    return this.hv().disks();
  }

  diskCreate(req: P.DiskCreateRequest): Promise<P.Result<P.DiskImageRow>> {
    return this.changed(this.hv().diskCreate(req));
  }

  diskUpload(name: string, bytes: Uint8Array): Promise<P.Result<P.DiskImageRow>> {
    return this.changed(this.hv().diskUpload(name, bytes));
  }

  diskDownload(name: string): Promise<P.Result<Uint8Array>> {
    return this.hv().diskDownload(name);
  }

  diskSelfCheck(): Promise<P.Result<string>> {
    return this.hv().diskSelfCheck();
  }

  diskDelete(name: string): Promise<P.Result<null>> {
    return this.changed(this.hv().diskDelete(name));
  }

  /** `xl block-attach DOMID NAME,FORMAT,VDEV,ACCESS` (the image's format as the panel knows it). */
  diskAttach(domid: number, name: string, format: 'raw' | 'qcow2', vdev: string, access: 'rw' | 'ro' = 'rw'): Promise<P.Result<null>> {
    return this.changed(
      this.hv()
        .xl(`xl block-attach ${domid} format=${format},vdev=${vdev},access=${access},target=${name}`)
        .then((r): P.Result<null> => (r.status === 0 ? { ok: true, value: null } : { ok: false, error: r.output.replace(/^xl: /, '') })),
    );
  }

  // Save, restore and snapshots (the worker's snapshotService.ts): the Snapshots panel and window.hyperlab.
  saveDomain(domid: number, checkpoint: boolean): Promise<P.Result<P.SavedDomain>> {
    this.entry(domid);
    return this.hv().saveDomain(domid, checkpoint);
  }

  restoreDomain(bytes: Uint8Array, req: P.RestoreRequest = {}): Promise<P.Result<P.RestoredDomain>> {
    return this.restored(this.hv().restoreDomain(bytes, req));
  }

  snapshots(): Promise<P.Result<P.SnapshotList>> {
    return this.hv().snapshots();
  }

  async snapshotTake(domid: number, name?: string): Promise<P.Result<P.SnapshotRow>> {
    this.entry(domid);
    const r = await this.hv().snapshotTake(domid, name);
    this.events.emit('snapshots', {});
    return r;
  }

  snapshotRestore(name: string, req: P.RestoreRequest = {}): Promise<P.Result<P.RestoredDomain>> {
    return this.restored(this.hv().snapshotRestore(name, req));
  }

  snapshotDownload(name: string): Promise<P.Result<Uint8Array>> {
    return this.hv().snapshotDownload(name);
  }

  async snapshotDelete(name: string): Promise<P.Result<null>> {
    const r = await this.hv().snapshotDelete(name);
    this.events.emit('snapshots', {});
    return r;
  }

  /** Other tabs to migrate to. */
  migrationPeers(): Promise<P.Result<P.MigrationPeer[]>> {
    return this.hv().migrationPeers();
  }

  migrateDomain(domid: number, peer: string): Promise<P.Result<P.MigrationStats>> {
    this.entry(domid);
    return this.hv().migrateDomain(domid, peer);
  }

  migrateToHost(domid: number, url: string): Promise<P.Result<P.MigrationStats>> {
    this.entry(domid);
    return this.hv().migrateToHost(domid, url);
  }

  async migrateFromHost(url: string, dom: string): Promise<P.Result<P.DomainRow>> {
    const r = await this.hv().migrateFromHost(url, dom);
    if (r.ok) {
      this.upsert(r.value, 'xl');
      this.events.emit('rows', { domains: this.domains(), host: this.host });
    }
    return r;
  }

  /** A restored domain is in the lab when the call resolves (its 'created' event may still be on its way). */
  private async restored(op: Promise<P.Result<P.RestoredDomain>>): Promise<P.Result<P.RestoredDomain>> {
    const r = await op;
    if (r.ok) {
      this.upsert(r.value.row, 'xl');
      this.events.emit('rows', { domains: this.domains(), host: this.host });
    }
    this.events.emit('snapshots', {});
    return r;
  }

  /** Say that the disk images changed (the Disks panel lists them again). */
  private async changed<T>(op: Promise<P.Result<T>>): Promise<P.Result<T>> {
    const r = await op;
    this.events.emit('disks', {});
    return r;
  }

  private hv(): HvPort {
    if (this.port) return this.port;
    throw new Error(this.phase.phase === 'failed' ? `the hypervisor is not running: ${this.phase.error}` : 'the hypervisor is still starting');
  }

  private entry(domid: number): Entry {
    const e = this.entries.get(domid);
    if (!e) throw new Error(`no domain with id ${domid}`);
    return e;
  }

  private async control(domid: number, op: () => Promise<P.Result<P.DomainRow>>): Promise<P.Result<P.DomainRow>> {
    this.entry(domid);
    const r = await op();
    if (r.ok && this.entries.has(domid)) {
      this.upsert(r.value, 'xl');
      this.events.emit('rows', { domains: this.domains(), host: this.host });
    }
    return r;
  }

  /** Add a domain, or take a newer row for one; returns its view. */
  private upsert(row: P.DomainRow, origin: DomainOrigin, restartOf: number | null = null): DomainView {
    const e = this.entries.get(row.domid);
    if (e) {
      if (row.seq > e.view.row.seq) e.view = { ...e.view, row, name: row.name };
      return e.view;
    }
    if (this.gone.has(row.domid)) return { domid: row.domid, name: row.name, type: row.type, origin, row };
    const log = (restartOf !== null ? this.retired.get(restartOf) : undefined) ?? new ConsoleLog();
    if (restartOf !== null && this.retired.delete(restartOf)) log.startBoot(restartMarker(restartOf, row.domid));
    const view: DomainView = {
      domid: row.domid,
      name: row.name,
      type: row.type,
      origin: this.origins.get(row.domid) ?? (restartOf !== null ? this.origins.get(restartOf) : undefined) ?? origin,
      row,
    };
    this.entries.set(row.domid, { view, console: log });
    this.events.emit('domain-added', { domain: view });
    if (restartOf !== null) this.events.emit('restarted', { from: restartOf, to: row.domid });
    return view;
  }

  private remove(domid: number): void {
    const e = this.entries.get(domid);
    if (!e) return;
    this.entries.delete(domid);
    this.gone.add(domid);
    this.retired.set(domid, e.console);
    if (this.retired.size > 16) this.retired.delete(this.retired.keys().next().value!);
    this.events.emit('domain-removed', { domid });
  }

  private receive(events: readonly P.HvEvent[]): void {
    let rows = false;
    for (const ev of events) {
      switch (ev.type) {
        case 'console': {
          const e = this.entries.get(ev.domid);
          if (!e) break;
          e.console.append(ev.bytes);
          this.events.emit('console', { domid: ev.domid, bytes: ev.bytes });
          break;
        }
        case 'created':
          this.upsert(ev.row, 'xl', ev.restartOf);
          break;
        case 'destroyed':
          this.remove(ev.domid);
          break;
        case 'stats':
          this.host = ev.report.host;
          for (const row of ev.report.domains) if (this.entries.has(row.domid)) this.upsert(row, 'xl');
          rows = true;
          this.history.add(ev.report);
          this.events.emit('report', { report: ev.report });
          break;
        case 'log':
          this.events.emit('log', { lines: ev.lines });
          break;
        case 'migration':
          this.migrations.push(ev.notice);
          if (this.migrations.length > 500) this.migrations.splice(0, this.migrations.length - 500);
          this.events.emit('migration', { notice: ev.notice });
          break;
        case 'dom0-lines':
          this.streams.get(ev.stream)?.(ev.lines);
          break;
      }
    }
    if (rows) this.events.emit('rows', { domains: this.domains(), host: this.host });
  }
}
