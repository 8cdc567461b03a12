/**
 * Tab-to-tab live migration, run in Node: two of the browser's hypervisor services in one
 * process, on one BroadcastChannel (Node has the same BroadcastChannel as the browser), as
 * two tabs' hypervisor workers are. They find each other; a pv teaching OS moves from one
 * to the other while it runs, with the rounds and the downtime reported on both sides, the
 * source's copy named NAME--migratedaway and the target's NAME--incoming during the move; it
 * answers at its prompt on the target with the xenstore node it wrote on the source. A third
 * party's garbage on the bus is ignored; a migration to a tab that is not there fails in one
 * line and the domain runs on where it was.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../node/testBundle';
import { projectRoot } from '../../node/paths';
import { nodeVcpuHost } from '../../node/vcpuHost';
import type { GuestFile, HvEvent, MigrationNotice } from '../protocol/hvProtocol';
import { HypervisorService } from './hypervisorService';
import { MIGRATION_BUS, type BusLike } from './migrateBroadcast';
import { until } from '../../testing/support';

const GUESTS = join(projectRoot(), 'public', 'guests');
const catalog: GuestFile[] = readdirSync(GUESTS)
  .filter((f) => f.endsWith('.elf'))
  .map((file) => ({ name: file.slice(0, -4), file, size: statSync(join(GUESTS, file)).size }));
const HAVE_TOS = existsSync(join(GUESTS, 'teaching-os-pv.elf'));

const services: HypervisorService[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.close();
});

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const bus = (name: string) => (): BusLike => new BroadcastChannel(name) as unknown as BusLike;

function tab(busName: string) {
  const s = new HypervisorService({
    host: nodeVcpuHost(ensureBundleSync()),
    memoryMiB: 48,
    pcpus: 1,
    fetchGuest: (file) => Promise.resolve(new Uint8Array(readFileSync(join(GUESTS, file)))),
    migrationBus: bus(busName),
  });
  services.push(s);
  const events: HvEvent[] = [];
  s.attach({ guestBaseUrl: 'unused/', catalog }, (batch) => events.push(...batch));
  const text = (domid: number): string =>
    events.map((e) => (e.type === 'console' && e.domid === domid ? Buffer.from(e.bytes).toString('latin1') : '')).join('');
  const notices = (): MigrationNotice[] => events.flatMap((e) => (e.type === 'migration' ? [e.notice] : []));
  return { s, text, notices };
}

describe.skipIf(!HAVE_TOS)('tab-to-tab live migration over BroadcastChannel', () => {
  it('discovers the other tab, moves a running pv teaching OS there with its state, reports rounds and names on both sides', async () => {
    const name = `${MIGRATION_BUS}-test-${process.pid}`;
    const a = tab(name);
    const b = tab(name);
    const stranger = new BroadcastChannel(name);
    stranger.postMessage({ t: 'data', from: 'x', to: 'y', session: 'z', seq: 'no', bytes: 5 });
    stranger.postMessage('hello');

    const peersOfA = ok(await a.s.migrationPeers());
    expect(peersOfA.map((p) => p.id)).toEqual([b.s.migration.id]);

    const row = ok(await a.s.createDomain({ preset: 'teaching-os-pv', name: 'mover' }));
    const prompt = /mover\$ $/;
    await until(() => prompt.test(a.text(row.domid)), 30_000, 'the prompt');
    ok(a.s.consoleInput(row.domid, new TextEncoder().encode('xs write data/where tab-a\n')));
    await until(() => /tab-a\r?\nmover\$ $/.test(a.text(row.domid)), 30_000, 'xs write');

    // Names during the move, as each side sees them.
    const namesA = new Set<string>(),
      namesB = new Set<string>();
    const watch = setInterval(() => {
      for (const r of a.s.list()) namesA.add(r.name);
      for (const r of b.s.list()) namesB.add(r.name);
    }, 1);
    let stats;
    try {
      stats = ok(await a.s.migrateDomain(row.domid, peersOfA[0]!.id));
    } finally {
      clearInterval(watch);
    }
    expect(stats.name).toBe('mover');
    expect(stats.rounds.length).toBeGreaterThanOrEqual(1);
    expect(stats.rounds[0]!.pagesSent).toBeGreaterThan(0);
    expect(stats.downtimeMs).toBeGreaterThan(0);
    expect(a.s.list()).toEqual([]);
    const moved = b.s.list().find((r) => r.name === 'mover')!;
    expect(moved).toBeDefined();
    expect(namesA.has('mover--migratedaway')).toBe(true);
    expect(namesB.has('mover--incoming')).toBe(true);

    // It runs on the target, with what it wrote on the source.
    const from = b.text(moved.domid).length;
    ok(b.s.consoleInput(moved.domid, new TextEncoder().encode('xs read data/where\n')));
    await until(() => b.text(moved.domid).slice(from).includes('tab-a'), 30_000, 'the node written in tab a');

    // Both pages heard of it: the sender's rounds and the end, the receiver's phases.
    const sent = a.notices();
    expect(sent.some((n) => n.event.kind === 'round')).toBe(true);
    expect(sent.some((n) => n.event.kind === 'done')).toBe(true);
    expect(new Set(sent.map((n) => n.session)).size).toBe(1);
    expect(b.notices().some((n) => n.side === 'receive' && n.session === sent[0]!.session)).toBe(true);

    // And back with xl migrate at the second tab's Domain-0 prompt (tab:ID, as the panel lists it).
    const home = await b.s.xl(`xl migrate mover tab:${a.s.migration.id!.slice(0, 4)}`);
    expect(home.status, home.output).toBe(0);
    expect(home.output).toMatch(/Migrated domain \d+ \(mover\) to tab:[0-9a-f]{4}: \d+ rounds/);
    // The migration view hears of it as of the panel's: rounds and the end, on tab b's sending side.
    const typed = (): MigrationNotice[] => b.notices().filter((n) => n.side === 'send');
    await until(() => typed().some((n) => n.event.kind === 'done' && n.event.stats.name === 'mover'), 10_000, 'the done notice (events are batched)');
    expect(typed().some((n) => n.event.kind === 'round')).toBe(true);
    expect(a.s.list().map((r) => r.name)).toEqual(['mover']);
    expect(await a.s.xl('xl migrate mover tab:ffffffffffff')).toEqual({ status: 1, output: 'xl: migrate: tab:ffffffffffff: no such tab answers' });
    stranger.close();
  }, 120_000);

  it('a migration to a tab that does not answer fails in one line and the domain runs on where it was', async () => {
    const a = tab(`${MIGRATION_BUS}-lonely-${process.pid}`);
    expect(ok(await a.s.migrationPeers())).toEqual([]);
    const row = ok(await a.s.createDomain({ preset: 'teaching-os-pv', name: 'stay' }));
    await expect(a.s.migration.send(row.domid, 'nobody', 2000)).rejects.toThrow(/^migration of domain \d+ \(stay\) failed[:,] [^\n]+$/);
    const after = a.s.list().find((x) => x.domid === row.domid)!;
    expect(after.name).toBe('stay');
    expect(after.state).not.toBe('paused');
  }, 90_000);
});
