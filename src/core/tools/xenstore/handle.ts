/**
 * XsHandle: an in-process connection to xenstored, for the toolstack and the backends that
 * run in JavaScript (libxenstore's `struct xs_handle`). Every call is a real xenstore
 * request through the same dispatcher as the rings, so it gets exactly the semantics a
 * guest gets; only the framing is skipped. Strings (paths, values, tokens) are UTF-8.
 *
 * Failures reject with XenstoreError(errno). `tx` arguments are transaction ids from
 * transactionStart (0: no transaction). Watch callbacks run in a microtask after the
 * change that fired them (so after the `await` of the call that caused it returns), never
 * inside xenstored; the first call comes straight after `watch`, as Xen fires new watches.
 */
import type { XsConnection } from './connection';
import { XenstoreError, isXsErrno } from './errors';
import { canonicalize, isChildPath } from './path';
import { parsePerm, formatPerm, type XsPerm } from './perms';
import { decodeHeader, utf8Bytes, utf8String, XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, XsType, type XsMessage } from './wire';
import type { Xenstored } from './xenstored';

export type XsWatchCallback = (path: string, token: string) => void;

interface HandleWatch {
  readonly abs: string;
  readonly token: string;
  readonly cb: XsWatchCallback;
}

/** Split a payload into UTF-8 strings at its NULs (a trailing NUL ends the last). */
function utf8Strings(p: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) {
      out.push(utf8String(p.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < p.length) out.push(utf8String(p.subarray(start)));
  return out;
}

function payloadOf(strings: readonly string[], tail?: Uint8Array): Uint8Array {
  const parts = strings.map((s) => utf8Bytes(s + '\0'));
  if (tail) parts.push(tail);
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

export class XsHandle {
  /** Events for watches this handle did not register with a callback (raw requests). */
  onWatchEvent: XsWatchCallback | undefined;
  private readonly conn: XsConnection;
  private reqId = 0;
  private replyMsg: Uint8Array | undefined;
  private readonly events: Uint8Array[] = [];
  private readonly watchers: HandleWatch[] = [];
  private deliveryScheduled = false;
  private closed = false;

  constructor(
    private readonly xenstored: Xenstored,
    readonly domid: number,
  ) {
    this.conn = xenstored.openConnection(domid, {
      reply: (m) => {
        this.replyMsg = m;
      },
      event: (m) => this.queueEvent(m),
    });
  }

  /**
   * Send one raw request and return the reply (ERROR replies included). Synchronous.
   * A payload over XENSTORE_PAYLOAD_MAX is refused here with E2BIG (a ring would be killed).
   */
  request(type: number, payload: Uint8Array, txId = 0): XsMessage {
    if (this.closed) throw new XenstoreError('EIO', 'handle closed');
    if (payload.length > XENSTORE_PAYLOAD_MAX) throw new XenstoreError('E2BIG', 'payload too big');
    this.reqId = (this.reqId + 1) >>> 0;
    this.replyMsg = undefined;
    this.xenstored.request(this.conn, { type, reqId: this.reqId, txId: txId >>> 0, len: payload.length, payload });
    const m = this.replyMsg as Uint8Array | undefined;
    this.replyMsg = undefined;
    if (!m) throw new XenstoreError('EIO', 'no reply');
    return { ...decodeHeader(m), payload: m.subarray(XSD_SOCKMSG_SIZE) };
  }

  async read(path: string, tx = 0): Promise<string> {
    return utf8String(this.call(XsType.READ, payloadOf([path]), tx));
  }

  async readBytes(path: string, tx = 0): Promise<Uint8Array> {
    return this.call(XsType.READ, payloadOf([path]), tx).slice();
  }

  async write(path: string, value: string | Uint8Array, tx = 0): Promise<void> {
    this.call(XsType.WRITE, payloadOf([path], typeof value === 'string' ? utf8Bytes(value) : value), tx);
  }

  async mkdir(path: string, tx = 0): Promise<void> {
    this.call(XsType.MKDIR, payloadOf([path]), tx);
  }

  async rm(path: string, tx = 0): Promise<void> {
    this.call(XsType.RM, payloadOf([path]), tx);
  }

  async directory(path: string, tx = 0): Promise<string[]> {
    return utf8Strings(this.call(XsType.DIRECTORY, payloadOf([path]), tx));
  }

  async getPerms(path: string, tx = 0): Promise<XsPerm[]> {
    return utf8Strings(this.call(XsType.GET_PERMS, payloadOf([path]), tx)).map(parsePerm);
  }

  async setPerms(path: string, perms: readonly XsPerm[], tx = 0): Promise<void> {
    this.call(XsType.SET_PERMS, payloadOf([path, ...perms.map(formatPerm)]), tx);
  }

  /** Set a watch; `cb` gets its events (the first one at once). */
  async watch(path: string, token: string, cb: XsWatchCallback): Promise<void> {
    this.call(XsType.WATCH, payloadOf([path, token]));
    this.watchers.push({ abs: canonicalize(path, this.domid), token, cb });
  }

  async unwatch(path: string, token: string): Promise<void> {
    this.call(XsType.UNWATCH, payloadOf([path, token]));
    const abs = canonicalize(path, this.domid);
    const i = this.watchers.findIndex((w) => w.abs === abs && w.token === token);
    if (i >= 0) this.watchers.splice(i, 1);
  }

  /** Drop all watches and transactions of this connection. */
  async resetWatches(): Promise<void> {
    this.call(XsType.RESET_WATCHES, payloadOf(['']));
    this.watchers.length = 0;
  }

  async transactionStart(): Promise<number> {
    return Number(utf8Strings(this.call(XsType.TRANSACTION_START, payloadOf([''])))[0]);
  }

  /** Commit (or abort) `tx`. A conflicting commit rejects with EAGAIN: run it again. */
  async transactionEnd(tx: number, commit = true): Promise<void> {
    this.call(XsType.TRANSACTION_END, payloadOf([commit ? 'T' : 'F']), tx);
  }

  /** Run `fn` in a transaction, retrying it on EAGAIN (at most `attempts` times). */
  async transaction<T>(fn: (tx: number) => Promise<T>, attempts = 16): Promise<T> {
    for (let i = 0; i < attempts; i++) {
      const tx = await this.transactionStart();
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        await this.transactionEnd(tx, false).catch(() => undefined);
        throw e;
      }
      try {
        await this.transactionEnd(tx, true);
        return result;
      } catch (e) {
        if (!(e instanceof XenstoreError && e.errno === 'EAGAIN')) throw e;
      }
    }
    throw new XenstoreError('EAGAIN', `transaction conflicted ${attempts} times`);
  }

  async getDomainPath(domid: number): Promise<string> {
    return utf8Strings(this.call(XsType.GET_DOMAIN_PATH, payloadOf([String(domid)])))[0]!;
  }

  async isDomainIntroduced(domid: number): Promise<boolean> {
    return utf8Strings(this.call(XsType.IS_DOMAIN_INTRODUCED, payloadOf([String(domid)])))[0] === 'T';
  }

  /** INTRODUCE: xenstored maps the ring through its host's mapRing. */
  async introduce(domid: number, gfn: number, evtchn: number): Promise<void> {
    this.call(XsType.INTRODUCE, payloadOf([String(domid), String(gfn), String(evtchn)]));
  }

  async release(domid: number): Promise<void> {
    this.call(XsType.RELEASE, payloadOf([String(domid)]));
  }

  async resume(domid: number): Promise<void> {
    this.call(XsType.RESUME, payloadOf([String(domid)]));
  }

  async setTarget(domid: number, target: number): Promise<void> {
    this.call(XsType.SET_TARGET, payloadOf([String(domid), String(target)]));
  }

  async control(...args: string[]): Promise<string> {
    return utf8Strings(this.call(XsType.CONTROL, payloadOf(args)))[0] ?? '';
  }

  /** Close the connection: its watches and transactions go. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watchers.length = 0;
    this.xenstored.closeConnection(this.conn);
  }

  private call(type: number, payload: Uint8Array, tx = 0): Uint8Array {
    const r = this.request(type, payload, tx);
    if (r.type === XsType.ERROR) {
      const name = utf8Strings(r.payload)[0] ?? '';
      throw new XenstoreError(isXsErrno(name) ? name : 'EIO', `${name} (request type ${type})`);
    }
    return r.payload;
  }

  private queueEvent(m: Uint8Array): void {
    this.events.push(m);
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    void Promise.resolve().then(() => this.deliver());
  }

  private deliver(): void {
    this.deliveryScheduled = false;
    const events = this.events.splice(0);
    for (const m of events) {
      const [path = '', token = ''] = utf8Strings(m.subarray(XSD_SOCKMSG_SIZE));
      const abs = canonicalize(path, this.domid);
      const targets = this.watchers.filter((w) => w.token === token && (isChildPath(abs, w.abs) || isChildPath(w.abs, abs)));
      const cbs = targets.length > 0 ? targets.map((w) => w.cb) : this.onWatchEvent ? [this.onWatchEvent] : [];
      for (const cb of cbs) {
        try {
          cb(path, token);
        } catch (e) {
          this.xenstored.log(`xenstore watch callback threw: ${String(e)}`);
        }
      }
    }
  }
}
