/**
 * The migration channel over TCP between Node hosts (core/tools/migration/live/channel.ts):
 * each message is a frame of `u32 length` (little-endian) and the bytes, on one node:net
 * socket. `send` waits for the socket's drain when its buffer is full (backpressure); the
 * peer going away, a socket error or a frame over MAX_FRAME closes the channel with one line.
 *
 *   tcpConnect('10.0.0.2:8002')                  the sender's end (`xl migrate DOM ADDR:PORT`)
 *   tcpListen('127.0.0.1:8002', ch => ...)       a receiver per connection (`hyperlab host --listen`)
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ChannelError, MessageQueue, type MigrationChannel } from '../core/tools/migration/live/channel';

/** The largest frame accepted (the sender's stream pieces are a PAGE_DATA batch, 4 MiB and some). */
export const MAX_FRAME = 64 << 20;

class TcpChannel implements MigrationChannel {
  private readonly inbox = new MessageQueue();
  private parts: Buffer[] = [];
  private have = 0;
  private reason: string | undefined;

  constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (e) => this.fail(`connection error: ${e.message}`));
    sock.on('close', () => this.fail('connection closed by peer'));
  }

  get closed(): string | undefined {
    return this.reason;
  }

  private onData(chunk: Buffer): void {
    // Chunks are kept in a list and joined once a whole frame is there: joining on every
    // chunk would copy a 4 MiB PAGE_DATA batch some 64 times as its 64 KiB pieces arrive.
    this.parts.push(chunk);
    this.have += chunk.length;
    while (this.have >= 4) {
      if (this.parts[0]!.length < 4) this.join();
      const n = this.parts[0]!.readUInt32LE(0);
      if (n > MAX_FRAME) {
        this.fail(`a frame of ${n} bytes (at most ${MAX_FRAME})`);
        this.sock.destroy();
        return;
      }
      if (this.have < 4 + n) break;
      if (this.parts[0]!.length < 4 + n) this.join();
      const head = this.parts[0]!;
      // A copy: the message outlives the socket's buffer.
      this.inbox.push(new Uint8Array(head.subarray(4, 4 + n)));
      const rest = head.subarray(4 + n);
      if (rest.length > 0) this.parts[0] = rest;
      else this.parts.shift();
      this.have -= 4 + n;
    }
  }

  private join(): void {
    this.parts = [Buffer.concat(this.parts)];
  }

  private fail(reason: string): void {
    if (this.reason === undefined) this.reason = reason;
    this.inbox.close(reason);
  }

  send(msg: Uint8Array): Promise<void> {
    if (this.reason !== undefined) return Promise.reject(new ChannelError(`send on a closed channel: ${this.reason}`));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(msg.length, 0);
    this.sock.write(head);
    const ok = this.sock.write(msg);
    if (ok) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        this.sock.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.sock.off('drain', onDrain);
        reject(new ChannelError(this.reason ?? 'connection closed'));
      };
      this.sock.once('drain', onDrain);
      this.sock.once('close', onClose);
    });
  }

  receive(timeoutMs?: number): Promise<Uint8Array> {
    return this.inbox.receive(timeoutMs);
  }

  close(reason = 'closed'): void {
    if (this.reason === undefined) this.reason = reason;
    this.inbox.close(reason);
    this.sock.end(); // after what was written
  }
}

/** `[ADDR:]PORT` (ADDR defaults to `dflt`); throws one line on anything else. */
export function parseHostPort(text: string, dflt = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`'${text}' is not [ADDR:]PORT`); // port 0: any free port (the host prints which)
  return { host: m[1] ?? dflt, port };
}

/** Connect to a listening host. Rejects with one line if nobody answers within `timeoutMs`. */
export function tcpConnect(target: string, timeoutMs = 10_000): Promise<MigrationChannel> {
  const { host, port } = parseHostPort(target);
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ChannelError(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(new TcpChannel(sock));
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(new ChannelError(`cannot reach ${host}:${port}: ${e.message}`));
    });
  });
}

/** Listen on `[ADDR:]PORT` (ADDR defaults to 127.0.0.1); `onChannel` gets a channel per connection. Resolves once listening. */
export function tcpListen(where: string, onChannel: (ch: MigrationChannel, peer: string) => void): Promise<Server> {
  const { host, port } = parseHostPort(where);
  const server = createServer((sock) => onChannel(new TcpChannel(sock), `${sock.remoteAddress}:${sock.remotePort}`));
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${host}:${port}: ${e.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}
