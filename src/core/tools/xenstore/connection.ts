/**
 * A connection to xenstored: a domain's ring (domain.ts) or an in-process client of dom0
 * (handle.ts), as C xenstored's `struct connection`. It owns its watches and open
 * transactions, and hands its output to a sink: replies, which the sink must deliver in
 * order, and watch events, which a sink may drop (a domain that does not take its events).
 */
import type { XsTransaction } from './transaction';
import { encodeMessage, stringsPayload, XENSTORE_PAYLOAD_MAX, XsType, errorPayload } from './wire';
import { XsWatchList } from './watch';

export interface XsConnectionSink {
  /** A whole reply message (header and payload). */
  reply(msg: Uint8Array): void;
  /** A whole WATCH_EVENT message. */
  event(msg: Uint8Array): void;
}

/** Largest transaction id handed out before wrapping (ids are u32 on the wire, never 0). */
const TX_ID_MAX = 0xffff_ffff;

export class XsConnection {
  readonly watches = new XsWatchList();
  readonly transactions = new Map<number, XsTransaction>();
  private nextTxId = 1;
  /** Set when the connection is gone; it then ignores output. */
  closed = false;

  constructor(
    /** A daemon-wide number, for logs and the inspector. */
    readonly id: number,
    readonly domid: number,
    private readonly sink: XsConnectionSink,
  ) {}

  /** Send a reply; one too big for the wire becomes E2BIG, as in C xenstored's send_reply. */
  reply(type: number, reqId: number, txId: number, payload: Uint8Array): void {
    if (this.closed) return;
    if (payload.length > XENSTORE_PAYLOAD_MAX) {
      type = XsType.ERROR;
      payload = errorPayload('E2BIG');
    }
    this.sink.reply(encodeMessage(type, reqId, txId, payload));
  }

  /** Send a WATCH_EVENT (req_id = tx_id = 0). Returns false if it was too big to send. */
  sendEvent(path: string, token: string): boolean {
    if (this.closed) return false;
    const payload = stringsPayload([path, token]);
    if (payload.length > XENSTORE_PAYLOAD_MAX) return false;
    this.sink.event(encodeMessage(XsType.WATCH_EVENT, 0, 0, payload));
    return true;
  }

  /** A fresh transaction id: nonzero and not in use on this connection. */
  allocTxId(): number {
    // At most transactions.size + 1 candidates are taken, so this ends quickly.
    for (;;) {
      const id = this.nextTxId;
      this.nextTxId = id >= TX_ID_MAX ? 1 : id + 1;
      if (!this.transactions.has(id)) return id;
    }
  }

  /** Drop every watch and transaction (RESET_WATCHES, ring reconnection, release). */
  reset(): void {
    this.watches.clear();
    this.transactions.clear();
  }
}
