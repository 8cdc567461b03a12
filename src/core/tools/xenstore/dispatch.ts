/**
 * The request dispatcher: one switch over the message type, as xenstored_core.c's
 * process_message and its wire_funcs table. It parses the payload, runs the operation
 * (atomically: on an overlay of the store or of the request's transaction) and sends the
 * reply or the ERROR. It never throws: a malformed payload is EINVAL, an unknown type
 * ENOSYS, and an unexpected failure inside xenstored EIO.
 */
import type { XsConnection } from './connection';
import { XenstoreError, xsFail, type XsErrno } from './errors';
import { doDirectory, doGetPerms, doMkdir, doRead, doRm, doSetPerms, doWrite, type XsOpContext } from './ops';
import { checkWatchPath, canonicalize, domainPath } from './path';
import { formatPerm, parsePerm, type XsCaller } from './perms';
import type { XsQuota } from './quota';
import type { XsStore } from './store';
import { NodeOverlay, XsTransaction } from './transaction';
import { eventPath, type XsChange } from './watch';
import { errorPayload, firstString, OK_PAYLOAD, splitStrings, stringsPayload, XENSTORE_PAYLOAD_MAX, XsType, type XsMessage } from './wire';

/** What the dispatcher needs of the daemon (xenstored.ts). */
export interface XsDaemon {
  readonly store: XsStore;
  readonly quota: Readonly<XsQuota>;
  callerOf(conn: XsConnection): XsCaller;
  /** Deliver watch events for committed changes. */
  fire(changes: readonly XsChange[]): void;
  watchCount(domid: number): number;
  transactionCount(domid: number): number;
  introduce(domid: number, gfn: number, evtchn: number): void;
  release(domid: number): void;
  isIntroduced(domid: number): boolean;
  resume(domid: number): void;
  setTarget(domid: number, target: number): void;
  control(args: readonly string[]): string;
  log(msg: string): void;
}

/** Types whose tx_id is ignored (XS_FLAG_NOTID in C xenstored). */
const NO_TX = new Set<number>([
  XsType.CONTROL,
  XsType.WATCH,
  XsType.UNWATCH,
  XsType.INTRODUCE,
  XsType.RELEASE,
  XsType.GET_DOMAIN_PATH,
  XsType.IS_DOMAIN_INTRODUCED,
  XsType.RESUME,
  XsType.SET_TARGET,
  XsType.RESET_WATCHES,
]);

/** Handle one request from `conn` and send its reply. Never throws. */
export function processMessage(d: XsDaemon, conn: XsConnection, msg: XsMessage): void {
  const after: (() => void)[] = [];
  let reply: Uint8Array;
  let type = msg.type;
  try {
    reply = handle(d, conn, msg, after);
  } catch (e) {
    let errno: XsErrno = 'EIO';
    if (e instanceof XenstoreError) errno = e.errno;
    else d.log(`xenstored: internal error on ${msg.type} from dom${conn.domid}: ${String(e)}`);
    type = XsType.ERROR;
    reply = errorPayload(errno);
    after.length = 0;
  }
  conn.reply(type, msg.reqId, msg.txId, reply);
  for (const f of after) f();
}

