/**
 * Live migration of a pv domain with a disk between two hosts (two hypervisors in this
 * process, over TCP on 127.0.0.1, the disk image shared storage as between two Node hosts on
 * one machine): the pv teaching OS keeps its domid (its blkfront names the backend's path),
 * blkback on the target attaches to the ring where it stood, and what the guest wrote before
 * the move reads back on the target; it writes on there and the image has it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import type { Domain } from '../core/xen/common/domain';
import { migrateSend } from '../core/tools/migration/live/send';
import { migrateReceive } from '../core/tools/migration/live/receive';
import { openImageFile } from './blockFile';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { typeOn } from './diskTestSupport';
import { tcpConnect, tcpListen } from './tcpChannel';
import { waitForConsole } from '../testing/support';
import { runXl } from '../core/tools/xl';

const hosts: Hypervisor[] = [];
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlab-migrate-'));
});
afterEach(() => {
  for (const h of hosts.splice(0)) h.shutdownHost();
  rmSync(dir, { recursive: true, force: true });
});

function host(): { h: Hypervisor; ts: Toolstack } {
  const h = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
  h.start();
  hosts.push(h);
  const ts = new Toolstack(h, {
    readFile: (p) => readFileSync(guestImage(p)),
    openDisk: (spec) => openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' }),
  });
  return { h, ts };
}

const run = (h: Hypervisor, d: Domain, line: string, expect: RegExp | string): Promise<string> => typeOn(h, d, /\$ $/, line, expect, 60_000);

it('a pv teaching OS with a disk moves to another host over TCP and reads back what it wrote', async () => {
  const img = join(dir, 'disk.raw');
  writeFileSync(img, new Uint8Array(1 << 20));
  const a = host(),
    b = host();
  const d = a.ts.create(`name = "disky"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"\ndisk = [ '${img},raw,xvda,rw' ]`);
  await waitForConsole(d, 'connected to domain 0', { lf: true, ms: 60_000 });
  await waitForConsole(d, /\$ $/, { lf: true, ms: 60_000 });
  expect(await run(a.h, d, 'disk write 10 written before the move', 'disk: wrote')).toContain('at sector 10');
  let arrived: Promise<Domain> | undefined;
  const server = await tcpListen('127.0.0.1:0', (ch) => {
    arrived = migrateReceive(b.ts, ch);
  });
  try {
    const stats = await migrateSend(a.ts, d, await tcpConnect(`127.0.0.1:${(server.address() as { port: number }).port}`), { verify: true });
    expect(stats.rounds.at(-1)!.pagesDirtied).toBe(0); // verify: no page changed unnoticed
    const m = await arrived!;
    expect(a.h.domains.size).toBe(0);
    expect(m.domid).toBe(d.domid); // a pv domain with split devices keeps its id
    expect(m.name).toBe('disky');
    expect(await run(b.h, m, 'disk read 10', '|written before t')).toContain('|written before t');
    expect(await run(b.h, m, 'disk write 11 written after the move', 'disk: wrote')).toContain('at sector 11');
    expect(await run(b.h, m, 'disk read 11', '|written after th')).toContain('|written after th');
    b.h.destroyDomain(m.domid);
    expect(Buffer.from(readFileSync(img).subarray(11 * 512, 11 * 512 + 22)).toString()).toBe('written after the move');
  } finally {
    server.close();
  }
}, 180_000);

it('xl migrate of a pv domain with a disk to localhost is refused by the target (its domid is in use) and the source runs on', async () => {
  const img = join(dir, 'local.raw');
  writeFileSync(img, new Uint8Array(1 << 20));
  const a = host();
  const d = a.ts.create(`name = "disky"\ntype = "pv"\nmemory = 16\nkernel = "teaching-os-pv"\ndisk = [ '${img},raw,xvda,rw' ]`);
  await waitForConsole(d, 'connected to domain 0', { lf: true, ms: 60_000 });
  await waitForConsole(d, /\$ $/, { lf: true, ms: 60_000 });
  const lines: string[] = [];
  const r = runXl(a.ts, ['migrate', 'disky', 'localhost'], { out: (t) => lines.push(t), readFile: () => '' });
  await expect(r.pending).rejects.toThrow(/resumed at sender: .*domain id \d+ is in use/);
  expect(lines).toContain('Migration failed, resuming at sender.');
  expect([...a.h.domains.values()]).toEqual([d]);
  expect(d.name).toBe('disky');
  expect(await run(a.h, d, 'disk write 12 still here', 'disk: wrote')).toContain('at sector 12');
}, 120_000);
