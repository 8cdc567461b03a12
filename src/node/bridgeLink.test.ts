/**
 * Links between two hosts' bridges over TCP (core/net/link.ts, core/tools/netLinks.ts,
 * bridgeLink.ts): two hypervisors in this process, each with a pv teaching OS on its xenbr0;
 * host B listens as `hyperlab host --listen` does (one port for migrations and links), host
 * A runs `xl network-link xenbr0 ADDR:PORT`. Host A's Domain-0 moves to slot 2 (10.0.0.2)
 * of the segment, the guests take DHCP leases from their own hosts' pools and ping each
 * other and the other host's Domain-0 across the link; the link port's counters move; the
 * link cut mid-ping loses pings and nothing crashes; malformed PDUs on the socket are
 * counted; a second link to the same host is refused.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { runXl } from '../core/tools/xl';
import { migrateReceive } from '../core/tools/migration/live/receive';
import { linksOf } from '../core/tools/netLinks';
import { consoleText, until, waitForConsole } from '../testing/support';
import { linkOrMigration } from './bridgeLink';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { tcpConnect, tcpListen } from './tcpChannel';
import { WebSocket } from 'ws';
import { listenWs, type WsListener } from './wsChannel';
import { linkWebSocket } from '../web/worker/netLink';
import type { WebSocketLike } from '../web/worker/migrateWebSocket';

const hvs: Hypervisor[] = [];
let server: Server | undefined;
let wsServer: WsListener | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
  await wsServer?.close();
  wsServer = undefined;
  for (const h of hvs.splice(0)) h.shutdownHost();
});

const out = (d: Domain): string => consoleText(d, { lf: true });

function newHost(): { hv: Hypervisor; ts: Toolstack; xl: (...argv: string[]) => Promise<string> } {
  const hv = new Hypervisor({ memoryMiB: 48, pcpus: 1, host: nodeVcpuHost(ensureBundleSync()) });
  hvs.push(hv);
  hv.start();
  const ts = new Toolstack(hv, { readFile: () => readFileSync(guestImage('teaching-os-pv')) });
  const xl = async (...argv: string[]): Promise<string> => {
    const lines: string[] = [];
    const r = runXl(ts, argv, { out: (t) => lines.push(t), readFile: () => '', migrationChannel: (where) => tcpConnect(where) });
    if (r.pending) await r.pending;
    return lines.join('\n');
  };
  return { hv, ts, xl };
}

async function run(h: Hypervisor, d: Domain, line: string, expect: RegExp | string, ms = 60_000): Promise<string> {
  const mark = out(d).length;
  h.consoleInput(d.domid, new TextEncoder().encode(`${line}\n`));
  await waitForConsole(d, expect, { from: mark, lf: true, ms });
  await waitForConsole(d, new RegExp(`${d.name}\\$ $`), { from: mark, lf: true, ms });
  return out(d).slice(mark);
}

describe('links between hosts’ bridges over TCP', () => {
  it('two hosts, a pv teaching OS on each: DHCP from each host, pings across the link both ways and from Domain-0, then the link cut', async () => {
    const A = newHost(),
      B = newHost();
    server = await tcpListen('127.0.0.1:0', (ch, peer) => {
      const c = linkOrMigration(B.ts, ch, peer);
      migrateReceive(B.ts, c).catch(() => {});
    });
    const addr = server.address();
    const where = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    const a = A.ts.create(`name = "alpha"\ntype = "pv"\nmemory = 16\nkernel = "tos"\nvif = [ 'mac=00:16:3e:00:0a:01' ]`);
    const b = B.ts.create(`name = "beta"\ntype = "pv"\nmemory = 16\nkernel = "tos"\nvif = [ 'mac=00:16:3e:00:0b:01' ]`);

    const said = await A.xl('network-link', 'xenbr0', where);
    expect(said).toBe(`link0: xenbr0 linked to ${where}`);
    // A joined: its Domain-0 moved to slot 2 of the segment.
    expect(A.ts.nets.dom0.ip).toBe(0x0a000002);
    expect(B.ts.nets.dom0.ip).toBe(0x0a000001);
    await until(() => linksOf(B.ts).links[0]?.peers.get(linksOf(A.ts).hostId)?.slot === 2, 10_000, 'B hearing where A moved');
    const list = await A.xl('network-link');
    expect(list).toMatch(/^link0\s+xenbr0\s+up\s+[0-9a-f]{8}\/1\s/m);
    expect(list).toContain('Domain-0 in slot 2 (10.0.0.2)');
    expect(await B.xl('brctl', 'show')).toMatch(/link0/);

    for (const [h, d] of [
      [A.hv, a],
      [B.hv, b],
    ] as const) {
      await waitForConsole(d, /net: eth0 \(vif 0\): mac 00:16:3e:00:0[ab]:01, connected to domain 0/, { lf: true, ms: 60_000 });
      await waitForConsole(d, new RegExp(`${d.name}\\$ $`), { lf: true, ms: 60_000 });
      void h;
    }
    // Each guest's lease comes from its own host's pool (its server answers first).
    expect(await run(A.hv, a, 'ifconfig dhcp', 'dhcp:')).toMatch(/dhcp: eth0 leased 10\.0\.0\.200\/24 from 10\.0\.0\.2/);
    expect(await run(B.hv, b, 'ifconfig dhcp', 'dhcp:')).toMatch(/dhcp: eth0 leased 10\.0\.0\.100\/24 from 10\.0\.0\.1/);

    const la = linksOf(A.ts).links[0]!;
    const before = { ...la.port.counters };
    const p1 = await run(A.hv, a, 'ping 10.0.0.100 3', 'ping statistics');
    expect(p1).toContain('3 packets transmitted, 3 received, 0% packet loss');
    expect(await run(B.hv, b, 'ping 10.0.0.200 2', 'ping statistics')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(la.port.counters.txFrames - before.txFrames).toBeGreaterThanOrEqual(5);
    expect(la.port.counters.rxFrames - before.rxFrames).toBeGreaterThanOrEqual(5);

    // Domain-0 of host A pings the guest on host B, and host B's Domain-0.
    const d0 = await A.xl('ping', '-c', '2', '-i', '0.2', '10.0.0.100');
    expect(d0).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(await A.xl('ping', '-c', '1', '10.0.0.1')).toContain('1 packets transmitted, 1 received');
    // Host A's bridge learned beta's MAC behind the link.
    expect(
      A.ts.nets.bridges
        .get('xenbr0')!
        .fdbEntries()
        .find((e) => e.mac === '00:16:3e:00:0b:01')?.port,
    ).toBe('link0');

    // A second link to the same host is refused (a loop).
    const twice = await A.xl('network-link', 'xenbr0', where);
    expect(twice).toMatch(/linked already|closed by the peer/);
    await until(() => linksOf(A.ts).links.length === 1 && linksOf(B.ts).links.length === 1, 10_000, 'the second link gone');

    // Malformed PDUs on a raw connection are counted; the link stays up.
    const raw = await tcpConnect(where);
    await raw.receive(10_000); // the migration banner
    const { encodeHello } = await import('../core/net/linkFraming');
    await raw.send(encodeHello({ v: 1, host: 0x1234, bridge: 'xenbr0', role: 'join', slot: 5, used: [] }));
    await until(() => linksOf(B.ts).links.length === 2, 10_000, 'the raw link accepted');
    for (const m of [new Uint8Array(3), Uint8Array.of(2, 8, 0, 99, 0, 0, 0x12, 0x34, 1, 2), Uint8Array.of(77, 0, 0, 0, 0, 0, 0x12, 0x34)]) await raw.send(m);
    const rawLink = linksOf(B.ts).links[1]!;
    await until(() => rawLink.counters.bad.short + rawLink.counters.bad.length + rawLink.counters.bad.type === 3, 10_000, 'the bad PDUs counted');
    raw.close();
    await until(() => linksOf(B.ts).links.length === 1, 10_000, 'the raw link gone');

    // The link cut while alpha pings: what is lost is lost, and nothing crashes.
    const mark = out(a).length;
    A.hv.consoleInput(a.domid, new TextEncoder().encode('ping 10.0.0.100 6\n'));
    await waitForConsole(a, /icmp_seq=1 /, { from: mark, lf: true, ms: 30_000 });
    await A.xl('network-unlink', 'link0');
    await waitForConsole(a, 'ping statistics', { from: mark, lf: true, ms: 60_000 });
    const stats = /6 packets transmitted, (\d) received/.exec(out(a).slice(mark));
    expect(stats).not.toBeNull();
    expect(Number(stats![1])).toBeLessThan(6);
    await until(() => linksOf(B.ts).links.length === 0, 10_000, 'B seeing the link go');
    expect(B.ts.nets.bridges.get('xenbr0')!.port('link0')).toBeUndefined();
    // Each host goes on on its own.
    expect(await run(B.hv, b, 'ping 10.0.0.1 1', 'ping statistics')).toContain('1 packets transmitted, 1 received');
    expect(await A.xl('ping', '-c', '1', '10.0.0.200')).toContain('1 packets transmitted, 1 received');
  }, 240_000);

  it("a page's link over WebSocket to `hyperlab host --listen-ws` (the page's code with the ws package): the two Domain-0s ping each other", async () => {
    const A = newHost(),
      B = newHost();
    const lines: string[] = [];
    wsServer = await listenWs(B.ts, '127.0.0.1:0', { log: (l) => lines.push(l), info: (l) => lines.push(l) });
    const link = await linkWebSocket(linksOf(A.ts), 'xenbr0', wsServer.url, (u) => new WebSocket(u) as unknown as WebSocketLike);
    await until(() => link.state === 'up', 10_000, 'the link up');
    expect(link.remote).toBe(`websocket ${wsServer.url}`);
    expect(lines.some((l) => /a bridge link from 127\.0\.0\.1:\d+/.test(l))).toBe(true);
    expect(A.ts.nets.dom0.ip).toBe(0x0a000002);
    expect(await A.xl('ping', '-c', '2', '-i', '0.1', '10.0.0.1')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(await B.xl('ping', '-c', '1', '10.0.0.2')).toContain('1 packets transmitted, 1 received');
    const lb = linksOf(B.ts).links[0]!;
    expect(lb.port.counters.rxFrames).toBeGreaterThanOrEqual(3);
    // A page asking for a bridge the host does not have is refused with one line.
    await expect(linkWebSocket(linksOf(A.ts), 'xenbr7', wsServer.url, (u) => new WebSocket(u) as unknown as WebSocketLike)).rejects.toThrow(/no bridge xenbr7/);
    link.close('unlinked');
    await until(() => linksOf(B.ts).links.length === 0, 10_000, 'B seeing the link go');
  }, 60_000);

  it('a guest migrated over TCP to the linked host stays reachable: Domain-0 of the source host pings it after the move', async () => {
    const A = newHost(),
      B = newHost();
    server = await tcpListen('127.0.0.1:0', (ch, peer) => {
      const c = linkOrMigration(B.ts, ch, peer);
      migrateReceive(B.ts, c).catch(() => {});
    });
    const addr = server.address();
    const where = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    expect(await A.xl('network-link', 'xenbr0', where)).toBe(`link0: xenbr0 linked to ${where}`);
    const a = A.ts.create(`name = "rover"\ntype = "pv"\nmemory = 16\nmaxmem = 16\nkernel = "tos"\nvif = [ 'mac=00:16:3e:00:0c:01' ]`);
    await waitForConsole(a, /connected to domain 0/, { lf: true, ms: 60_000 });
    await waitForConsole(a, /rover\$ $/, { lf: true, ms: 60_000 });
    expect(await run(A.hv, a, 'ifconfig dhcp', 'dhcp:')).toMatch(/leased 10\.0\.0\.200\/24 from 10\.0\.0\.2/);
    expect(await A.xl('ping', '-c', '1', '10.0.0.200')).toContain('1 packets transmitted, 1 received');

    // The same port takes the migration (the listener tells it from a link by its first message).
    expect(await A.xl('migrate', 'rover', where)).toMatch(/Migrated domain \d+ \(rover\) to /);
    await until(() => [...B.hv.domains.values()].some((d) => d.name === 'rover'), 30_000, 'rover on B');
    expect([...A.hv.domains.values()].some((d) => d.name === 'rover')).toBe(false);
    // Host A's bridge learned from the RARP sent on resume that rover is behind the link now.
    await until(
      () =>
        A.ts.nets.bridges
          .get('xenbr0')!
          .fdbEntries()
          .find((e) => e.mac === '00:16:3e:00:0c:01')?.port === 'link0',
      10_000,
      'the RARP across',
    );
    // It suspended itself cooperatively (docs/migration.md) and reconnects its netfront on resume; frames before that are dropped, as with Linux.
    const moved = [...B.hv.domains.values()].find((d) => d.name === 'rover')!;
    await waitForConsole(moved, 'control: net eth0 reconnected', { ms: 60_000 });
    expect(await A.xl('ping', '-c', '2', '-i', '0.2', '10.0.0.200')).toContain('2 packets transmitted, 2 received, 0% packet loss');
    expect(await run(B.hv, moved, 'ping 10.0.0.2 1', 'ping statistics')).toContain('1 packets transmitted, 1 received');
  }, 120_000);
});
