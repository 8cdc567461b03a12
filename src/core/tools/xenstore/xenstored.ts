/**
 * xenstored: the store daemon that Domain-0 runs. It owns the database, the connections
 * (one ring per introduced domain, and any number of in-process connections for the
 * toolstack and backends in JavaScript), and delivers watch events.
 *
 * Everything is synchronous and single-threaded: the hypervisor calls `kick(domid)` when
 * a domain notifies its xenstore event channel, and xenstored calls that domain's `notify`
 * when it has consumed requests or produced replies (the hypervisor turns it into an event
 * channel send). The in-process API (XsHandle, from `connect`) is async only in shape, so
 * that it may later move behind a worker boundary; its watch callbacks run in a microtask
 * after the change, never inside xenstored.
 *
 * Nothing a guest writes can make xenstored throw or loop: see domain.ts and dispatch.ts.
 * Misuse of the JavaScript API (introducing a domain twice, say) throws XenstoreError.
 */
import type { XsConnection, XsConnectionSink } from './connection';
import { XsConnection as Connection } from './connection';
import { processMessage, type XsDaemon } from './dispatch';
import { XsDomain } from './domain';
import { xsFail } from './errors';
import { XsHandle } from './handle';
import { XS_INTRODUCE_DOMAIN, XS_RELEASE_DOMAIN } from './path';
import type { XsCaller } from './perms';
import { XS_DEFAULT_QUOTA, type XsQuota } from './quota';
import type { SharedPage } from './ring';
import { XsStore, type XsTreeNode } from './store';
import { eventPath, matchWatch, type XsChange, type XsWatch } from './watch';
import type { XsMessage } from './wire';

/** What xenstored needs from the hypervisor for INTRODUCE requests that arrive as messages. */
export interface XenstoredHost {
  /**
   * Map the ring page `gfn` of `domid` and bind to its unbound event channel `evtchn`
   * (Xen's map_interface + bind_interdomain); undefined if that fails (EINVAL).
   */
  mapRing?(domid: number, gfn: number, evtchn: number): { page: SharedPage; notify: () => void } | undefined;
  log?(msg: string): void;
}

export interface XenstoredOptions {
  quota?: Partial<XsQuota>;
  host?: XenstoredHost;
}

/** A domain's connection, for the inspector. */
export interface XsDomainInfo {
  readonly domid: number;
  readonly watches: number;
  readonly transactions: number;
  /** Nodes it owns. */
  readonly nodes: number;
  /** Replies and events waiting for room in its ring. */
  readonly queued: number;
  readonly droppedEvents: number;
  /** Its ring was shut down by a protocol error. */
  readonly failed: boolean;
  readonly target: number | undefined;
}

/** Domain ids that name real domains (below DOMID_FIRST_RESERVED). */
const DOMID_FIRST_RESERVED = 0x7ff0;

export class Xenstored implements XsDaemon {
  readonly store = new XsStore();
  readonly quota: Readonly<XsQuota>;
  private readonly host: XenstoredHost;
  private readonly conns = new Set<XsConnection>();
  private readonly domains = new Map<number, XsDomain>();
  private readonly targets = new Map<number, number>();
  private readonly dirty = new Set<XsDomain>();
  private nextConnId = 1;
  private depth = 0;

  constructor(opts: XenstoredOptions = {}) {
    this.quota = Object.freeze({ ...XS_DEFAULT_QUOTA, ...opts.quota });
    this.host = opts.host ?? {};
  }

  /** A new in-process connection acting as `domid` (dom0, the toolstack, by default). */
  connect(domid = 0): XsHandle {
    return new XsHandle(this, domid);
  }

  /** Open a connection with its own sink (XsHandle uses this). */
  openConnection(domid: number, sink: XsConnectionSink): XsConnection {
    const conn = new Connection(this.nextConnId++, domid, sink);
    this.conns.add(conn);
    return conn;
  }

  closeConnection(conn: XsConnection): void {
    conn.reset();
    conn.closed = true;
    this.conns.delete(conn);
  }

  /** Process one request from an in-process connection; its reply goes to the sink. */
  request(conn: XsConnection, msg: XsMessage): void {
    if (conn.closed) return;
    this.topLevel(() => processMessage(this, conn, msg));
  }

  /** Introduce `domid` with its ring page and event channel notifier. */
  introduceDomain(domid: number, page: SharedPage, notify: () => void): void {
    checkDomid(domid);
    if (this.domains.has(domid)) xsFail('EEXIST', `dom${domid} already introduced`);
    this.topLevel(() => this.attach(domid, page, notify), false);
  }

  /** Forget `domid` (RELEASE): its watches and transactions go, @releaseDomain fires. */
  releaseDomain(domid: number): void {
    this.topLevel(() => this.release(domid), false);
  }

  /** The domain shut down or crashed: fire @releaseDomain, once until RESUME. */
  notifyDomainShutdown(domid: number): void {
    const d = this.domains.get(domid);
    if (!d || d.shutdownNotified) return;
    d.shutdownNotified = true;
    this.topLevel(() => this.fireSpecial(XS_RELEASE_DOMAIN));
  }

  isDomainIntroduced(domid: number): boolean {
    return this.isIntroduced(domid);
  }

  /** The watches of an introduced domain's connection (save: WATCH_DATA of Xen's xenstore migration format). */
  domainWatches(domid: number): XsWatch[] {
    return [...(this.domains.get(domid)?.conn.watches ?? [])];
  }

  /** Give a restored domain's connection its watches back (no event fires for them, as none did when they were saved). */
  restoreWatches(domid: number, watches: readonly XsWatch[]): void {
    const d = this.domains.get(domid) ?? xsFail('ENOENT', `dom${domid} not introduced`);
    for (const w of watches) if (!d.conn.watches.has(w.path, w.token)) d.conn.watches.add(w);
  }

