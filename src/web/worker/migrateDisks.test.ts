/**
 * Disks in the browser's save, restore and tab-to-tab migration, run in Node: hypervisor
 * services over one MemoryDirectory (one origin's OPFS disks/, with its one-handle-per-file
 * rule) and, for migration, one BroadcastChannel, as two tabs' hypervisor workers are.
 *  - snapshot of a pv (blkfront) and an hvm (virtio-blk) teaching OS with a disk; the page
 *    "reloaded" (the service closed, its handles let go, a new one on the same directories);
 *    restored, the guest reads back what it wrote before;
 *  - migration to the other tab: the source hands its image over at the pause point, the
 *    target opens it, the guest reads its marker there and writes a new one; the source no
 *    longer holds the file;
 *  - a migration whose target fails after the handover (its domain id is taken): the source
 *    takes its image back and the guest goes on writing its disk.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../node/testBundle';
import { projectRoot } from '../../node/paths';
import { nodeVcpuHost } from '../../node/vcpuHost';
import type { GuestFile, HvEvent } from '../protocol/hvProtocol';
import { HypervisorService } from './hypervisorService';
import { MIGRATION_BUS, type BusLike } from './migrateBroadcast';
import { MemoryDirectory } from './opfsDir';
import { until } from '../../testing/support';

const GUESTS = join(projectRoot(), 'public', 'guests');
const catalog: GuestFile[] = readdirSync(GUESTS)
  .filter((f) => f.endsWith('.elf'))
  .map((file) => ({ name: file.slice(0, -4), file, size: statSync(join(GUESTS, file)).size }));
const HAVE_TOS = existsSync(join(GUESTS, 'teaching-os-pv.elf')) && existsSync(join(GUESTS, 'teaching-os-hvm.elf'));

const services: HypervisorService[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.close();
});

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

interface Tab {
  s: HypervisorService;
  text: (domid: number) => string;
  type: (domid: number, line: string, answer: string) => Promise<string>;
}

/** The teaching OS's prompt: pv prints its name, hvm (no xenstore to read it from) `tos`. */
const promptOf = (name: string, type: 'pv' | 'hvm'): string => (type === 'pv' ? `${name}$ ` : 'tos$ ');

function tab(disks: MemoryDirectory, opts: { snapshots?: MemoryDirectory; bus?: string } = {}): Tab {
  const s = new HypervisorService({
    host: nodeVcpuHost(ensureBundleSync()),
    memoryMiB: 48,
    pcpus: 1,
    fetchGuest: (file) => Promise.resolve(new Uint8Array(readFileSync(join(GUESTS, file)))),
    diskDirectory: () => Promise.resolve(disks),
    ...(opts.snapshots ? { snapshotDirectory: () => Promise.resolve(opts.snapshots!) } : {}),
    ...(opts.bus !== undefined ? { migrationBus: () => new BroadcastChannel(opts.bus!) as unknown as BusLike } : {}),
  });
  services.push(s);
  const events: HvEvent[] = [];
  s.attach({ guestBaseUrl: 'unused/', catalog }, (batch) => events.push(...batch));
  const text = (domid: number): string =>
    events.map((e) => (e.type === 'console' && e.domid === domid ? Buffer.from(e.bytes).toString('latin1') : '')).join('');
  const type = async (domid: number, line: string, answer: string): Promise<string> => {
    const from = text(domid).length;
    ok(s.consoleInput(domid, new TextEncoder().encode(`${line}\n`)));
    await until(() => text(domid).slice(from).includes(answer), 30_000, `${answer} after ${line}: ${JSON.stringify(text(domid).slice(-300))}`);
    return text(domid).slice(from);
  };
  return { s, text, type };
}

function config(name: string, type: 'pv' | 'hvm', disk: string): string {
  return [`name = "${name}"`, `type = "${type}"`, 'memory = 16', `kernel = "guests/teaching-os-${type}.elf"`, `disk = [ '${disk}' ]`, ''].join('\n');
}

async function boot(t: Tab, name: string, type: 'pv' | 'hvm', disk: string): Promise<number> {
  const row = ok(await t.s.createDomain({ config: config(name, type, disk) }));
  await until(() => t.text(row.domid).includes(promptOf(name, type)), 30_000, `the prompt: ${JSON.stringify(t.text(row.domid))}`);
  return row.domid;
}

