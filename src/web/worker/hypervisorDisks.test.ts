/**
 * Disks through the browser's hypervisor service, run in Node over MemoryDirectory (the
 * same library the page uses over OPFS): the preset with a disk makes its image on first
 * use; the pv teaching OS writes and flushes it; destroyed and created again with
 * `xl create`, it reads the data back; `xl block-attach` of a missing image is one line;
 * the vbd inspector and the rows' VBD counters.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../node/testBundle';
import { projectRoot } from '../../node/paths';
import { nodeVcpuHost } from '../../node/vcpuHost';
import type { GuestFile, HvEvent } from '../protocol/hvProtocol';
import { HypervisorService } from './hypervisorService';
import { MemoryDirectory } from './opfsDir';
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

describe.skipIf(!HAVE_TOS)('disks in the hypervisor service', () => {
  it('a preset with a disk: made on first use, written and flushed, read back after destroy and xl create; inspector and counters', async () => {
    const dir = new MemoryDirectory(64 << 20);
    const s = new HypervisorService({
      host: nodeVcpuHost(ensureBundleSync()),
      memoryMiB: 64,
      pcpus: 1,
      fetchGuest: (file) => Promise.resolve(new Uint8Array(readFileSync(join(GUESTS, file)))),
      diskDirectory: () => Promise.resolve(dir),
    });
    svc = s;
    const events: HvEvent[] = [];
    s.attach({ guestBaseUrl: 'unused/', catalog }, (batch) => events.push(...batch));
    const text = (domid: number): string =>
      events.map((e) => (e.type === 'console' && e.domid === domid ? Buffer.from(e.bytes).toString('latin1') : '')).join('');
    const type = async (domid: number, line: string, answer: string): Promise<void> => {
      const from = text(domid).length;
      ok(s.consoleInput(domid, new TextEncoder().encode(`${line}\n`)));
      await until(() => text(domid).slice(from).includes(answer), 20_000);
    };

    const row = ok(await s.createDomain({ preset: 'teaching-os-pv-disk' }));
    const prompt = 'teaching-os-pv-disk$ ';
    await until(() => text(row.domid).includes(prompt), 20_000);
    expect(text(row.domid)).toContain('disk: xvda (51712): 32768 sectors');
    const listed = ok(await s.disks());
    expect(listed.images.map((i) => [i.name, i.format, i.virtualSize])).toEqual([['teaching-os-pv.qcow2', 'qcow2', 16 << 20]]);
    expect(listed.attached['teaching-os-pv.qcow2']).toEqual([`teaching-os-pv-disk (${row.domid}) xvda`]);
    expect(
      ok(await s.diskDelete('teaching-os-pv.qcow2').then((r) => (r.ok ? { ok: false as const, error: 'deleted' } : { ok: true as const, value: r.error }))),
    ).toMatch(/attached to a domain/);

    await type(row.domid, 'disk write 8 written-in-node', 'disk: wrote 15 bytes');
    await type(row.domid, 'disk flush', 'flushed');
    const vbd = ok(s.vbds(row.domid))[0]!;
    expect(vbd).toMatchObject({ vdev: 'xvda', backendStateName: 'Connected', frontendStateName: 'Connected' });
    expect(vbd.ring!.inFlight).toBe(0);
    expect(vbd.backendNodes['sectors']).toBe('32768');
    expect(vbd.frontendNodes['ring-ref']).toBe(String(vbd.ringRef));
    expect(s.list().find((r) => r.domid === row.domid)!.vbd).toMatchObject({ wrReq: 1, wrSect: 1 });
    // The flush reached the file: its durable content holds the text.
    const durable = Buffer.from(dir.files.get('teaching-os-pv.qcow2')!.flushed);
    expect(durable.includes(Buffer.from('written-in-node'))).toBe(true);

    ok(s.destroy(row.domid));
    const out = await s.xl('xl create teaching-os-pv-disk.cfg');
    expect(out.status, out.output).toBe(0);
    const again = s.list().find((r) => r.name === 'teaching-os-pv-disk')!;
    await until(() => text(again.domid).includes(prompt), 20_000);
    await type(again.domid, 'disk read 8', '|written-in-node.|');

    expect((await s.xl('ls')).output).toMatch(/^disks\/teaching-os-pv\.qcow2 +\d+$/m);
    const missing = await s.xl(`xl block-attach ${again.domid} nothere.raw,raw,xvdb,rw`);
    expect(missing).toEqual({ status: 1, output: 'xl: nothere.raw: no such image in memory disks/' });
  }, 60_000);
});
