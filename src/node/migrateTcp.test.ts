/**
 * Live migration between hosts over TCP (tcpChannel.ts, `hyperlab host --listen`, `xl
 * migrate DOM ADDR:PORT`) on 127.0.0.1:
 * - two `hyperlab host` processes: the domain leaves one and runs on the other;
 * - a teaching OS migrated in the middle of a `burn` from this process to a host process
 *   finishes it there (its console, read through `xl console`, has the result);
 * - the target killed mid-migration: the source resumes and answers at its prompt;
 * - the source killed after the handover: the target owns the domain, which runs on.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import type { Domain } from '../core/xen/common/domain';
import { migrateSend } from '../core/tools/migration/live/send';
import { migrateReceive } from '../core/tools/migration/live/receive';
import { consoleText, typeInto, until, waitForConsole } from '../testing/support';
import { ensureBundleSync } from './testBundle';
import { guestImage, projectRoot } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { tcpConnect, tcpListen } from './tcpChannel';

const children: ChildProcessWithoutNullStreams[] = [];
let hv: Hypervisor | undefined;
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  hv?.shutdownHost();
  hv = undefined;
});

/** A `hyperlab host` process with its stdin open for commands; out/err accumulate. */
function host(...args: string[]): { p: ChildProcessWithoutNullStreams; out: () => string; err: () => string; send: (line: string) => void } {
  const p = spawn(process.execPath, [join(projectRoot(), 'bin', 'hyperlab.js'), 'host', '--mem', '96M', ...args], { cwd: projectRoot() });
  children.push(p);
  let out = '',
    err = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { p, out: () => out, err: () => err, send: (line) => p.stdin.write(`${line}\n`) };
}

/** Start a listening host on a free port; resolves with it and its ADDR:PORT. */
async function listeningHost(): Promise<ReturnType<typeof host> & { addr: string }> {
  const h = host('--listen', '127.0.0.1:0');
  await until(() => /listening for migrations on (\S+)/.test(h.err()), 60_000, 'the host listening');
  return { ...h, addr: /listening for migrations on (\S+)/.exec(h.err())![1]! };
}