describe.skipIf(!HAVE_TOS)('disks in browser snapshots and tab-to-tab migration', () => {
  for (const type of ['pv', 'hvm'] as const) {
    it(`${type}: a snapshot of a domain with an OPFS disk restores after a reload and reads back what the guest wrote`, async () => {
      const disks = new MemoryDirectory(64 << 20);
      const snapshots = new MemoryDirectory(64 << 20);
      const a = tab(disks, { snapshots });
      ok(await a.s.diskCreate({ name: 'keep.qcow2', format: 'qcow2', size: 1 << 20 }));
      const id = await boot(a, `snap${type}`, type, 'keep.qcow2,qcow2,xvda,rw');
      await a.type(id, 'disk write 3 marker-before-snapshot', 'disk: wrote 22 bytes');
      ok(await a.s.snapshotTake(id, 'withdisk'));
      ok(a.s.destroy(id));
      // The page goes: the worker's handles are let go (here: once the grace period closes them).
      a.s.close();
      await until(() => !disks.files.get('keep.qcow2')!.open, 10_000, 'the old page lets the image go');

      const b = tab(disks, { snapshots });
      const back = ok(await b.s.snapshotRestore('withdisk', {}));
      expect(back.row.name).toBe(`snap${type}`);
      expect(await b.type(back.row.domid, 'disk read 3', promptOf(`snap${type}`, type))).toContain('|marker-before-sn');
      expect(disks.files.get('keep.qcow2')!.open).toBe(true);
      // A second copy cannot write the same image: one line, nothing built.
      const twin = await b.s.snapshotRestore('withdisk', { uniqueName: true });
      // (A pv copy is refused before that: it keeps its domain id, which the first holds.)
      const why = type === 'pv' ? /domain id \d+ is in use[^\n]*$/ : /keep\.qcow2: is in use by another disk[^\n]*$/;
      expect(twin).toEqual({ ok: false, error: expect.stringMatching(why) });
      expect(b.s.list().length).toBe(1);
      // An image that is gone is refused in one line rather than made afresh.
      ok(b.s.destroy(back.row.domid));
      await until(() => !disks.files.get('keep.qcow2')!.open, 10_000, 'the image closed');
      ok(await b.s.diskDelete('keep.qcow2'));
      const gone = await b.s.snapshotRestore('withdisk', {});
      expect(gone).toEqual({ ok: false, error: expect.stringMatching(/keep\.qcow2: no such image in memory disks\/$/) });
      expect(disks.files.has('keep.qcow2')).toBe(false);
    }, 120_000);
  }

  it('a pv domain with a disk moves to the other tab: the image is handed over at the pause point; a failed move takes it back', async () => {
    const bus = `${MIGRATION_BUS}-disks-${process.pid}`;
    const disks = new MemoryDirectory(64 << 20);
    const a = tab(disks, { bus });
    const b = tab(disks, { bus });
    ok(await a.s.diskCreate({ name: 'moving.qcow2', format: 'qcow2', size: 1 << 20 }));
    const id = await boot(a, 'mover', 'pv', 'moving.qcow2,qcow2,xvda,rw');
    await a.type(id, 'disk write 2 written-in-tab-a', 'disk: wrote 16 bytes');
    const peer = ok(await a.s.migrationPeers())[0]!.id;
    // A Node host shares no storage with the page: refused in one line before anything moves.
    expect(await a.s.migrateToHost(id, 'ws://127.0.0.1:9')).toEqual({
      ok: false,
      error: `migration of domain ${id} (mover) to ws://127.0.0.1:9: the domain has disks, and a page and a Node host share no storage (--copy-storage is not done in the browser)`,
    });

    // First a target that fails after the handover: tab b runs a domain with the same id (a pv
    // domain with disks keeps its id), so its build is refused and tab a takes its disk back.
    const squatter = ok(await b.s.createDomain({ preset: 'teaching-os-pv', name: 'squatter' }));
    expect(squatter.domid).toBe(id);
    const failed = await a.s.migrateDomain(id, peer);
    expect(failed.ok).toBe(false);
    if (!failed.ok)
      expect(failed.error).toMatch(/^migration of domain \d+ \(mover\) failed, resumed at sender: the receiver failed: domain id \d+ is in use[^\n]+$/);
    const still = a.s.list().find((r) => r.domid === id)!;
    expect(still.name).toBe('mover');
    expect(still.state).not.toBe('paused');
    await a.type(id, 'disk write 4 after-failed-move', 'disk: wrote 17 bytes');
    await a.type(id, 'disk flush', 'flushed');
    ok(b.s.destroy(squatter.domid));
    await until(() => !b.s.list().some((r) => r.domid === id), 10_000, 'the squatter gone');

    // Now the move: the target reads both markers and writes its own; the source holds nothing.
    const stats = ok(await a.s.migrateDomain(id, peer));
    expect(stats.name).toBe('mover');
    expect(a.s.list()).toEqual([]);
    const there = b.s.list().find((r) => r.name === 'mover')!;
    expect(await b.type(there.domid, 'disk read 2', 'mover$ ')).toContain('|written-in-tab-a|');
    expect(await b.type(there.domid, 'disk read 4', 'mover$ ')).toContain('|after-failed-mov|');
    await b.type(there.domid, 'disk write 6 written-in-tab-b', 'disk: wrote 16 bytes');
    await b.type(there.domid, 'disk flush', 'flushed');
    expect(Buffer.from(disks.files.get('moving.qcow2')!.flushed).includes(Buffer.from('written-in-tab-b'))).toBe(true);
    const listed = ok(await a.s.disks());
    expect(listed.attached['moving.qcow2'] ?? []).toEqual([]);
    expect(ok(await b.s.disks()).attached['moving.qcow2']).toEqual([`mover (${there.domid}) xvda`]);

    // And home with xl migrate at tab b's Domain-0 prompt: the same handover.
    const home = await b.s.xl(`xl migrate mover tab:${a.s.migration.id!.slice(0, 6)}`);
    expect(home.status, home.output).toBe(0);
    const back = a.s.list().find((r) => r.name === 'mover')!;
    expect(await a.type(back.domid, 'disk read 6', 'mover$ ')).toContain('|written-in-tab-b|');
  }, 180_000);

  it('an hvm domain with a virtio-blk disk moves to the other tab and goes on with its disk there', async () => {
    const bus = `${MIGRATION_BUS}-hvmdisk-${process.pid}`;
    const disks = new MemoryDirectory(64 << 20);
    const a = tab(disks, { bus });
    const b = tab(disks, { bus });
    ok(await a.s.diskCreate({ name: 'vd.raw', format: 'raw', size: 1 << 20 }));
    const id = await boot(a, 'hmove', 'hvm', 'vd.raw,raw,xvda,rw');
    await a.type(id, 'disk write 7 hvm-wrote-in-tab-a', 'disk: wrote 18 bytes');
    const peer = ok(await a.s.migrationPeers())[0]!.id;
    ok(await a.s.migrateDomain(id, peer));
    const there = b.s.list().find((r) => r.name === 'hmove')!;
    expect(await b.type(there.domid, 'disk read 7', 'tos$ ')).toContain('|hvm-wrote-in-tab|');
    await b.type(there.domid, 'disk write 9 hvm-wrote-in-tab-b', 'disk: wrote 18 bytes');
    await b.type(there.domid, 'disk flush', 'flushed');
    expect(Buffer.from(disks.files.get('vd.raw')!.flushed).includes(Buffer.from('hvm-wrote-in-tab-b'))).toBe(true);
  }, 120_000);

  it("a pv domain with a vif moves to the other tab and joins its xenbr0: the target's Domain-0 pings it there", async () => {
    const bus = `${MIGRATION_BUS}-vif-${process.pid}`;
    const disks = new MemoryDirectory(1 << 20);
    const a = tab(disks, { bus });
    const b = tab(disks, { bus });
    const row = ok(await a.s.createDomain({ preset: 'teaching-os-pv-net1' }));
    await until(() => a.text(row.domid).includes('teaching-os-pv-net1$ '), 30_000, 'the prompt');
    await a.type(row.domid, 'ifconfig dhcp', 'dhcp: eth0 leased 10.0.0.11/24');
    expect((await a.s.xl('ping -c 1 -i 0.2 10.0.0.11')).output).toContain('1 packets transmitted, 1 received');
    const peer = ok(await a.s.migrationPeers())[0]!.id;
    ok(await a.s.migrateDomain(row.domid, peer));
    const there = b.s.list().find((r) => r.name === 'teaching-os-pv-net1')!;
    expect(there).toBeDefined();
    const ping = await b.s.xl('ping -c 2 -i 0.2 10.0.0.11');
    expect(ping.output).toContain('2 packets transmitted, 2 received, 0% packet loss');
    // And the guest reaches the target's Domain-0 (its ARP cache was learnt in tab a; 10.0.0.1 answers here).
    expect(await b.type(there.domid, 'ping 10.0.0.1 2', 'teaching-os-pv-net1$ ')).toContain('2 packets transmitted, 2 received');
    // Tab a's bridge no longer has the vif.
    expect((await a.s.xl('ping -c 1 -i 0.2 10.0.0.11')).output).not.toContain('1 received');
  }, 120_000);
});
