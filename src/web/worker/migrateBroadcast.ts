/**
 * Live migration between tabs of one origin: a MigrationChannel (core/tools/migration/live/
 * channel.ts) over a BroadcastChannel (HTML Standard, "Broadcasting to other browsing
 * contexts"), used by the hypervisor workers of the tabs themselves (workers have
 * BroadcastChannel; so does Node, where the tests run two hypervisors in one process).
 *
 * A BroadcastChannel is a bus: every tab hears every message, including the bytes of other
 * tabs' migrations. So every message names its sender and its addressee (random host ids,
 * one per hypervisor) and a session; a channel keeps only its own session's messages.
 * Messages from one sender arrive in the order it posted them (the standard queues them as
 * tasks in order), and each carries a sequence number all the same: a gap or a repeat
 * closes the channel with one line rather than feeding a wrong stream to the receiver.
 *
 * The bus has no notion of a peer going away (a tab closed): the migration's own timeouts
 * find that (live/send.ts, receive.ts), and the source then resumes.
 *
 * Messages:
 *   who   {from}                         every hypervisor on the bus answers `here`
 *   here  {from, to, label, domains}     discovery's answer
 *   open  {from, to, session}            the sender starts a migration; the addressee runs migrateReceive
 *   data  {from, to, session, seq, bytes}
 *   close {from, to, session, reason}
 */
import { ChannelError, MessageQueue, type MigrationChannel } from '../../core/tools/migration/live/channel';

export const MIGRATION_BUS = 'hyperlab-migration';

/** What the code needs of a BroadcastChannel (the DOM's, the WebWorker's and Node's have it). */
export interface BusLike {
  postMessage(message: unknown): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
}

export interface BusPeer {
  readonly id: string;
  /** What the other tab calls itself ("tab 3f2a, 2 domains"). */
  readonly label: string;
  readonly domains: number;
}

type BusMessage =
  | { t: 'who'; from: string }
  | { t: 'here'; from: string; to: string; label: string; domains: number }
  | { t: 'open'; from: string; to: string; session: string }
  | { t: 'data'; from: string; to: string; session: string; seq: number; bytes: Uint8Array }
  | { t: 'close'; from: string; to: string; session: string; reason: string };

const str = (v: unknown, max = 200): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** A message of the bus, or null for anything else (another app's message, a damaged one). */
function parse(data: unknown): BusMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  if (!str(m['from'], 64)) return null;
  switch (m['t']) {
    case 'who':
      return m as BusMessage;
    case 'here':
      return str(m['to'], 64) && typeof m['label'] === 'string' && typeof m['domains'] === 'number' ? (m as BusMessage) : null;
    case 'open':
      return str(m['to'], 64) && str(m['session'], 64) ? (m as BusMessage) : null;
    case 'data':
      return str(m['to'], 64) && str(m['session'], 64) && Number.isSafeInteger(m['seq']) && m['bytes'] instanceof Uint8Array ? (m as BusMessage) : null;
    case 'close':
      return str(m['to'], 64) && str(m['session'], 64) && typeof m['reason'] === 'string' ? (m as BusMessage) : null;
    default:
      return null;
  }
}