  /**
   * The domain notified its xenstore event channel: serve its ring. Never throws. Returns
   * true if requests are left (call again later, e.g. on the next scheduler tick).
   */
  kick(domid: number): boolean {
    const d = this.domains.get(domid);
    if (!d) return false;
    return this.topLevel(() => d.kick((conn, msg) => processMessage(this, conn, msg))) ?? false;
  }

  /** The store as a tree, for the inspector. */
  tree(path = '/'): XsTreeNode | undefined {
    return this.store.tree(path);
  }

  /** The introduced domains, for the inspector. */
  domainInfo(): XsDomainInfo[] {
    return [...this.domains.values()].map((d) => ({
      domid: d.domid,
      watches: d.conn.watches.size,
      transactions: d.conn.transactions.size,
      nodes: this.store.entries(d.domid),
      queued: d.queued,
      droppedEvents: d.droppedEvents,
      failed: d.failed,
      target: this.targets.get(d.domid),
    }));
  }

  // ---- XsDaemon: what the dispatcher calls ----

  callerOf(conn: XsConnection): XsCaller {
    return { domid: conn.domid, privileged: conn.domid === 0, target: this.targets.get(conn.domid) };
  }

  fire(changes: readonly XsChange[]): void {
    if (changes.length === 0) return;
    const conns = [...this.conns];
    for (const change of changes) {
      for (const conn of conns) {
        if (conn.watches.size === 0) continue;
        const caller = this.callerOf(conn);
        for (const w of conn.watches) {
          const path = matchWatch(w, change, caller);
          if (path !== undefined) conn.sendEvent(eventPath(w, path, conn.domid), w.token);
        }
      }
    }
  }

  watchCount(domid: number): number {
    let n = 0;
    for (const c of this.conns) if (c.domid === domid) n += c.watches.size;
    return n;
  }

  transactionCount(domid: number): number {
    let n = 0;
    for (const c of this.conns) if (c.domid === domid) n += c.transactions.size;
    return n;
  }

  introduce(domid: number, gfn: number, evtchn: number): void {
    checkDomid(domid);
    const existing = this.domains.get(domid);
    const mapped = this.host.mapRing?.(domid, gfn, evtchn);
    if (existing) {
      // As in Xen, INTRODUCE of a known domain only rebinds the event channel.
      if (mapped) existing.setNotify(mapped.notify);
      return;
    }
    if (!mapped) xsFail('EINVAL', `cannot map the ring of dom${domid}`);
    this.attach(domid, mapped.page, mapped.notify);
  }

  release(domid: number): void {
    if (domid === 0) xsFail('EINVAL', 'dom0 cannot be released');
    const d = this.domains.get(domid) ?? xsFail('ENOENT', `dom${domid} not introduced`);
    d.close();
    this.conns.delete(d.conn);
    this.domains.delete(domid);
    this.dirty.delete(d);
    this.targets.delete(domid);
    this.fireSpecial(XS_RELEASE_DOMAIN);
  }

  isIntroduced(domid: number): boolean {
    return domid === 0 || this.domains.has(domid);
  }

  resume(domid: number): void {
    const d = this.domains.get(domid) ?? xsFail('ENOENT', `dom${domid} not introduced`);
    d.shutdownNotified = false;
  }

  setTarget(domid: number, target: number): void {
    if (!this.domains.has(domid)) xsFail('ENOENT', `dom${domid} not introduced`);
    this.targets.set(domid, target);
  }

  control(args: readonly string[]): string {
    switch (args[0]) {
      case 'help':
        return 'check\nhelp\nprint|<string>\nquota\n';
      case 'check':
        return 'OK';
      case 'print':
        this.log(args[1] ?? '');
        return 'OK';
      case 'quota':
        return Object.entries(this.quota)
          .map(([k, v]) => `${k} ${v}\n`)
          .join('');
      default:
        return xsFail('EINVAL', 'unknown control command');
    }
  }

  log(msg: string): void {
    this.host.log?.(msg);
  }

  // ---- internals ----

  private attach(domid: number, page: SharedPage, notify: () => void): void {
    const d = new XsDomain(domid, page, notify, this.nextConnId++, this.quota, (x) => this.dirty.add(x));
    this.domains.set(domid, d);
    this.conns.add(d.conn);
    this.fireSpecial(XS_INTRODUCE_DOMAIN);
    // The guest may have queued requests before it was introduced.
    d.kick((conn, msg) => processMessage(this, conn, msg));
  }

  private fireSpecial(path: string): void {
    this.fire([{ path, perms: [this.store.get(path)?.perms ?? []] }]);
  }

  /**
   * Run an entry point; at the outermost level, write what is queued to the rings. With
   * `contain`, an exception (a bug, or a host callback that threw) is logged, not thrown.
   */
  private topLevel<T>(fn: () => T, contain = true): T | undefined {
    this.depth++;
    try {
      return fn();
    } catch (e) {
      if (!contain) throw e;
      this.log(`xenstored: ${String(e)}`);
      return undefined;
    } finally {
      this.depth--;
      if (this.depth === 0) this.flushDirty();
    }
  }

  private flushDirty(): void {
    for (const d of this.dirty) {
      this.dirty.delete(d);
      try {
        d.flush();
      } catch (e) {
        this.log(`xenstored: dom${d.domid}: ${String(e)}`);
      }
    }
  }
}

function checkDomid(domid: number): void {
  if (!Number.isInteger(domid) || domid <= 0 || domid >= DOMID_FIRST_RESERVED) xsFail('EINVAL', `bad domid ${domid}`);
}
