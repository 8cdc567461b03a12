/**
 * The browser's hypervisor service, run in Node with worker_threads vCPUs (the same core,
 * the other host): batching, xentop rows, Domain-0's commands, config errors with their
 * line, pause, destroy, reboot, and typing into consoles.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../node/testBundle';
import { projectRoot } from '../../node/paths';
import { nodeVcpuHost } from '../../node/vcpuHost';
import type { DomainRow, GuestFile, HvEvent } from '../protocol/hvProtocol';
import { HypervisorService } from './hypervisorService';
import { echoImage, spinImage, truncatedElf } from '../testing/testPrograms';
import { sleep, until } from '../../testing/support';

const GUESTS = join(projectRoot(), 'public', 'guests');
const catalog: GuestFile[] = readdirSync(GUESTS)
  .filter((f) => f.endsWith('.elf'))
  .map((file) => ({ name: file.slice(0, -4), file, size: statSync(join(GUESTS, file)).size }));
const HAVE_TOS = existsSync(join(GUESTS, 'teaching-os-pv.elf')) && existsSync(join(GUESTS, 'teaching-os-hvm.elf'));

let svc: HypervisorService | undefined;
afterEach(() => svc?.close());

/** A service with its event batches recorded, each with the time it arrived. */
function service(): { svc: HypervisorService; batches: { atMs: number; events: readonly HvEvent[] }[]; text: (domid: number) => string } {
  const s = new HypervisorService({
    host: nodeVcpuHost(ensureBundleSync()),
    memoryMiB: 128,
    pcpus: 2,
    fetchGuest: (file) => Promise.resolve(new Uint8Array(readFileSync(join(GUESTS, file)))),
  });
  svc = s;
  const batches: { atMs: number; events: readonly HvEvent[] }[] = [];
  s.attach({ guestBaseUrl: 'unused/', catalog }, (events) => batches.push({ atMs: performance.now(), events }));
  const text = (domid: number): string =>
    batches
      .flatMap((b) => b.events)
      .map((e) => (e.type === 'console' && e.domid === domid ? Buffer.from(e.bytes).toString('latin1') : ''))
      .join('');
  return { svc: s, batches, text };
}

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('hypervisor service', () => {
  it('creates a preset; console bytes arrive in batches at most every ~16 ms, after the created event', async () => {
    const { svc, batches, text } = service();
    const row = ok(await svc.createDomain({ preset: 'hello' }));
    expect(row).toMatchObject({ name: 'hello', type: 'hvm', memKiB: 16 * 1024 });
    await until(() => text(row.domid).includes('hello: PASS'));
    expect(text(row.domid)).toContain('Hello from hyperlab');
    const events = batches.flatMap((b) => b.events);
    const created = events.findIndex((e) => e.type === 'created' && e.row.domid === row.domid);
    const firstConsole = events.findIndex((e) => e.type === 'console');
    expect(created).toBeGreaterThanOrEqual(0);
    expect(created).toBeLessThan(firstConsole);
    // Far fewer messages than bytes, and console batches spaced by the flush interval; the
    // last may come sooner, ahead of the report that the domain shut down.
    const withConsole = batches.filter((b) => b.events.some((e) => e.type === 'console'));
    expect(withConsole.length).toBeLessThan(text(row.domid).length / 20);
    for (let i = 1; i < withConsole.length - 1; i++) expect(withConsole[i]!.atMs - withConsole[i - 1]!.atMs).toBeGreaterThan(12);
  });

  it('reports xentop rows about ten times a second; powering off is reported as shutdown with PASS', async () => {
    const { svc, batches } = service();
    const { domid } = ok(await svc.createDomain({ preset: 'hello' }));
    const rows = (): DomainRow[] =>
      batches.flatMap((b) => b.events).flatMap((e) => (e.type === 'stats' ? e.report.domains.filter((r) => r.domid === domid) : []));
    await until(() => rows().some((r) => r.state === 'shutdown'));
    expect(rows().at(-1)!.shutdown).toEqual({ reason: 'poweroff', detail: 'PASS' });
    const t0 = performance.now();
    const n0 = batches.length;
    await sleep(500);
    const reports = batches.slice(n0).filter((b) => b.events.some((e) => e.type === 'stats')).length;
    expect(reports).toBeGreaterThanOrEqual(3);
    expect(reports).toBeLessThanOrEqual(Math.ceil((performance.now() - t0) / 100) + 1);
    const report = svc.stats();
    expect(report.host.pcpus).toBe(2);
    expect(report.host.freeKiB).toBe(report.host.totalKiB - 16 * 1024);
  });

  it('answers Domain-0 commands: xl list, xl create from /etc/xen, ls, cat, errors', async () => {
    const { svc } = service();
    ok(await svc.createDomain({ preset: 'hello' }));
    const list = await svc.xl('xl list');
    expect(list.status).toBe(0);
    expect(list.output).toMatch(/Domain-0\s+0\s+0\s+0\s+r-----/);
    expect(list.output).toMatch(/hello\s+1\s+16\s+1/);
    const created = await svc.xl('xl create cpubench.cfg name=bench2');
    expect(created.output).toBe('Domain 2 (bench2) created');
    expect((await svc.xl('list')).output).toMatch(/bench2\s+2/);
    expect((await svc.xl('ls')).output).toContain('/etc/xen/hello.cfg');
    expect((await svc.xl('cat hello.cfg')).output).toContain('kernel = "guests/hello.elf"');
    expect(await svc.xl('xl frobnicate')).toEqual({ status: 1, output: "xl: unknown command 'frobnicate' (try: xl help)" });
    expect((await svc.xl('xl create nope.cfg')).output).toBe('xl: nope.cfg: no such file (try: ls)');
    expect(await svc.xl('console hello')).toMatchObject({ status: 0, attach: 1 });
    ok(svc.destroy(2));
  });

  it('names the line of a bad config, of a missing kernel, and the file of a malformed image', async () => {
    const { svc } = service();
    const bad = await svc.createDomain({ config: 'name = "x"\ntype = "hvm"\nvcpus = 0\nkernel = "hello.elf"\n' });
    expect(bad).toEqual({ ok: false, error: 'line 3: vcpus must be between 1 and 8, not 0', line: 3 });
    const missing = await svc.createDomain({ config: 'name = "x"\n\nkernel = "nothing.elf"\n' });
    expect(missing).toMatchObject({ ok: false, line: 3 });
    expect(!missing.ok && missing.error).toMatch(/nothing\.elf: no such file/);
    const broken = await svc.createDomain({ image: { name: 'broken.elf', bytes: truncatedElf() } });
    expect(broken).toMatchObject({ ok: false, error: expect.stringMatching(/^broken\.elf: .*program header table lies outside the file/) });
    const dup = await svc.createDomain({ preset: 'hello' });
    expect(dup.ok).toBe(true);
    expect(await svc.createDomain({ preset: 'hello' })).toMatchObject({ ok: false, error: 'a domain named "hello" exists already', line: 2 });
    expect(ok(await svc.createDomain({ preset: 'hello', uniqueName: true })).name).toBe('hello-2');
  });

  it('pause freezes CPU time at once, unpause resumes it; destroy announces the end', async () => {
    const { svc, batches } = service();
    const { domid } = ok(await svc.createDomain({ image: { name: 'spin', bytes: spinImage() } }));
    await until(() => svc.stats().domains[0]!.cpuNs > 50e6);
    const paused = ok(await svc.pause(domid));
    expect(paused.state).toBe('paused');
    await sleep(200);
    expect(svc.stats().domains[0]!.cpuNs).toBe(paused.cpuNs);
    ok(svc.unpause(domid));
    await until(() => svc.stats().domains[0]!.instret > paused.instret);
    ok(svc.destroy(domid));
    await until(() => batches.some((b) => b.events.some((e) => e.type === 'destroyed' && e.domid === domid)));
    expect(svc.stats().domains).toEqual([]);
  });

  it('queues typing into an hvm UART beyond its FIFO; reboot of an hvm domain is a hard reset into a new domid', async () => {
    const { svc, batches, text } = service();
    const { domid } = ok(await svc.createDomain({ image: { name: 'echo', bytes: echoImage() } }));
    const line = 'the quick brown fox jumps over the lazy dog 0123456789';
    ok(svc.consoleInput(domid, new TextEncoder().encode(line)));
    await until(() => text(domid) === line);
    const next = ok(await svc.reboot(domid));
    expect(next).not.toBe(domid);
    await until(() => batches.some((b) => b.events.some((e) => e.type === 'created' && e.row.domid === next)));
    const created = batches.flatMap((b) => b.events).find((e) => e.type === 'created' && e.row.domid === next);
    expect(created).toMatchObject({ restartOf: domid, row: { name: 'echo', restarts: 1 } });
    expect(svc.shutdown(next)).toMatchObject({ ok: false, error: expect.stringMatching(/hvm guest without PV drivers/) });
  });

  it.skipIf(!HAVE_TOS)('boots the teaching OS as pv and hvm domains to their prompts; both answer typed commands', async () => {
    const { svc, text, batches } = service();
    const pv = ok(await svc.createDomain({ preset: 'teaching-os-pv' }));
    const hvm = ok(await svc.createDomain({ preset: 'teaching-os-hvm' }));
    await until(() => text(pv.domid).includes('teaching-os-pv$ ') && text(hvm.domid).includes('tos$ '), 10_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(text(pv.domid))} ${JSON.stringify(text(hvm.domid))}`);
    });
    ok(svc.consoleInput(pv.domid, new TextEncoder().encode('info\r')));
    ok(svc.consoleInput(hvm.domid, new TextEncoder().encode('info\r')));
    await until(() => text(pv.domid).includes('vCPUs: 1') && text(hvm.domid).includes('vCPUs: 1'), 10_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(text(pv.domid))} ${JSON.stringify(text(hvm.domid))}`);
    });
    // xl reboot: the guest follows control/shutdown; the toolstack builds it again as a new domain.
    expect(ok(await svc.reboot(pv.domid))).toBe(pv.domid);
    await until(() => batches.some((b) => b.events.some((e) => e.type === 'created' && e.restartOf === pv.domid)));
    const again = svc.list().find((r) => r.name === 'teaching-os-pv')!;
    expect(again.restarts).toBe(1);
    await until(() => text(again.domid).includes('teaching-os-pv$ '));
    ok(svc.shutdown(again.domid));
    await until(() => svc.stats().domains.find((r) => r.domid === again.domid)?.state === 'shutdown');
  });
  it('ships every scheduler slice once, in the periodic reports, and inspects a domain', async () => {
    const { svc, batches } = service();
    const row = ok(await svc.createDomain({ image: { name: 'spin', bytes: spinImage() }, uniqueName: true }));
    const reports = (): { nowNs: number; slices: readonly { domid: number; startNs: number; endNs: number }[] }[] =>
      batches.flatMap((b) => b.events).flatMap((e) => (e.type === 'stats' ? [e.report] : []));
    await until(() => reports().reduce((n, r) => n + r.slices.length, 0) >= 20);
    const all = reports().flatMap((r) => r.slices);
    // The reports together hold what the trace recorded up to the last one, each slice once.
    const last = reports().at(-1)!;
    const recorded = svc.hv.sliceTrace.since(-Infinity).filter((r) => r.endNs <= last.nowNs);
    expect(all.length).toBe(recorded.length);
    expect(new Set(all.map((r) => `${r.startNs}:${r.endNs}`)).size).toBe(all.length);
    expect(all.some((r) => r.domid === row.domid)).toBe(true);
    for (const r of reports()) for (const s of r.slices) expect(s.endNs).toBeLessThanOrEqual(r.nowNs);
    // A control's reply carries no slices (they would arrive twice).
    expect(svc.stats().slices).toEqual([]);
    const info = ok(svc.inspect(row.domid));
    expect(info).toMatchObject({ domid: row.domid, type: 'hvm', evtchn: [], grants: [] });
    expect(svc.inspect(999)).toMatchObject({ ok: false });
    const map = svc.memoryMap();
    expect(map.domains.find((d) => d.domid === row.domid)?.frames).toBe(row.memKiB / 4);
  });

  it('checks every create as xl.cfg: a malformed request, a bad override, and unique names within 64 characters (issue 10 item 12)', async () => {
    const { svc } = service();
    expect(await svc.createDomain(null as never)).toEqual({ ok: false, error: expect.stringMatching(/^a create request must be an object/) });
    expect(await svc.createDomain({ preset: 'hello', image: { name: 'x', bytes: 'abc' } } as never)).toEqual({
      ok: false,
      error: 'image must be { name: string, bytes: Uint8Array }',
    });
    expect(await svc.createDomain({ preset: 'hello', name: 'a/b' })).toMatchObject({ ok: false, error: expect.stringMatching(/^name "a\/b" is not allowed/) });
    expect(await svc.createDomain({ preset: 'hello', memory: 12.5 })).toMatchObject({ ok: false, error: 'memory must be a whole number' });
    expect(svc.list()).toEqual([]);
    const long = 'n'.repeat(64);
    const first = ok(await svc.createDomain({ image: { name: long, bytes: spinImage() }, uniqueName: true }));
    const second = ok(await svc.createDomain({ image: { name: long, bytes: spinImage() }, uniqueName: true }));
    expect([first.name, second.name]).toEqual([long, `${'n'.repeat(62)}-2`]);
  });
});
