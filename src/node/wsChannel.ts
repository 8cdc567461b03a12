/**
 * `hyperlab host --listen-ws [ADDR:]PORT`: live migrations to and from a browser page over
 * WebSocket (the `ws` package). The page connects (a page cannot listen) and says what it
 * wants in its first message (src/web/worker/migrateWebSocket.ts): `push` (it sends a domain;
 * this host runs the receiver, as for `--listen`'s TCP) or `pull DOM` (this host sends DOM
 * to it with the core's migrateSend: log-dirty rounds, the handshake, destroyed here once
 * the page reports it running, resumed here on any failure before). Its lines go to stderr
 * as xl's do; what arrived or left goes to stdout.
 */
import { createRequire } from 'node:module';
import type { WebSocket, WebSocketServer as WsServer } from 'ws';
import type { Toolstack } from '../core/tools/toolstack';
import { migrateReceive } from '../core/tools/migration/live/receive';
import { checkMigratable, migrateSend } from '../core/tools/migration/live/send';
import { parseWsRequest, WebSocketChannel, type WebSocketLike } from '../web/worker/migrateWebSocket';
import { acceptWsLink } from './bridgeLink';

// Loaded at run time, not bundled: `ws` is CommonJS, which the CLI's ESM bundle (bin/bundle.js) cannot inline.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: typeof WsServer };

const line = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** `[ADDR:]PORT` → address and port (default address 127.0.0.1: a lab host is not for the network at large). */
export function parseWsListen(where: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(where.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`${JSON.stringify(where)}: expected [ADDR:]PORT`);
  return { host: m[1] ?? '127.0.0.1', port };
}

export interface WsListener {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve migrations over WebSocket on `where` until closed. */
export async function listenWs(ts: Toolstack, where: string, out: { log: (l: string) => void; info: (l: string) => void }): Promise<WsListener> {
  const { host, port } = parseWsListen(where);
  const server = new WebSocketServer({ host, port, maxPayload: 256 << 20 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.on('error', (e) => out.log(`hyperlab host: WebSocket: ${line(e)}`));
  server.on('connection', (ws: WebSocket, req) => {
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    void serve(ts, new WebSocketChannel(ws as unknown as WebSocketLike), peer, out);
  });
  const a = server.address();
  const url = `ws://${typeof a === 'object' && a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : where}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function serve(ts: Toolstack, ch: WebSocketChannel, peer: string, out: { log: (l: string) => void; info: (l: string) => void }): Promise<void> {
  let req;
  try {
    const first = await ch.text(10_000);
    if (/^link(\s|$)/.test(first)) {
      acceptWsLink(ts, ch, first, peer); // a bridge link (bridgeLink.ts): the connection is the link's from now on
      out.info(`hyperlab host: a bridge link from ${peer}`);
      return;
    }
    req = parseWsRequest(first);
  } catch (e) {
    out.log(`xl: migration from ${peer} refused: ${line(e)}`);
    ch.close(line(e), true);
    return;
  }
  if (req.kind === 'push') {
    try {
      const d = await migrateReceive(ts, ch, { log: out.log });
      out.info(`Domain ${d.domid} (${d.name}) migrated in from ${peer}`);
    } catch (e) {
      out.log(`xl: ${line(e)}`);
    } finally {
      ch.close();
    }
    return;
  }
  let d;
  try {
    d = ts.find(req.dom);
    checkMigratable(ts, d);
  } catch (e) {
    out.log(`xl: migration to ${peer} refused: ${line(e)}`);
    ch.close(line(e), true);
    return;
  }
  try {
    const stats = await migrateSend(ts, d, ch, { log: out.log });
    out.info(`Migrated domain ${stats.domid} (${stats.name}) to ${peer}: ${stats.rounds.length} rounds, downtime ${stats.downtimeMs.toFixed(1)} ms`);
  } catch (e) {
    out.log(`xl: migration of domain ${d.domid} to ${peer} failed: ${line(e)}`);
  } finally {
    ch.close();
  }
}
