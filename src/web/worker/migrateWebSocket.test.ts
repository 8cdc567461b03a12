/**
 * Page <-> Node host live migration over WebSocket: a real `hyperlab host --listen-ws`
 * process, and the browser's hypervisor service in this process (its WebSocket is the `ws`
 * package's, which has the browser's API). A running pv teaching OS goes to the host (the
 * host prints it migrated in), comes back with `pull` (the host prints it migrated out) and
 * answers here with the xenstore node it wrote before it left; a pull of a domain the host
 * does not have is refused in one line and nothing is built.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ensureBundleSync } from '../../node/testBundle';
import { projectRoot } from '../../node/paths';
import { nodeVcpuHost } from '../../node/vcpuHost';
import { parseWsListen } from '../../node/wsChannel';
import type { GuestFile, HvEvent } from '../protocol/hvProtocol';
import { HypervisorService } from './hypervisorService';
import type { WebSocketLike } from './migrateWebSocket';
import { until } from '../../testing/support';

const GUESTS = join(projectRoot(), 'public', 'guests');
const catalog: GuestFile[] = readdirSync(GUESTS)
  .filter((f) => f.endsWith('.elf'))
  .map((file) => ({ name: file.slice(0, -4), file, size: statSync(join(GUESTS, file)).size }));
const HAVE_TOS = existsSync(join(GUESTS, 'teaching-os-pv.elf'));

let child: ChildProcess | undefined;
let svc: HypervisorService | undefined;
afterEach(() => {
  svc?.close();
  if (child?.exitCode === null) child.kill('SIGTERM');
});

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

it('parses [ADDR:]PORT', () => {
  expect(parseWsListen('8790')).toEqual({ host: '127.0.0.1', port: 8790 });
  expect(parseWsListen('0.0.0.0:1')).toEqual({ host: '0.0.0.0', port: 1 });
  expect(() => parseWsListen('x:70000')).toThrow(/expected \[ADDR:\]PORT/);
});

describe.skipIf(!HAVE_TOS)('live migration between the page and hyperlab host --listen-ws', () => {
  it('a running pv teaching OS goes to the host and comes back with its state; a pull of a missing domain is one line', async () => {
    const host = spawn(process.execPath, [join(projectRoot(), 'bin', 'hyperlab.js'), 'host', '--mem', '64M', '--listen-ws', '127.0.0.1:0'], {
      cwd: projectRoot(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = host;
    let out = '',
      err = '';
    host.stdout.on('data', (b: Buffer) => (out += b.toString()));
    host.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await until(() => /on (ws:\/\/\S+)/.test(err), 60_000, 'the host listening');
    const url = /on (ws:\/\/\S+)/.exec(err)![1]!;

    const s = new HypervisorService({
      host: nodeVcpuHost(ensureBundleSync()),
      memoryMiB: 48,
      pcpus: 1,
      fetchGuest: (file) => Promise.resolve(new Uint8Array(readFileSync(join(GUESTS, file)))),
      openWebSocket: (u) => new WebSocket(u) as unknown as WebSocketLike,
    });
    svc = s;
    const events: HvEvent[] = [];
    s.attach({ guestBaseUrl: 'unused/', catalog }, (batch) => events.push(...batch));
    const text = (domid: number): string =>
      events.map((e) => (e.type === 'console' && e.domid === domid ? Buffer.from(e.bytes).toString('latin1') : '')).join('');

    const row = ok(await s.createDomain({ preset: 'teaching-os-pv', name: 'roamer' }));
    await until(() => /roamer\$ $/.test(text(row.domid)), 30_000, 'the prompt');
    ok(s.consoleInput(row.domid, new TextEncoder().encode('xs write data/born page\n')));
    await until(() => /page\r?\nroamer\$ $/.test(text(row.domid)), 30_000, 'xs write');

    const there = ok(await s.migrateToHost(row.domid, url));
    expect(there.name).toBe('roamer');
    expect(there.rounds.length).toBeGreaterThanOrEqual(1);
    expect(s.list()).toEqual([]);
    await until(() => /Domain \d+ \(roamer\) migrated in from /.test(out), 30_000, 'the host saying it arrived');

    const missing = await s.migrateFromHost(url, 'nosuch');
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error).toMatch(/^migration of nosuch from ws:\/\/\S+ failed: [^\n]+$/);
    expect(s.list()).toEqual([]);

    const back = ok(await s.migrateFromHost(url, 'roamer'));
    expect(back.name).toBe('roamer');
    await until(() => /Migrated domain \d+ \(roamer\) to /.test(out), 30_000, 'the host saying it left');
    const from = text(back.domid).length;
    ok(s.consoleInput(back.domid, new TextEncoder().encode('xs read data/born\n')));
    await until(() => text(back.domid).slice(from).includes('page'), 30_000, 'the node written on the page');
    expect(
      events.some((e) => e.type === 'migration' && e.notice.side === 'receive' && e.notice.event.kind === 'phase' && e.notice.event.phase === 'done'),
    ).toBe(true);
  }, 150_000);
});
