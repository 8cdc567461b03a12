/**
 * Live migration in the browser's hypervisor worker: `xl migrate` to another tab of the
 * origin (migrateBroadcast.ts), with the core's sender and receiver (live/send.ts,
 * live/receive.ts: log-dirty pre-copy rounds, Xen xl's handshake, NAME--migratedaway and
 * NAME--incoming during the move, the source resumed on any failure before the handover).
 *
 * Every tab is a receiver, as a host running `xl migrate-receive` behind ssh is: a channel
 * another tab opens to this one starts migrateReceive at once. What either side reports
 * (phases, each round's pages and dirty pages, the final statistics) goes to the page as
 * `migration` notices, for the migration view.
 *
 * Disks are shared storage between tabs (one origin's OPFS), but an OPFS file has one access
 * handle at a time: the source hands its domain's images over at the pause point (flushed
 * and closed, diskLibrary.ts `handOver`), the target opens them once the stream is in,
 * waiting up to HANDLE_WAIT_MS for them, and builds; if the migration fails the source takes
 * them back before its domain runs on. Network interfaces re-attach to the target tab's
 * bridge of the same name (restore.ts), which announces the guest's MAC (announce.ts).
 */
import type { Toolstack } from '../../core/tools/toolstack';
import type { DomainConfig } from '../../core/tools/xlConfig';
import type { MigrationChannel } from '../../core/tools/migration/live/channel';
import type { MigrateSendOptions, MigrationEvent, MigrationStats } from '../../core/tools/migration/live/progress';
import { migrateReceive } from '../../core/tools/migration/live/receive';
import { checkMigratable, migrateSend } from '../../core/tools/migration/live/send';
import type { MigrationNotice, MigrationPeer } from '../protocol/hvProtocol';
import { MigrationBus, type BroadcastMigrationChannel, type BusLike } from './migrateBroadcast';
import { WebSocketChannel, type WebSocketLike } from './migrateWebSocket';
import type { DiskLibrary } from './diskLibrary';

/** How long either side waits for the other's next message: a closed tab never says goodbye. */
const MIGRATE_TIMEOUT_MS = 20_000;
/**
 * A page's OPFS and a Node host's files are not one storage: a disk named the same on both
 * would be two different images. Until --copy-storage carries them, such a move is refused.
 */
const NO_SHARED_STORAGE = 'the domain has disks, and a page and a Node host share no storage (--copy-storage is not done in the browser)';
/** How long either side waits for a disk's handle the other tab still holds. */
export const HANDLE_WAIT_MS = 10_000;

