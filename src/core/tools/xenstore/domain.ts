/**
 * A domain introduced to xenstored, and its ring connection (xenstored_domain.c). On each
 * notification from the guest (`kick`) it takes requests off the ring, possibly split
 * across the ring's end and across several notifications, hands each complete message to
 * the dispatcher, and writes the queued replies and watch events back, as far as they fit.
 *
 * Bounds, because the guest is hostile and runs concurrently:
 * - a header announcing more than XENSTORE_PAYLOAD_MAX bytes kills the connection
 *   (XENSTORE_ERROR_PROTO), as in Xen; an impossible index too (XENSTORE_ERROR_RINGIDX).
 *   A dead connection drops its watches, transactions and queued data and ignores the ring
 *   until the guest asks for a reconnection (connection = RECONNECT);
 * - a kick handles at most MESSAGES_PER_KICK requests, so a guest that keeps producing
 *   cannot keep xenstored busy forever; `kick` returns true when it stopped with work left;
 * - while `outstandingRequests` replies wait in the queue (the guest does not read them),
 *   no more requests are read (C xenstored's quota_req_outstanding);
 * - watch events beyond `maxQueuedEvents` waiting are dropped.
 */
import type { XsConnectionSink } from './connection';
import { XsConnection } from './connection';
import type { XsQuota } from './quota';
import { RingIndexError, XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XenstoreRing, type SharedPage } from './ring';
import { decodeHeader, XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG_SIZE, type XsHeader, type XsMessage } from './wire';

/** Requests handled per notification before yielding. */
export const MESSAGES_PER_KICK = 64;

interface Queued {
  readonly msg: Uint8Array;
  off: number;
  readonly reply: boolean;
}

export class XsDomain implements XsConnectionSink {
  readonly ring: XenstoreRing;
  readonly conn: XsConnection;
  /** @releaseDomain was fired for its shutdown (until RESUME). */
  shutdownNotified = false;
  /** Watch events dropped because the queue was full. */
  droppedEvents = 0;
  private readonly out: Queued[] = [];
  private outstanding = 0;
  private queuedEvents = 0;
  private readonly hdrBuf = new Uint8Array(XSD_SOCKMSG_SIZE);
  private hdrUsed = 0;
  private header: XsHeader | undefined;
  private payload = new Uint8Array(0);
  private payloadUsed = 0;
  private dead = false;

  constructor(
    readonly domid: number,
    page: SharedPage,
    private notify: () => void,
    connId: number,
    private readonly quota: Readonly<XsQuota>,
    private readonly onOutput: (d: XsDomain) => void,
  ) {
    this.ring = new XenstoreRing(page);
    this.conn = new XsConnection(connId, domid, this);
  }

  /** Whether the ring was shut down by an error (until the guest reconnects). */
  get failed(): boolean {
    return this.dead;
  }

  /** Replies and events waiting for room in the ring. */
  get queued(): number {
    return this.out.length;
  }

  /** A new event channel notifier (INTRODUCE again rebinds the channel). */
  setNotify(notify: () => void): void {
    this.notify = notify;
  }

  reply(msg: Uint8Array): void {
    if (this.dead) return;
    this.out.push({ msg, off: 0, reply: true });
    this.outstanding++;
    this.onOutput(this);
  }

  event(msg: Uint8Array): void {
    if (this.dead) return;
    if (this.queuedEvents >= this.quota.maxQueuedEvents) {
      this.droppedEvents++;
      return;
    }
    this.out.push({ msg, off: 0, reply: false });
    this.queuedEvents++;
    this.onOutput(this);
  }

  /**
   * The guest notified us: handle reconnection, read requests and dispatch them, write
   * replies. Never throws. Returns true if it stopped with requests left to handle.
   */
  kick(dispatch: (conn: XsConnection, msg: XsMessage) => void): boolean {
    let progress = false;
    if (this.ring.reconnectRequested) {
      this.resetConnection();
      this.ring.reset();
      this.dead = false;
      progress = true;
    }
    if (this.dead) return false;
    let more = false;
    try {
      progress = this.flushOut() || progress;
      for (let handled = 0; ;) {
        if (this.header && this.payloadUsed === this.header.len) {
          if (handled === MESSAGES_PER_KICK) {
            more = true;
            break;
          }
          if (this.outstanding >= this.quota.outstandingRequests) break;
          const msg: XsMessage = { ...this.header, payload: this.payload };
          this.header = undefined;
          this.hdrUsed = 0;
          handled++;
          dispatch(this.conn, msg);
          if (this.dead) return false;
          progress = this.flushOut() || progress;
          continue;
        }
        const n = this.readSome();
        if (n === 0) break;
        progress = true;
      }
    } catch (e) {
      if (!(e instanceof RingIndexError)) throw e;
      this.fail(XENSTORE_ERROR_RINGIDX);
      return false;
    }
    if (this.dead) return false;
    if (progress) this.notify();
    return more;
  }

  /** Write queued output into the ring; notify if anything was written. Never throws. */
  flush(): void {
    if (this.dead) return;
    try {
      if (this.flushOut()) this.notify();
    } catch (e) {
      if (!(e instanceof RingIndexError)) throw e;
      this.fail(XENSTORE_ERROR_RINGIDX);
    }
  }

  /** The domain is released: forget everything, touch the ring no more. */
  close(): void {
    this.resetConnection();
    this.conn.closed = true;
    this.dead = true;
  }

  /** Read the rest of the current header or payload; returns the bytes taken. */
  private readSome(): number {
    if (!this.header) {
      const n = this.ring.read(this.hdrBuf, this.hdrUsed, XSD_SOCKMSG_SIZE - this.hdrUsed);
      this.hdrUsed += n;
      if (this.hdrUsed === XSD_SOCKMSG_SIZE) {
        const h = decodeHeader(this.hdrBuf);
        if (h.len > XENSTORE_PAYLOAD_MAX) {
          this.fail(XENSTORE_ERROR_PROTO);
          return 0;
        }
        this.header = h;
        this.payload = new Uint8Array(h.len);
        this.payloadUsed = 0;
      }
      return n;
    }
    const n = this.ring.read(this.payload, this.payloadUsed, this.header.len - this.payloadUsed);
    this.payloadUsed += n;
    return n;
  }

  private flushOut(): boolean {
    let wrote = false;
    while (this.out.length > 0) {
      const q = this.out[0]!;
      const n = this.ring.write(q.msg, q.off, q.msg.length - q.off);
      if (n > 0) wrote = true;
      q.off += n;
      if (q.off < q.msg.length) break;
      this.out.shift();
      if (q.reply) this.outstanding--;
      else this.queuedEvents--;
    }
    return wrote;
  }

  private fail(code: number): void {
    this.ring.setError(code);
    this.resetConnection();
    this.dead = true;
    this.notify();
  }

  /** Drop partial input, queued output, watches and transactions. */
  private resetConnection(): void {
    this.header = undefined;
    this.hdrUsed = 0;
    this.payloadUsed = 0;
    this.payload = new Uint8Array(0);
    this.out.length = 0;
    this.outstanding = 0;
    this.queuedEvents = 0;
    this.conn.reset();
  }
}
