/**
 * Save, restore and snapshots through the browser's hypervisor service, run in Node over
 * MemoryDirectory (the page's OPFS snapshots/ in memory) with real vCPU workers:
 *  - a snapshot (xl save -c) keeps the domain running; Domain-0's `xl save` writes
 *    snapshots/NAME and destroys it; restored, the guest reads back a xenstore node it
 *    wrote before, and its clock went on;
 *  - the file the service makes is the file `hyperlab host` restores, and the reverse;
 *  - a bad file is one line and builds nothing; names are checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ensureBundleSync } from '../../node/testBundle';
import { projectRoot } from '../../node/paths';
import { nodeVcpuHost } from '../../node/vcpuHost';
import { readSaveFile } from '../../core/tools/migration/saveFile';
import type { GuestFile, HvEvent } from '../protocol/hvProtocol';
import { HypervisorService } from './hypervisorService';
import { MemoryDirectory } from './opfsDir';
import { describeSaveFile } from './snapshotLibrary';
import { snapshotPath } from './snapshotService';
import { until } from '../../testing/support';

const GUESTS = join(projectRoot(), 'public', 'guests');
const catalog: GuestFile[] = readdirSync(GUESTS)
  .filter((f) => f.endsWith('.elf'))
  .map((file) => ({ name: file.slice(0, -4), file, size: statSync(join(GUESTS, file)).size }));
const HAVE_TOS = existsSync(join(GUESTS, 'teaching-os-pv.elf'));

let svc: HypervisorService | undefined;
afterEach(() => svc?.close());

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function start(dir = new MemoryDirectory(256 << 20)): { s: HypervisorService; dir: MemoryDirectory; text: (domid: number) => string } {
  const s = new HypervisorService({
    host: nodeVcpuHost(ensureBundleSync()),
    memoryMiB: 64,
    pcpus: 1,
    fetchGuest: (file) => Promise.resolve(new Uint8Array(readFileSync(join(GUESTS, file)))),
    snapshotDirectory: () => Promise.resolve(dir),
  });
  svc = s;
  const events: HvEvent[] = [];
  s.attach({ guestBaseUrl: 'unused/', catalog }, (batch) => events.push(...batch));
  const text = (domid: number): string =>
    events.map((e) => (e.type === 'console' && e.domid === domid ? Buffer.from(e.bytes).toString('latin1') : '')).join('');
  return { s, dir, text };
}

describe('snapshot names and configs', () => {
  it('refuses paths outside snapshots/ and names OPFS should not hold; renames the embedded config', () => {
    expect(snapshotPath('snapshots/a.save')).toBe('a.save');
    expect(snapshotPath('/snapshots/b')).toBe('b');
    expect(() => snapshotPath('/tmp/x.save')).toThrow(/save files live in OPFS snapshots\//);
    expect(() => snapshotPath('.hidden')).toThrow(/a snapshot name is/);
    expect(() => snapshotPath('x'.repeat(65))).toThrow(/a snapshot name is/);
    expect(() => describeSaveFile(new Uint8Array(100))).toThrow(/not an xl save file/);
  });
});

describe.skipIf(!HAVE_TOS)('save, restore and snapshots in the hypervisor service', () => {
  it('snapshot keeps it running; Domain-0 xl save writes snapshots/ and destroys it; restored, it reads back its xenstore node', async () => {
    const { s, dir, text } = start();
    const type = async (domid: number, line: string, answer: RegExp): Promise<string> => {
      const from = text(domid).length;
      ok(s.consoleInput(domid, new TextEncoder().encode(`${line}\n`)));
      await until(() => answer.test(text(domid).slice(from)), 30_000, `${answer} after ${line}`);
      return text(domid).slice(from);
    };
    const row = ok(await s.createDomain({ preset: 'teaching-os-pv' }));
    const prompt = /teaching-os-pv\$ $/;
    await until(() => prompt.test(text(row.domid)), 30_000, 'the prompt');
    await type(row.domid, 'xs write data/note typed-before-save', prompt);

    const snap = ok(await s.snapshotTake(row.domid, 'first'));
    expect(snap).toMatchObject({ name: 'first', domain: 'teaching-os-pv', type: 'pv', error: null });
    expect(snap.size).toBe(dir.files.get('first')!.length);
    expect(s.list().find((r) => r.domid === row.domid)?.state).not.toBe('paused');
    await type(row.domid, 'uptime', prompt); // still answering
    const again = await s.snapshotTake(row.domid, 'first');
    expect(again).toEqual({ ok: false, error: 'first: a snapshot of that name exists in memory disks/' });

    // Domain-0: xl save to snapshots/, ls lists it, the domain is gone.
    const saved = await s.xl(`xl save ${row.domid} snapshots/second`);
    expect(saved.status, saved.output).toBe(0);
    // The pv guest suspended itself first (cooperative suspend): xl says so, then the save.
    expect(saved.output).toMatch(/^domain \d+ \(teaching-os-pv\): the guest acknowledged the suspend request .*\(cooperative\)$/m);
    expect(saved.output).toMatch(/^Saved domain \d+ \(teaching-os-pv\) to snapshots\/second: \d+ bytes in \d+ ms$/m);
    expect(s.list().some((r) => r.domid === row.domid)).toBe(false);
    expect((await s.xl('ls')).output).toMatch(/^snapshots\/second +\d+$/m);
    const listed = ok(await s.snapshots());
    expect(listed.snapshots.map((r) => r.name).sort()).toEqual(['first', 'second']);
    // The bytes are a save file any host reads.
    expect(readSaveFile(dir.files.get('second')!.bytes.slice(0, dir.files.get('second')!.length), { maxPfn: 1 << 20, maxVcpus: 8 }).libxc.kind).toBe('pv');

    const back = await s.xl('xl restore snapshots/second');
    expect(back.status, back.output).toBe(0);
    const restored = s.list().find((r) => r.name === 'teaching-os-pv')!;
    const answer = await type(restored.domid, 'xs read data/note', prompt);
    expect(answer).toContain('typed-before-save');

    // The snapshot beside it: its name is taken, so it runs as teaching-os-pv-2.
    const taken = await s.snapshotRestore('first', {});
    expect(taken.ok).toBe(false);
    const twin = ok(await s.snapshotRestore('first', { uniqueName: true }));
    expect(twin.row.name).toBe('teaching-os-pv-2');
    expect(await type(twin.row.domid, 'xs read data/note', prompt)).toContain('typed-before-save');

    ok(await s.snapshotDelete('first'));
    expect(ok(await s.snapshots()).snapshots.map((r) => r.name)).toEqual(['second']);
    expect(dir.files.has('.first.json')).toBe(false);
    expect(await s.xl('xl restore /tmp/elsewhere')).toEqual({
      status: 1,
      output: 'xl: /tmp/elsewhere: save files live in OPFS snapshots/ (name one as NAME or snapshots/NAME)',
    });
  }, 120_000);

  it('a bad file is refused in one line and builds nothing', async () => {
    const { s } = start();
    const row = ok(await s.createDomain({ preset: 'teaching-os-pv' }));
    const good = ok(await s.saveDomain(row.domid, true)).bytes;
    const free = s.hv.memory.nrFree;
    const domains = s.list().length;
    const flipped = good.slice();
    flipped[good.length >> 1]! ^= 0x10;
    for (const bad of [new Uint8Array(10), flipped, good.subarray(0, good.length - 100)]) {
      const r = await s.restoreDomain(bad, { uniqueName: true });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^restore from upload failed: [^\n]+$/);
      expect(s.hv.memory.nrFree).toBe(free);
      expect(s.list().length).toBe(domains);
    }
  }, 60_000);

  it('a file saved here restores on hyperlab host, and a file hyperlab host saves restores here', async () => {
    const { s, text } = start();
    const row = ok(await s.createDomain({ preset: 'teaching-os-pv', name: 'tos-pv' }));
    const prompt = /tos-pv\$ $/;
    await until(() => prompt.test(text(row.domid)), 30_000, 'the prompt');
    const from = text(row.domid).length;
    ok(s.consoleInput(row.domid, new TextEncoder().encode('xs write data/where browser\n')));
    await until(() => prompt.test(text(row.domid).slice(from)), 30_000, 'xs write');
    const saved = ok(await s.saveDomain(row.domid, false));
    expect(saved.message).toMatch(/^Saved domain \d+ \(tos-pv\) to tos-pv\.save: \d+ bytes/m);
    expect(s.list().some((r) => r.domid === row.domid)).toBe(false);
    const tmp = mkdtempSync(join(tmpdir(), 'hyperlab-snap-'));
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    const inFile = join(tmp, 'browser.save');
    const outFile = join(tmp, 'node.save');
    writeFileSync(inFile, saved.bytes);
    const r = spawnSync(process.execPath, [join(projectRoot(), 'bin', 'hyperlab.js'), 'host', '--mem', '96M'], {
      cwd: projectRoot(),
      input: `restore ${inFile}\nsleep 1\nlist\nsave tos-pv ${outFile}\n`,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(r.stdout).toMatch(/Domain 1 \(tos-pv\) restored from .*browser\.save in \d+ ms/);
    expect(r.stdout).toMatch(/Saved domain 1 \(tos-pv\) to .*node\.save/);
    const back = ok(await s.restoreDomain(new Uint8Array(readFileSync(outFile)), {}));
    expect(back.row.name).toBe('tos-pv');
    const at = text(back.row.domid).length;
    ok(s.consoleInput(back.row.domid, new TextEncoder().encode('xs read data/where\n')));
    await until(() => text(back.row.domid).slice(at).includes('browser'), 30_000, 'the node written in the browser');
  }, 150_000);
});
