/**
 * Live migration between a page and a Node host: a MigrationChannel over one WebSocket
 * (RFC 6455). The browser cannot listen, so the page always connects (to `hyperlab host
 * --listen-ws`), and one connection carries a migration either way; the page's first
 * message, in text, says which:
 *
 *   push        the page sends a domain: the host runs the receiver (migrateReceive)
 *   pull DOM    the host sends its domain DOM: the page runs the receiver
 *
 * Everything after is binary: the migration stream and Xen xl's handshake messages, one
 * WebSocket message each (WebSocket keeps them whole and in order). A host that refuses
 * closes with a one-line reason (close code 4000). The same class runs on both ends: the
 * page's WebSocket and the `ws` package's on the Node host (src/node/wsChannel.ts) share
 * the API it uses.
 */
import { ChannelError, MessageQueue, type MigrationChannel } from '../../core/tools/migration/live/channel';

/** What the channel needs of a WebSocket: the standard API, which `ws` implements too. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (ev: { data?: unknown; code?: number; reason?: string; message?: string }) => void,
  ): void;
}

/** Close code for a refusal (the 4000-4999 range is the application's). */
export const WS_REFUSED = 4000;
const OPEN = 1;
/** Wait while more than this is queued in the socket (a browser's WebSocket has no other backpressure). */
const HIGH_WATER = 4 << 20;

/** The request a page makes: `push`, or `pull DOM`. */
export type WsRequest = { kind: 'push' } | { kind: 'pull'; dom: string };

export function parseWsRequest(text: string): WsRequest {
  const w = text.trim().split(/\s+/);
  if (w.length === 1 && w[0] === 'push') return { kind: 'push' };
  if (w.length === 2 && w[0] === 'pull' && w[1]!.length <= 64) return { kind: 'pull', dom: w[1]! };
  throw new Error(`the first message must be "push" or "pull DOM", not ${JSON.stringify(text.slice(0, 40))}`);
}

export class WebSocketChannel implements MigrationChannel {
  private readonly inbox = new MessageQueue();
  private reason: string | undefined;
  private readonly texts: string[] = [];
  private textWaiter: ((t: string) => void) | null = null;

  constructor(private readonly ws: WebSocketLike) {
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (ev) => {
      const d = ev.data;
      if (typeof d === 'string') {
        if (this.textWaiter) this.textWaiter(d);
        else this.texts.push(d);
      } else if (d instanceof ArrayBuffer) this.inbox.push(new Uint8Array(d));
      else if (ArrayBuffer.isView(d)) this.inbox.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
    });
    ws.addEventListener('close', (ev) => this.fail(ev.reason ? ev.reason : `the connection closed (code ${ev.code ?? '?'})`));
    ws.addEventListener('error', (ev) => this.fail(`the connection failed${ev.message ? `: ${ev.message}` : ''}`));
  }

  /** Resolves once the socket is open; rejects with one line if it cannot be. */
  opened(): Promise<void> {
    if (this.ws.readyState === OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.addEventListener('open', () => resolve());
      this.ws.addEventListener('close', (ev) => reject(new ChannelError(ev.reason || `could not connect (code ${ev.code ?? '?'})`)));
      this.ws.addEventListener('error', () => reject(new ChannelError('could not connect')));
    });
  }

  /** The next text message (the page's request, on the host's side). */
  text(timeoutMs: number): Promise<string> {
    const t = this.texts.shift();
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ChannelError(`no request within ${timeoutMs} ms`)), timeoutMs);
      this.textWaiter = (s) => {
        clearTimeout(timer);
        this.textWaiter = null;
        resolve(s);
      };
    });
  }

  sendText(text: string): void {
    if (this.reason !== undefined) throw new ChannelError(this.reason);
    this.ws.send(text);
  }

  get closed(): string | undefined {
    return this.reason;
  }

  async send(msg: Uint8Array): Promise<void> {
    if (this.reason !== undefined) throw new ChannelError(`send on a closed channel: ${this.reason}`);
    this.ws.send(msg);
    while (this.ws.bufferedAmount > HIGH_WATER && this.reason === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.reason !== undefined) throw new ChannelError(this.reason);
  }

  receive(timeoutMs?: number): Promise<Uint8Array> {
    return this.inbox.receive(timeoutMs);
  }

  /** Close; a `refusal` goes to the peer as the close reason (one line, at most 120 bytes). */
  close(reason = 'closed', refusal = false): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.inbox.close(reason);
    try {
      this.ws.close(refusal ? WS_REFUSED : 1000, reason.split('\n')[0]!.slice(0, 120));
    } catch {
      // already closing
    }
  }

  private fail(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.inbox.close(reason);
  }
}
