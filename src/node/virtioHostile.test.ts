/**
 * A hostile hvm guest against its own virtio-blk device (guests/virtio-hostile: random
 * descriptors, indices, addresses in and outside its RAM and on MMIO, random register
 * accesses, resets), beside a victim hvm domain that writes, benchmarks and reads its own
 * disk at the same time. The attacker's device may only answer with status bytes or
 * DEVICE_NEEDS_RESET; the host keeps running, the victim's device never faults, and the
 * victim's image is byte for byte what the victim wrote.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { Toolstack } from '../core/tools/toolstack';
import { openImageFile } from './blockFile';
import { ensureBundleSync } from './testBundle';
import { guestImage } from './paths';
import { nodeVcpuHost } from './vcpuHost';
import { consoleText, until, waitForConsole } from '../testing/support';

let hv: Hypervisor | undefined;
let dir = '';
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** HYPERLAB_SOAK=1: 20 000 rounds (about 11 million attacker instructions) instead of 4000. */
const ROUNDS = process.env.HYPERLAB_SOAK ? 20_000 : 4000;

describe('virtio-blk against a hostile hvm guest', () => {
  it('the attacker only breaks its own device; the victim beside it reads and writes its disk unharmed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hyperlab-vhostile-'));
    const victimImg = join(dir, 'victim.raw');
    const pattern = new Uint8Array(2 << 20).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    writeFileSync(victimImg, pattern);
    const attackerImg = join(dir, 'attacker.raw');
    writeFileSync(attackerImg, new Uint8Array(2 << 20));
    const h = new Hypervisor({ memoryMiB: 64, pcpus: 2, host: nodeVcpuHost(ensureBundleSync()) });
    hv = h;
    h.start();
    const ts = new Toolstack(h, {
      readFile: (path) => readFileSync(guestImage(path)),
      openDisk: (spec) => openImageFile(spec.target, { format: spec.format, readOnly: spec.access === 'ro' }),
    });
    const victim = ts.create(`name = "victim"\ntype = "hvm"\nmemory = 16\nkernel = "teaching-os-hvm"\ndisk = [ '${victimImg},raw,xvda,rw' ]`);
    await waitForConsole(victim, /tos\$ $/, { lf: true });
    const attacker = ts.create(
      `name = "attacker"\ntype = "hvm"\nmemory = 16\nkernel = "virtio-hostile"\ncmdline = "rounds=${ROUNDS}"\non_poweroff = "preserve"\non_crash = "preserve"\ndisk = [ '${attackerImg},raw,xvda,rw' ]`,
    );
    const type = (line: string): void => void h.consoleInput(victim.domid, new TextEncoder().encode(`${line}\n`));
    const out = (): string => consoleText(victim, { lf: true });
    let mark = out().length;
    type('disk write 5 the victim was here');
    await waitForConsole(victim, 'disk: wrote', { from: mark, lf: true });
    mark = out().length;
    type('disk bench 1');
    await waitForConsole(victim, /timing: disk bench: \d+ requests/, { from: mark, lf: true, ms: 120_000 });
    await until(() => attacker.shutdownReason !== null, 120_000, 'the attacker to finish');
    const said = consoleText(attacker, { lf: true });
    expect(attacker.shutdownReason, said).toBe('poweroff');
    expect(said).toMatch(new RegExp(`virtio-hostile: ${ROUNDS} rounds, \\d+ notifies, \\d+ register pokes, \\d+ resets`));
    expect(said).toContain('virtio-hostile: PASS');
    expect(attacker.vcpus[0]!.instret).toBeGreaterThan(300_000);
    console.log(
      `virtio-hostile: ${attacker.vcpus[0]!.instret} instructions, ${attacker.exits.get('mmio:virtio-blk') ?? 0} + ${attacker.exits.get('mmio:virtio-blk-notify') ?? 0} exits`,
    );
    expect(out().slice(mark)).not.toMatch(/answered status|no answer|failed/);
    mark = out().length;
    type('disk read 5');
    await waitForConsole(victim, '|the victim was h|', { from: mark, lf: true });

    const [bad] = ts.disks.virtioOf(attacker.domid);
    const [good] = ts.disks.virtioOf(victim.domid);
    expect(bad!.transport.counts.needsReset).toBeGreaterThan(20);
    expect(bad!.transport.counts.badAccess).toBeGreaterThan(20);
    expect(good!.transport.counts.needsReset).toBe(0);
    expect(good!.blk.stats.refused).toEqual({
      badSegments: 0,
      badSector: 0,
      misaligned: 0,
      pastEnd: 0,
      readOnly: 0,
      badGrant: 0,
      ioError: 0,
      closed: 0,
      notSupported: 0,
    });
    expect(h.domains.has(victim.domid)).toBe(true);

    const after = readFileSync(victimImg);
    const expected = pattern.slice();
    expected.fill(0, 5 * 512, 6 * 512);
    expected.set(new TextEncoder().encode('the victim was here'), 5 * 512);
    expect(after.equals(Buffer.from(expected))).toBe(true);
  }, 240_000);
});