function handle(d: XsDaemon, conn: XsConnection, msg: XsMessage, after: (() => void)[]): Uint8Array {
  const caller = d.callerOf(conn);
  const tx = NO_TX.has(msg.type) ? undefined : lookupTx(conn, msg.txId);
  const run = (op: (ctx: XsOpContext) => void): void => runOp(d, caller, tx, op);
  const p = msg.payload;

  switch (msg.type) {
    case XsType.READ: {
      const path = oneArg(p);
      let value: Uint8Array = new Uint8Array(0);
      run((ctx) => {
        value = doRead(ctx, path);
      });
      return value;
    }
    case XsType.DIRECTORY: {
      const path = oneArg(p);
      let children: readonly string[] = [];
      run((ctx) => {
        children = doDirectory(ctx, path).children;
      });
      return stringsPayload(children);
    }
    case XsType.DIRECTORY_PART: {
      const [path, offset] = args(p, 2, 2);
      let dir = { children: [] as readonly string[], generation: 0 };
      run((ctx) => {
        dir = doDirectory(ctx, path!);
      });
      return directoryPart(dir.children, dir.generation, atoi(offset!));
    }
    case XsType.GET_PERMS: {
      const path = oneArg(p);
      let perms: string[] = [];
      run((ctx) => {
        perms = doGetPerms(ctx, path).map(formatPerm);
      });
      return stringsPayload(perms);
    }
    case XsType.WRITE: {
      const s = firstString(p) ?? xsFail('EINVAL', 'missing path');
      run((ctx) => doWrite(ctx, s.head, s.rest.slice()));
      return OK_PAYLOAD;
    }
    case XsType.MKDIR: {
      const path = oneArg(p);
      run((ctx) => doMkdir(ctx, path));
      return OK_PAYLOAD;
    }
    case XsType.RM: {
      const path = oneArg(p);
      run((ctx) => doRm(ctx, path));
      return OK_PAYLOAD;
    }
    case XsType.SET_PERMS: {
      const [path, ...rest] = args(p, 2);
      const perms = rest.map(parsePerm);
      run((ctx) => doSetPerms(ctx, path!, perms));
      return OK_PAYLOAD;
    }
    case XsType.WATCH: {
      const [path, token] = args(p, 2);
      const w = checkWatchPath(path!, conn.domid, caller.privileged ? undefined : d.quota.pathMax);
      const watch = { path: w.path, token: token!, relative: w.relative };
      if (conn.watches.has(watch.path, watch.token)) xsFail('EEXIST');
      if (!caller.privileged && d.watchCount(conn.domid) >= d.quota.watchesPerDomain) xsFail('E2BIG', 'watch quota');
      conn.watches.add(watch);
      // "When a watch is first set up it is triggered once straight away."
      after.push(() => conn.sendEvent(eventPath(watch, watch.path, conn.domid), watch.token));
      return OK_PAYLOAD;
    }
    case XsType.UNWATCH: {
      const [path, token] = args(p, 2);
      conn.watches.remove(canonicalize(path!, conn.domid), token!);
      return OK_PAYLOAD;
    }
    case XsType.TRANSACTION_START: {
      // The payload is a reserved empty string, which C xenstored does not look at either.
      if (tx) xsFail('EBUSY', 'nested transaction');
      if (!caller.privileged && d.transactionCount(conn.domid) >= d.quota.transactionsPerDomain) xsFail('ENOSPC', 'transaction quota');
      const id = conn.allocTxId();
      const max = caller.privileged ? Infinity : d.quota.nodesPerTransaction;
      conn.transactions.set(id, new XsTransaction(d.store, id, max, () => d.store.allocGeneration()));
      return stringsPayload([String(id)]);
    }
    case XsType.TRANSACTION_END: {
      const arg = oneArg(p);
      if (!tx) return xsFail('ENOENT', 'no transaction');
      if (arg !== 'T' && arg !== 'F') xsFail('EINVAL');
      conn.transactions.delete(tx.id);
      if (arg === 'T') {
        if (tx.conflicts()) xsFail('EAGAIN');
        tx.commit();
        d.fire(tx.changes);
      }
      return OK_PAYLOAD;
    }
    case XsType.INTRODUCE: {
      privileged(caller);
      const [domid, gfn, evtchn] = args(p, 3);
      d.introduce(parseDomid(domid!), parseInt32(gfn!), parseInt32(evtchn!));
      return OK_PAYLOAD;
    }
    case XsType.RELEASE:
      privileged(caller);
      d.release(parseDomid(oneArg(p)));
      return OK_PAYLOAD;
    case XsType.RESUME:
      privileged(caller);
      d.resume(parseDomid(oneArg(p)));
      return OK_PAYLOAD;
    case XsType.SET_TARGET: {
      privileged(caller);
      const [domid, target] = args(p, 2);
      d.setTarget(parseDomid(domid!), parseDomid(target!));
      return OK_PAYLOAD;
    }
    case XsType.GET_DOMAIN_PATH:
      return stringsPayload([domainPath(parseDomid(oneArg(p)))]);
    case XsType.IS_DOMAIN_INTRODUCED:
      return stringsPayload([d.isIntroduced(parseDomid(oneArg(p))) ? 'T' : 'F']);
    case XsType.RESET_WATCHES:
      conn.reset();
      return OK_PAYLOAD;
    case XsType.CONTROL:
      privileged(caller);
      return stringsPayload([d.control(args(p, 1))]);
    default:
      // WATCH_EVENT and ERROR are never requests; GET/SET_FEATURE and GET/SET_QUOTA are
      // not implemented; anything else is unknown.
      return xsFail('ENOSYS', `message type ${msg.type}`);
  }
}

