/**
 * The migration channels: the TCP one (tcpChannel.ts) keeps message boundaries and order for
 * messages from 0 bytes to several MiB, reports the peer closing as one line, refuses a frame
 * over MAX_FRAME, and times out a receive; the in-process pair delivers after the sender's
 * call and passes the close on after what was sent.
 */
import { createConnection } from 'node:net';
import { expect, it } from 'vitest';
import { channelPair, ChannelError, type MigrationChannel } from '../core/tools/migration/live/channel';
import { MAX_FRAME, parseHostPort, tcpConnect, tcpListen } from './tcpChannel';

async function tcpPair(): Promise<{ a: MigrationChannel; b: MigrationChannel; close: () => void }> {
  let b: MigrationChannel | undefined;
  const server = await tcpListen('127.0.0.1:0', (ch) => (b = ch));
  const a = await tcpConnect(`127.0.0.1:${(server.address() as { port: number }).port}`);
  for (let i = 0; i < 200 && !b; i++) await new Promise((r) => setTimeout(r, 5));
  return { a, b: b!, close: () => server.close() };
}

it('TCP: messages arrive whole and in order, large ones too; a close reaches the peer as one line', async () => {
  const { a, b, close } = await tcpPair();
  try {
    const big = new Uint8Array(5 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const msgs = [new Uint8Array(0), Uint8Array.of(1, 2, 3), big, new TextEncoder().encode('domain received, ready to unpause\0')];
    for (const m of msgs) await a.send(m);
    for (const m of msgs) expect(Buffer.compare(await b.receive(10_000), m)).toBe(0); // (toEqual on 5 MiB is slow)
    await expect(b.receive(50)).rejects.toThrow(/within 50 ms/); // a timeout leaves the channel usable
    await b.send(Uint8Array.of(9));
    expect(await a.receive(10_000)).toEqual(Uint8Array.of(9));
    a.close();
    const e = await b.receive(10_000).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ChannelError);
    expect((e as Error).message).toBe('connection closed by peer');
    await expect(a.send(Uint8Array.of(1))).rejects.toThrow(/closed/);
  } finally {
    close();
  }
}, 30_000);

it('TCP: a frame longer than MAX_FRAME is refused and the connection dropped', async () => {
  let b: MigrationChannel | undefined;
  const server = await tcpListen('127.0.0.1:0', (ch) => (b = ch));
  try {
    const sock = createConnection({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
    await new Promise((r) => sock.once('connect', r));
    const head = Buffer.alloc(4);
    head.writeUInt32LE(MAX_FRAME + 1, 0);
    sock.write(head);
    for (let i = 0; i < 200 && !b; i++) await new Promise((r) => setTimeout(r, 5));
    await expect(b!.receive(10_000)).rejects.toThrow(`a frame of ${MAX_FRAME + 1} bytes`);
    sock.destroy();
  } finally {
    server.close();
  }
}, 30_000);

it('TCP: addresses are [ADDR:]PORT; nobody listening is one line', async () => {
  expect(parseHostPort('8002')).toEqual({ host: '127.0.0.1', port: 8002 });
  expect(parseHostPort('10.0.0.2:8002')).toEqual({ host: '10.0.0.2', port: 8002 });
  expect(() => parseHostPort('host')).toThrow(/not \[ADDR:\]PORT/);
  expect(() => parseHostPort('1:99999')).toThrow(/not \[ADDR:\]PORT/);
  // A port nobody listens on (one just closed).
  const s = await tcpListen('127.0.0.1:0', () => {});
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  await expect(tcpConnect(`127.0.0.1:${port}`)).rejects.toThrow(/^cannot reach 127\.0\.0\.1:\d+: /);
}, 30_000);

it('in-process pair: delivered after the call returns, in order; a close follows what was sent', async () => {
  const [a, b] = channelPair();
  let got: Uint8Array | undefined;
  void b.receive().then((m) => (got = m));
  await a.send(Uint8Array.of(1));
  await a.send(Uint8Array.of(2));
  a.close('sender gone');
  await new Promise((r) => setTimeout(r, 0));
  expect(got).toEqual(Uint8Array.of(1));
  expect(await b.receive()).toEqual(Uint8Array.of(2));
  await expect(b.receive()).rejects.toThrow('sender gone');
  expect(b.closed).toBe('sender gone');
});