function randomId(): string {
  const b = new Uint8Array(6);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** One migration's end of the bus. */
export class BroadcastMigrationChannel implements MigrationChannel {
  private readonly inbox = new MessageQueue();
  private sendSeq = 0;
  private recvSeq = 0;
  private unyielded = 0;
  private reason: string | undefined;

  constructor(
    private readonly bus: MigrationBus,
    readonly peer: string,
    readonly session: string,
  ) {}

  get closed(): string | undefined {
    return this.reason;
  }

  send(msg: Uint8Array): Promise<void> {
    if (this.reason !== undefined) return Promise.reject(new ChannelError(`send on a closed channel: ${this.reason}`));
    this.bus.post({ t: 'data', from: this.bus.id, to: this.peer, session: this.session, seq: this.sendSeq++, bytes: msg });
    // No backpressure on a bus: every 16 messages or 4 MiB, yield to the event loop, so the other
    // tab's answers and this tab's own work get through during a long stream.
    this.unyielded += msg.length;
    if (this.sendSeq % 16 !== 0 && this.unyielded < 4 << 20) return Promise.resolve();
    this.unyielded = 0;
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  receive(timeoutMs?: number): Promise<Uint8Array> {
    return this.inbox.receive(timeoutMs);
  }

  close(reason = 'closed'): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.inbox.close(reason);
    this.bus.post({ t: 'close', from: this.bus.id, to: this.peer, session: this.session, reason: reason === 'closed' ? 'closed by peer' : reason });
    this.bus.forget(this.session);
  }

  /** A data message of this session. */
  deliver(seq: number, bytes: Uint8Array): void {
    if (this.reason !== undefined) return;
    if (seq !== this.recvSeq) return this.close(`the other tab's message ${seq} came where ${this.recvSeq} was due`);
    this.recvSeq++;
    this.inbox.push(bytes);
  }

  /** The other end closed. */
  fail(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.inbox.close(reason);
    this.bus.forget(this.session);
  }
}

/**
 * A hypervisor's place on the bus: answers discovery, opens channels to other tabs, and
 * hands each channel another tab opens to it to `onIncoming` (which runs migrateReceive).
 */
export class MigrationBus {
  readonly id = randomId();
  private readonly sessions = new Map<string, BroadcastMigrationChannel>();
  private readonly answers = new Map<string, BusPeer>();

  constructor(
    private readonly bus: BusLike,
    private readonly describe: () => { label: string; domains: number },
    private readonly onIncoming: (ch: BroadcastMigrationChannel) => void,
  ) {
    bus.onmessage = (ev) => this.receive(ev.data);
  }

  /** The other hypervisors on the bus: those that answer within `waitMs`. */
  async peers(waitMs = 300): Promise<BusPeer[]> {
    this.answers.clear();
    this.post({ t: 'who', from: this.id });
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    return [...this.answers.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  /** A channel to `peer`; its receiver starts when the `open` arrives. */
  open(peer: string): BroadcastMigrationChannel {
    const session = randomId();
    const ch = new BroadcastMigrationChannel(this, peer, session);
    this.sessions.set(session, ch);
    this.post({ t: 'open', from: this.id, to: peer, session });
    return ch;
  }

  close(): void {
    for (const ch of [...this.sessions.values()]) ch.close('the hypervisor stopped');
    this.bus.onmessage = null;
    this.bus.close();
  }

  post(m: BusMessage): void {
    this.bus.postMessage(m);
  }

  forget(session: string): void {
    this.sessions.delete(session);
  }

  private receive(data: unknown): void {
    const m = parse(data);
    if (!m || m.from === this.id) return;
    if (m.t === 'who') {
      const me = this.describe();
      this.post({ t: 'here', from: this.id, to: m.from, label: me.label, domains: me.domains });
      return;
    }
    if (m.to !== this.id) return; // another pair's conversation
    switch (m.t) {
      case 'here':
        this.answers.set(m.from, { id: m.from, label: m.label.slice(0, 80), domains: m.domains });
        return;
      case 'open': {
        if (this.sessions.has(m.session)) return;
        const ch = new BroadcastMigrationChannel(this, m.from, m.session);
        this.sessions.set(m.session, ch);
        this.onIncoming(ch);
        return;
      }
      case 'data': {
        const ch = this.sessions.get(m.session);
        if (ch?.peer === m.from) ch.deliver(m.seq, m.bytes);
        return;
      }
      case 'close': {
        const ch = this.sessions.get(m.session);
        if (ch?.peer === m.from) ch.fail(m.reason.split('\n')[0]!.slice(0, 200) || 'closed by peer');
        return;
      }
    }
  }
}
