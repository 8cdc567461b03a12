/**
 * The transport under `xl migrate`: a duplex, ordered, reliable channel of byte messages
 * between the sending and the receiving toolstack (Xen's xl runs the receiver at the end
 * of an ssh pipe: `ssh HOST xl migrate-receive`, a pair of byte streams; xl_migrate.c).
 * Anything that keeps order and loses nothing fits: an in-process pair (tests, `xl migrate
 * DOM localhost`), TCP between Node hosts (src/node/tcpChannel.ts), BroadcastChannel between
 * tabs and WebSocket between a page and a Node host (the browser's, src/web/).
 *
 * Contract for an implementation:
 * - `send(msg)` queues one message; messages arrive whole, in order, exactly once. The
 *   promise resolves when the channel can take more (backpressure: a TCP socket's drain);
 *   it rejects (one line) if the channel is closed or failed. The caller does not reuse
 *   `msg`'s memory afterwards (an implementation may keep it).
 * - `receive(timeoutMs?)` resolves with the next message; rejects with a ChannelError
 *   (one line) when the peer closed or the channel failed and nothing is left queued, or
 *   when `timeoutMs` passed without a message (the channel stays usable after a timeout).
 * - `close(reason?)`: no more messages either way; the peer's pending and later
 *   `receive` reject with `reason` ("closed by peer" if none). Idempotent.
 * - `closed`: undefined while open, else the one-line reason.
 *
 * Message boundaries carry no meaning for the migration stream (the receiver reads it
 * incrementally), so a transport may split or merge stream chunks; handshake messages are
 * sent as separate messages and compared whole (live/protocol.ts).
 */

/** A channel that closed or failed; the message is one line. */
import type { MigrateSendOptions } from './progress';
export class ChannelError extends Error {
  constructor(message: string) {
    super(message.split('\n')[0]);
    this.name = 'ChannelError';
  }
}

export interface MigrationChannel {
  send(msg: Uint8Array): Promise<void>;
  receive(timeoutMs?: number): Promise<Uint8Array>;
  close(reason?: string): void;
  readonly closed: string | undefined;
  /**
   * What the sending host does at the pause point and on a resume, for domain `domid` (the
   * browser hands its OPFS disk handles to the other tab: web/worker/migrateService.ts), and
   * where the progress goes (the browser's migration view); `xl migrate` passes them to migrateSend.
   */
  readonly senderHooks?: (domid: number) => Pick<MigrateSendOptions, 'onStopped' | 'onResumed' | 'onProgress'>;
}

/**
 * The receiving half of a channel, for implementations: a queue of messages and of
 * waiting receivers, closed once with a reason. Every transport in the tree builds on it.
 */
export class MessageQueue {
  private readonly items: Uint8Array[] = [];
  private readonly waiters: { resolve: (m: Uint8Array) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> | undefined }[] = [];
  private reason: string | undefined;

  get closed(): string | undefined {
    return this.reason;
  }

  /** Messages queued and not yet received. */
  get length(): number {
    return this.items.length;
  }

  push(msg: Uint8Array): void {
    if (this.reason !== undefined) return;
    const w = this.waiters.shift();
    if (w) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.resolve(msg);
    } else this.items.push(msg);
  }

  /** No more messages: queued ones are still received, then `receive` rejects with `reason`. */
  close(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    for (const w of this.waiters.splice(0)) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      w.reject(new ChannelError(reason));
    }
  }

  receive(timeoutMs?: number): Promise<Uint8Array> {
    const m = this.items.shift();
    if (m) return Promise.resolve(m);
    if (this.reason !== undefined) return Promise.reject(new ChannelError(this.reason));
    return new Promise((resolve, reject) => {
      const w = { resolve, reject, timer: undefined as ReturnType<typeof setTimeout> | undefined };
      if (timeoutMs !== undefined && timeoutMs >= 0)
        w.timer = setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new ChannelError(`no message from the peer within ${timeoutMs} ms`));
        }, timeoutMs);
      this.waiters.push(w);
    });
  }
}

/** One end of an in-process pair. */
class LocalEnd implements MigrationChannel {
  readonly inbox = new MessageQueue();
  peer!: LocalEnd;
  private reason: string | undefined;

  get closed(): string | undefined {
    return this.reason;
  }

  send(msg: Uint8Array): Promise<void> {
    if (this.reason !== undefined) return Promise.reject(new ChannelError(`send on a closed channel: ${this.reason}`));
    // Delivered on a later task, as a real transport would: a sender never runs the receiver's code inside its own call.
    queueMicrotask(() => this.peer.inbox.push(msg));
    // Every 16 messages or 1 MiB, a sender that awaits its sends yields to the event loop (a
    // task, not a microtask), as a real transport's backpressure would: otherwise a same-host
    // migration holds the hypervisor's thread for a whole round, and the guests it schedules
    // do not run during pre-copy (the live-migration lab saw 6 pages dirtied in round 0 by a
    // guest that rewrites 4000 in a few ms).
    this.unyielded += 1 + (msg.byteLength >>> 16);
    if (this.unyielded < 16) return Promise.resolve();
    this.unyielded = 0;
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  private unyielded = 0;

  receive(timeoutMs?: number): Promise<Uint8Array> {
    return this.inbox.receive(timeoutMs);
  }

  close(reason = 'closed'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.inbox.close(reason);
    // After the messages already sent (they were queued as microtasks before this one).
    queueMicrotask(() => this.peer.fail(reason === 'closed' ? 'closed by peer' : reason));
  }

  /** The peer went away. */
  fail(reason: string): void {
    if (this.reason === undefined) this.reason = reason;
    this.inbox.close(reason);
  }
}

/** Two connected ends in one process (tests, `xl migrate DOM localhost`). */
export function channelPair(): [MigrationChannel, MigrationChannel] {
  const a = new LocalEnd(),
    b = new LocalEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * A channel that forwards to `inner` until `cut()` (or until `after` messages were sent
 * through it), then fails both ways as a broken connection would: for the fault tests
 * (the target killed mid-migration, at each phase of the handshake).
 */
export class CuttableChannel implements MigrationChannel {
  sent = 0;
  private reason: string | undefined;

  constructor(
    private readonly inner: MigrationChannel,
    private readonly after = Infinity,
  ) {}

  get closed(): string | undefined {
    return this.reason ?? this.inner.closed;
  }

  cut(reason = 'connection cut'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.inner.close(reason);
  }

  async send(msg: Uint8Array): Promise<void> {
    if (this.reason !== undefined) throw new ChannelError(this.reason);
    if (this.sent >= this.after) {
      this.cut(`connection cut after ${this.sent} messages`);
      throw new ChannelError(this.reason!);
    }
    this.sent++;
    return this.inner.send(msg);
  }

  receive(timeoutMs?: number): Promise<Uint8Array> {
    if (this.reason !== undefined) return Promise.reject(new ChannelError(this.reason));
    return this.inner.receive(timeoutMs);
  }

  close(reason?: string): void {
    this.inner.close(reason);
  }
}