function localHost(): { hv: Hypervisor; ts: Toolstack } {
  hv = new Hypervisor({ memoryMiB: 96, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  hv.start();
  return { hv, ts: new Toolstack(hv, { readFile: (p) => readFileSync(guestImage(p)) }) };
}

const cfg = (type: 'pv' | 'hvm', name: string): string =>
  `name = "${name}"\ntype = "${type}"\nmemory = 16\nmaxmem = 16\nkernel = "teaching-os-${type}"\non_poweroff = "preserve"`;

describe('live migration over TCP', () => {
  it('xl migrate DOM ADDR:PORT between two hyperlab host processes', async () => {
    const target = await listeningHost();
    const source = host('examples/teaching-os-pv.cfg');
    source.send('sleep 2');
    source.send(`migrate tos-pv ${target.addr}`);
    source.send('list');
    await until(() => /Migrated domain 1 \(tos-pv\) to /.test(source.out()), 90_000, 'the summary line');
    expect(source.out()).toMatch(/Savedata: round 0: 4096 pages sent/);
    expect(source.out()).toMatch(/migration sender: Target reports successful startup\./);
    await until(() => /Domain 1 \(tos-pv\) migrated in from 127\.0\.0\.1:\d+/.test(target.out()), 30_000, 'the target reports');
    expect(target.err()).toMatch(/migration target: Got permission, starting domain\./);
    target.send('list');
    await until(() => /tos-pv\s+1\s+16\s+1\s/.test(target.out()), 30_000, 'the domain listed on the target');
    // The source's list after the migration has Domain-0 only.
    await until(() => /Name\s+ID/.test(source.out()), 30_000, 'the source list');
    expect(source.out().split(/Name\s+ID/)[1]).not.toMatch(/tos-pv/);
  }, 180_000);

  it('xl migrate DOM localhost at the host prompt: the domain moves to a new domid on the same host', async () => {
    const h = host('examples/teaching-os-pv.cfg');
    h.send('sleep 2');
    h.send('migrate tos-pv localhost');
    h.send('list');
    h.send('migrate -x tos-pv localhost');
    await until(() => /Migrated domain 1 \(tos-pv\) to localhost: \d+ rounds/.test(h.out()), 90_000, 'the summary line');
    await until(() => /tos-pv\s+2\s+16\s+1\s/.test(h.out()), 30_000, 'the domain listed as domain 2');
    await until(() => /xl: migrate: unknown option -x/.test(h.err()), 30_000, 'a usage error');
  }, 120_000);

  it('a teaching OS migrated mid-burn to a host process finishes the burn there', async () => {
    const target = await listeningHost();
    const { hv: h, ts } = localHost();
    const a = ts.create(cfg('hvm', 'tos'));
    await waitForConsole(a, 'tos$ ');
    typeInto(h, a, 'burn 1000\n'); // long enough to be still running when the stream ends, with the translation tier on too
    await new Promise((r) => setTimeout(r, 100));
    const stats = await migrateSend(ts, a, await tcpConnect(target.addr));
    expect(consoleText(a)).not.toContain('burn: 1000 million');
    expect(h.domains.size).toBe(0);
    expect(stats.rounds.at(-1)!.decision).toBe('final');
    // xl console in a non-interactive host prints what the domain wrote since it arrived.
    await until(
      () => {
        target.send('console tos');
        return /burn: 1000 million iterations of xorshift32, result 0x[0-9a-f]{8}/.test(target.out());
      },
      90_000,
      'the burn result on the target',
      500,
    );
  }, 180_000);

  it('the target killed mid-migration: the source resumes where it was', async () => {
    const target = await listeningHost();
    const { hv: h, ts } = localHost();
    const a = ts.create(cfg('pv', 'tos'));
    await waitForConsole(a, 'tos$ ');
    const ch = await tcpConnect(target.addr);
    const sending = migrateSend(ts, a, ch, {
      timeoutMs: 20_000,
      onProgress: (e) => {
        if (e.kind === 'round' && e.stats.round === 0) target.p.kill('SIGKILL');
      },
    });
    await expect(sending).rejects.toThrow(/resumed at sender/);
    expect([...h.domains.values()]).toEqual([a]);
    expect(a.name).toBe('tos');
    expect(a.paused).toBe(false);
    typeInto(h, a, 'uptime\n');
    await waitForConsole(a, /timing: up \d+\.\d s/, { from: consoleText(a).length });
  }, 120_000);

  it('the source killed after the handover: the target owns the domain', async () => {
    const { hv: h, ts } = localHost();
    let source: ReturnType<typeof host> | undefined;
    const received: Promise<Domain>[] = [];
    const server = await tcpListen('127.0.0.1:0', (ch) => {
      received.push(
        migrateReceive(ts, ch, {
          onProgress: (e) => {
            // The permission to go has arrived (the source is past its point of no return): kill it.
            if (e.kind === 'phase' && e.phase === 'handover') source?.p.kill('SIGKILL');
          },
        }),
      );
    });
    try {
      const port = (server.address() as { port: number }).port;
      source = host('examples/teaching-os-pv.cfg');
      source.send('sleep 2');
      source.send(`migrate tos-pv 127.0.0.1:${port}`);
      await until(() => received.length > 0, 60_000, 'a connection');
      const d = await received[0]!;
      expect(d.name).toBe('tos-pv');
      expect(d.paused).toBe(false);
      await until(() => source!.p.exitCode !== null || source!.p.signalCode !== null, 30_000, 'the source gone');
      typeInto(h, d, 'uptime\n');
      await waitForConsole(d, /timing: up \d+\.\d s/);
    } finally {
      server.close();
    }
  }, 180_000);
});