function runOp(d: XsDaemon, caller: XsCaller, tx: XsTransaction | undefined, op: (ctx: XsOpContext) => void): void {
  const base = tx ?? d.store;
  const view = new NodeOverlay(base, () => d.store.allocGeneration());
  const changes: XsChange[] = [];
  op({ view, caller, quota: d.quota, changes });
  view.applyTo(base);
  if (tx) tx.changes.push(...changes);
  else d.fire(changes);
}

function lookupTx(conn: XsConnection, txId: number): XsTransaction | undefined {
  if (txId === 0) return undefined;
  return conn.transactions.get(txId) ?? xsFail('ENOENT', `no transaction ${txId}`);
}

function privileged(caller: XsCaller): void {
  if (!caller.privileged) xsFail('EACCES', 'dom0 only');
}

/** The payload's strings: at least `min`, at most `max`; EINVAL otherwise or without NULs. */
function args(p: Uint8Array, min: number, max = Infinity): string[] {
  const s = splitStrings(p);
  if (!s || s.length < min || s.length > max) return xsFail('EINVAL', 'bad arguments');
  return s;
}

/** Exactly one NUL-terminated string (Xen's onearg). */
function oneArg(p: Uint8Array): string {
  return args(p, 1, 1)[0]!;
}

function parseDomid(s: string): number {
  if (!/^\d{1,5}$/.test(s) || Number(s) > 0xffff) return xsFail('EINVAL', 'bad domid');
  return Number(s);
}

/** A signed or unsigned 32-bit decimal (INTRODUCE's gfn is "signed decimal (!)"). */
function parseInt32(s: string): number {
  if (!/^-?\d{1,10}$/.test(s)) return xsFail('EINVAL', 'bad number');
  const n = Number(s);
  if (n < -0x8000_0000 || n > 0xffff_ffff) return xsFail('EINVAL', 'bad number');
  return n >>> 0;
}

/** C's atoi: leading decimal digits, 0 if none. */
function atoi(s: string): number {
  const m = /^\s*\+?(\d+)/.exec(s);
  return m ? Math.min(Number(m[1]), 0xffff_ffff) : 0;
}

/**
 * DIRECTORY_PART's reply: "<gencnt>\0" then the children from byte `off` of the complete
 * list, as many whole names as fit, and one more NUL when the list ends in this part.
 */
function directoryPart(children: readonly string[], generation: number, off: number): Uint8Array {
  const all = stringsPayload(children);
  const gen = stringsPayload([String(generation)]);
  if (off >= all.length) return concat(gen, new Uint8Array(1));
  const maxlen = XENSTORE_PAYLOAD_MAX - gen.length - 1;
  let len = 0;
  let end = false;
  for (;;) {
    const nul = all.indexOf(0, off + len);
    const strlen = nul - (off + len);
    if (len + strlen >= maxlen) break;
    len += strlen + 1;
    if (off + len === all.length) {
      end = true;
      break;
    }
  }
  return concat(gen, all.subarray(off, off + len), end ? new Uint8Array(1) : new Uint8Array(0));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}