const line = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export class MigrateService {
  private readonly bus: MigrationBus | null;
  private readonly labels = new Map<string, string>();

  constructor(
    private readonly ts: Toolstack,
    private readonly notify: (n: MigrationNotice) => void,
    openBus?: () => BusLike,
    private readonly openWebSocket: (url: string) => WebSocketLike = (url) => {
      const W = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
      if (!W) throw new Error('this host has no WebSocket');
      return new W(url);
    },
    /** The tab's disk images (absent: a host that keeps none, whose domains have no disks). */
    private readonly disks?: () => Promise<DiskLibrary>,
  ) {
    let bus: MigrationBus | null = null;
    try {
      if (openBus)
        bus = new MigrationBus(
          openBus(),
          () => ({ label: '', domains: ts.hv.domains.size }),
          (ch) => this.incoming(ch),
        );
    } catch {
      bus = null; // no BroadcastChannel here: no tab-to-tab migration
    }
    this.bus = bus;
  }

  /** This hypervisor's id on the bus (the other tabs list it by it). */
  get id(): string | null {
    return this.bus?.id ?? null;
  }

  /** The other tabs of the origin running a hypervisor. */
  async peers(): Promise<MigrationPeer[]> {
    if (!this.bus) throw new Error('this host has no BroadcastChannel: no other tabs to migrate to');
    const peers = await this.bus.peers();
    for (const p of peers) this.labels.set(p.id, `tab ${p.id.slice(0, 4)}`);
    return peers.map((p) => ({ id: p.id, label: `tab ${p.id.slice(0, 4)}`, domains: p.domains }));
  }

  /** `xl migrate DOM tab:ID`: resolves with the statistics once the other tab runs it (this copy is gone). */
  async send(domid: number, peer: string, timeoutMs = MIGRATE_TIMEOUT_MS): Promise<MigrationStats> {
    if (!this.bus) throw new Error('this host has no BroadcastChannel: no other tabs to migrate to');
    const d = this.ts.hv.getDomain(domid);
    checkMigratable(this.ts, d);
    const ch = this.bus.open(peer);
    const session = ch.session;
    const tell = (event: MigrationEvent): void => this.notify({ session, side: 'send', peer: this.labels.get(peer) ?? `tab ${peer.slice(0, 4)}`, event });
    const lib = this.diskTargets(domid).length > 0 ? await this.library() : null;
    const given: string[] = [];
    try {
      const stats = await migrateSend(this.ts, d, ch, { onProgress: tell, timeoutMs, ...(lib ? this.handover(lib, domid, given) : {}) });
      lib?.forget(given); // the other tab runs the domain, on these files
      return stats;
    } catch (e) {
      tell({ kind: 'phase', side: 'send', phase: 'failed', domid, name: d.name, message: line(e) });
      // The core's messages name the domain already ("migration of domain N (NAME) failed, resumed at sender: ...").
      throw new Error(line(e).startsWith('migration of domain') ? line(e) : `migration of domain ${domid} (${d.name}) failed: ${line(e)}`, { cause: e });
    } finally {
      ch.close();
    }
  }

  /** `xl migrate DOM HOST` to a Node host's `--listen-ws` (url ws://HOST:PORT): this side sends. */
  async toHost(domid: number, url: string, timeoutMs = MIGRATE_TIMEOUT_MS): Promise<MigrationStats> {
    const d = this.ts.hv.getDomain(domid);
    checkMigratable(this.ts, d);
    if (this.diskTargets(domid).length > 0) throw new Error(`migration of domain ${domid} (${d.name}) to ${url}: ${NO_SHARED_STORAGE}`);
    const ch = await this.connect(url, 'push');
    const session = `ws-${Date.now().toString(36)}`;
    const tell = (event: MigrationEvent): void => this.notify({ session, side: 'send', peer: url, event });
    try {
      return await migrateSend(this.ts, d, ch, { onProgress: tell, timeoutMs });
    } catch (e) {
      tell({ kind: 'phase', side: 'send', phase: 'failed', domid, name: d.name, message: line(e) });
      throw new Error(`migration of domain ${domid} (${d.name}) to ${url} failed: ${line(e)}`, { cause: e });
    } finally {
      ch.close();
    }
  }

  /** Ask the Node host at `url` to migrate its domain `dom` here; resolves with the new domid. */
  async fromHost(url: string, dom: string): Promise<number> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(dom)) throw new Error(`${JSON.stringify(dom.slice(0, 70))}: not a domain name or id`);
    const ch = await this.connect(url, `pull ${dom}`);
    const session = `ws-${Date.now().toString(36)}`;
    const tell = (event: MigrationEvent): void => this.notify({ session, side: 'receive', peer: url, event });
    try {
      const prepare = (cfg: DomainConfig): Promise<undefined> =>
        (cfg.disk ?? []).length > 0 ? Promise.reject(new Error(NO_SHARED_STORAGE)) : Promise.resolve(undefined);
      return (await migrateReceive(this.ts, ch, { onProgress: tell, timeoutMs: MIGRATE_TIMEOUT_MS, prepare })).domid;
    } catch (e) {
      tell({ kind: 'phase', side: 'receive', phase: 'failed', domid: -1, name: dom, message: line(e) });
      throw new Error(`migration of ${dom} from ${url} failed: ${line(e)}`, { cause: e });
    } finally {
      ch.close();
    }
  }

  /**
   * `xl migrate DOM HOST` at Domain-0's prompt: HOST is `tab:ID` (another tab; the first
   * characters of its id, as the Migration panel lists it) or `ws://HOST:PORT` (a Node host's
   * --listen-ws). The core's xl migrate then runs the sender over it and prints xl's lines.
   */
  async channelFor(host: string): Promise<MigrationChannel> {
    if (/^wss?:\/\//.test(host)) {
      const ws = await this.connect(host, 'push');
      const session = `ws-${Date.now().toString(36)}`;
      // The migration view shows it as it shows the panel's.
      return Object.assign(ws, {
        senderHooks: (domid: number) => {
          if (this.diskTargets(domid).length > 0) {
            ws.close(NO_SHARED_STORAGE);
            throw new Error(`migrate: ${NO_SHARED_STORAGE}`);
          }
          return { onProgress: (event: MigrationEvent) => this.notify({ session, side: 'send' as const, peer: host, event }) };
        },
      });
    }
    const m = /^tab:([0-9a-f]{1,12})$/.exec(host);
    if (!m) throw new Error(`migrate: ${host}: name another tab as tab:ID (see the Migration panel) or a Node host as ws://HOST:PORT`);
    if (!this.bus) throw new Error('migrate: this host has no BroadcastChannel: no other tabs');
    const found = (await this.bus.peers()).filter((p) => p.id.startsWith(m[1]!));
    if (found.length !== 1)
      throw new Error(`migrate: ${host}: ${found.length === 0 ? 'no such tab answers' : 'more than one tab has that id; give more of it'}`);
    const lib = this.disks ? await this.disks().catch(() => null) : null; // no disk library: no domain here has disks
    const ch = this.bus.open(found[0]!.id);
    const peer = `tab ${found[0]!.id.slice(0, 4)}`;
    // xl migrate passes these on: the domain's disks go to the other tab at the pause point (their
    // entries close with the domain), and the migration view shows it as it shows the panel's.
    return Object.assign(ch, {
      senderHooks: (domid: number): Pick<MigrateSendOptions, 'onStopped' | 'onResumed' | 'onProgress'> => ({
        ...(lib ? this.handover(lib, domid, []) : {}),
        onProgress: (event: MigrationEvent) => this.notify({ session: ch.session, side: 'send', peer, event }),
      }),
    });
  }

  /** The sender's pause-point hooks for a domain's disks: hand the images to the other tab; on a resume, take them back. */
  private handover(lib: DiskLibrary, domid: number, given: string[]): Pick<MigrateSendOptions, 'onStopped' | 'onResumed'> {
    const targets = this.diskTargets(domid);
    if (targets.length === 0) return {};
    return { onStopped: () => lib.handOver(targets, given), onResumed: () => lib.takeBack(given, HANDLE_WAIT_MS) };
  }

  close(): void {
    this.bus?.close();
  }

  /** The images of a domain's disks (blkback's and virtio-blk's). */
  private diskTargets(domid: number): string[] {
    return [...this.ts.disks.of(domid), ...this.ts.disks.virtioOf(domid)].map((x) => x.spec.target);
  }

  private library(): Promise<DiskLibrary> {
    if (!this.disks) return Promise.reject(new Error('the domain has disks and this host keeps no disk images'));
    return this.disks();
  }

  /** A WebSocket to a Node host, open, with the request sent. */
  private async connect(url: string, request: string): Promise<WebSocketChannel> {
    if (!/^wss?:\/\/[^\s]+$/.test(url))
      throw new Error(`${JSON.stringify(url.slice(0, 80))}: a Node host is reached at ws://HOST:PORT (hyperlab host --listen-ws PORT)`);
    const ch = new WebSocketChannel(this.openWebSocket(url));
    try {
      await ch.opened();
    } catch (e) {
      throw new Error(`${url}: ${line(e)} (is hyperlab host --listen-ws running there?)`, { cause: e });
    }
    ch.sendText(request);
    return ch;
  }

  private incoming(ch: BroadcastMigrationChannel): void {
    const peer = `tab ${ch.peer.slice(0, 4)}`;
    const tell = (event: MigrationEvent): void => this.notify({ session: ch.session, side: 'receive', peer, event });
    void this.receive(ch, tell);
  }

  private async receive(ch: MigrationChannel, tell: (e: MigrationEvent) => void): Promise<void> {
    let lib: DiskLibrary | null = null;
    try {
      await migrateReceive(this.ts, ch, {
        onProgress: tell,
        timeoutMs: MIGRATE_TIMEOUT_MS,
        // Once the stream is in, the sender has handed its disks over: open them (waiting for it if it is slow to let go).
        prepare: async (cfg) => {
          const disks = (cfg.disk ?? []).map((s) => ({ target: s.target }));
          if (disks.length === 0) return undefined;
          lib = await this.library();
          return lib.prepare(disks, HANDLE_WAIT_MS);
        },
      });
    } catch (e) {
      // The sender takes its disks back: close ours now rather than after the grace period.
      (lib as DiskLibrary | null)?.dropIdle();
      tell({ kind: 'phase', side: 'receive', phase: 'failed', domid: -1, name: '', message: line(e) });
    } finally {
      ch.close();
    }
  }
}
