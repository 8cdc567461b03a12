/**
 * virtio-blk end to end: the hvm teaching OS (hvm/virtio_blk.c) on an hvm domain with
 * images attached through xl.cfg `disk = [ ... ]`, each a virtio-blk device on the
 * virtio-mmio slot QEMU would give it (the first disk on 0x10008000), served in the
 * hypervisor thread over the image layer's file store. `disk write`, `disk read` back,
 * `disk flush` and the bytes on the file (and `qemu-img check` on a qcow2 overlay where
 * qemu-img is installed), a read-only disk the guest cannot write, exits by reason,
 * xentop's VBD columns and `xl block-list`, and the hot-plug refusal.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Domain } from '../core/xen/common/domain';
import { Hypervisor } from '../core/xen/common/hypervisor';
import { checkQcow2 } from '../core/block/check';
import { FileStore, createOverlayFile, openImageFile } from './blockFile';
import { teachingOsWithDisks, typeOn, type DiskDomain } from './diskTestSupport';
import { waitForConsole } from '../testing/support';
import { decodeFdt } from '../core/board/fdtReader';
import type { FdtNode } from '../core/board/fdt';
import { buildVirtFdtTree } from '../core/board/virtFdt';

let hv: Hypervisor | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyperlab-vblk-'));
});
afterEach(() => {
  hv?.shutdownHost();
  hv = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function setup(disks: string[]): DiskDomain {
  const r = teachingOsWithDisks('hvm', 'vdisky', disks);
  hv = r.h;
  return r;
}

/** Type a command and wait for its answer and the prompt. */
const run = (h: Hypervisor, d: Domain, line: string, expect: RegExp | string, ms = 30_000): Promise<string> => typeOn(h, d, /tos\$ $/, line, expect, ms);

describe("hvm block devices: the teaching OS's virtio-blk driver and Domain-0's virtio-blk device", () => {
  it('writes, reads back, flushes to the image file; exits, xentop and block-list count it', async () => {
    const img = join(dir, 'disk.raw');
    writeFileSync(img, new Uint8Array(1 << 20)); // 1 MiB raw
    const ro = join(dir, 'ro.raw');
    writeFileSync(ro, new Uint8Array(64 * 1024).fill(0x41));
    const { h, ts, d, xl } = setup([`${img},raw,xvda,rw`, `${ro},raw,xvdb,ro`]);
    await waitForConsole(d, 'virtio-blk: vda on virtio-mmio@0x10008000 (PLIC source 8): 2048 sectors, read-write, flush', { lf: true });
    await waitForConsole(d, 'virtio-blk: vdb on virtio-mmio@0x10007000 (PLIC source 7): 128 sectors, read-only, flush', { lf: true });
    await waitForConsole(d, /tos\$ $/, { lf: true });

    const listing = await run(h, d, 'disk', /errors\n/);
    expect(listing).toContain("vda: virtio-blk, 2048 sectors of 512 bytes (1024 KiB), blk_size 512, read-write, flush, event-idx, id 'xvda'");
    expect(listing).toMatch(/virtio-mmio@0x10008000, PLIC source 8, features 0x[0-9a-f]+, queue of 128/);

    expect(await run(h, d, 'disk write 10 hello from the hvm teaching OS', 'disk: wrote')).toContain('disk: wrote 30 bytes to vda at sector 10 (1 sector)');
    const dump = await run(h, d, 'disk read 10', '|hello from the h|');
    expect(dump).toContain('00001400  68 65 6c 6c 6f 20 66 72  6f 6d 20 74 68 65 20 68  |hello from the h|');
    expect(await run(h, d, 'disk flush', 'flushed')).toContain("disk: vda flushed: the backend's image is on stable storage");
    expect(
      readFileSync(img)
        .subarray(10 * 512, 10 * 512 + 30)
        .toString(),
    ).toBe('hello from the hvm teaching OS');

    // The read-only disk: reads work, a write is answered IOERR (5.2.6.2) and the file is unchanged.
    expect(await run(h, d, 'disk read vdb 0', '|AAAAAAAA')).toContain('|AAAAAAAAAAAAAAAA|');
    expect(await run(h, d, 'disk write vdb 0 nope', 'status')).toContain('answered status 1');
    expect(readFileSync(ro).every((b) => b === 0x41)).toBe(true);

    // Every register access is an exit, by reason; requests move on QueueNotify exits.
    const notifies = d.exits.get('mmio:virtio-blk-notify') ?? 0;
    expect(notifies).toBeGreaterThanOrEqual(5);
    expect(d.exits.get('mmio:virtio-blk') ?? 0).toBeGreaterThan(notifies);
    const [vda, vdb] = ts.disks.virtioOf(d.domid);
    expect(vda!.slot).toBe(7);
    expect(vdb!.slot).toBe(6);
    expect(vda!.blk.stats).toMatchObject({ wrReq: 1, flReq: 1, wrSect: 1 });
    expect(vdb!.blk.stats.refused.readOnly).toBe(1);
    expect(vda!.transport.status & 64).toBe(0); // no DEVICE_NEEDS_RESET
    const [ins] = ts.disks.inspectVirtio(d.domid);
    expect(ins).toMatchObject({ vdev: 'xvda', devid: 51712, slot: 7, address: 0x10008000, irq: 8, sectors: 2048, readOnly: false, lastError: '' });
    expect(ins!.statusNames).toEqual(['ACKNOWLEDGE', 'DRIVER', 'FEATURES_OK', 'DRIVER_OK']);
    expect(ins!.queue).toMatchObject({ num: 128, ready: true, eventIdx: true });
    expect(ins!.queue.availIdx).toBe(ins!.queue.lastAvail); // nothing in flight
    expect(ins!.queue.usedIdx).toBe(ins!.queue.lastAvail);
    expect(ins!.stats.notifyIn).toBe(ins!.counts.notifies);

    const top = xl('top').split('\n');
    expect(top[1]).toMatch(/ 2 +0 +\d+ +1 +\d+ +1$/); // two disks, the one-sector write
    const bl = xl('block-list', String(d.domid));
    expect(bl).toContain('virtio-mmio@0x10008000');
    expect(bl).toMatch(/51712 xvda\s+2048\s+0xf\s+\d+\/1\/1\s+0 /);
    expect(() => xl('block-attach', String(d.domid), `${img},raw,xvdc,rw`)).toThrow(/no hot-plug/);
    expect(() => xl('block-detach', String(d.domid), 'xvda')).toThrow(/no hot-unplug/);
  }, 90_000);

  it('a qcow2 overlay: the bench runs, writes land in the overlay, and qemu-img agrees', async () => {
    const base = join(dir, 'base.raw');
    writeFileSync(base, new Uint8Array(4 << 20).fill(0x11));
    const overlay = join(dir, 'over.qcow2');
    createOverlayFile(overlay, base, { backingFormat: 'raw' });
    const { h, d } = setup([`${overlay},qcow2,xvda,rw`]);
    await waitForConsole(d, /tos\$ $/, { lf: true });
    const bench = await run(h, d, 'disk bench 1', 'timing: disk bench:', 120_000);
    expect(bench).toMatch(/timing: sequential read 1024 KiB: [\d.]+ s, [\d.]+ MB\/s, \d+ IOPS/);
    expect(bench).toMatch(/timing: random write 4 KiB: [\d.]+ s, [\d.]+ MB\/s, \d+ IOPS/);
    expect(await run(h, d, 'disk write 4096 overlay data', 'disk: wrote')).toContain('wrote 12 bytes');
    expect(await run(h, d, 'disk flush', 'flushed')).toContain('flushed');
    hv?.shutdownHost();
    hv = undefined;
    const check = checkQcow2(new FileStore(overlay, true));
    expect(check.errors).toEqual([]);
    const img = openImageFile(overlay, { format: 'qcow2', readOnly: true });
    const got = new Uint8Array(512);
    img.readSectors(4096, got);
    expect(new TextDecoder().decode(got.subarray(0, 12))).toBe('overlay data');
    img.readSectors(0, got);
    expect(got.every((b) => b === 0x11)).toBe(true); // the bench put back what it read
    img.close();
    expect(readFileSync(base).every((b) => b === 0x11)).toBe(true); // the base is never written
    const qi = spawnSync('qemu-img', ['check', overlay], { encoding: 'utf8' });
    if (qi.error === undefined) expect(qi.status, qi.stdout + qi.stderr).toBe(0);
  }, 180_000);
});

describe("virtio-blk in QEMU's device tree", () => {
  /** The virtio_mmio nodes of a tree, in order, with their properties as hex. */
  const virtioNodes = (root: FdtNode): string[] =>
    (root.children.find((c) => c.name === 'soc')?.children ?? [])
      .filter((c) => c.name.startsWith('virtio_mmio@'))
      .map((c) => `${c.name} ${c.props.map((p) => `${p.name}=${Buffer.from(p.value).toString('hex')}`).join(' ')}`);

  it('-device virtio-blk-device changes nothing in the tree: the eight virtio_mmio nodes are the same as without, and as ours', () => {
    if (spawnSync('qemu-system-riscv32', ['--version']).error !== undefined) {
      console.warn('qemu-system-riscv32 not found: skipping the QEMU comparison');
      return;
    }
    const dump = (extra: string[]): FdtNode => {
      const dtb = join(dir, 'virt.dtb');
      execFileSync('qemu-system-riscv32', ['-machine', `virt,dumpdtb=${dtb}`, '-bios', 'none', '-display', 'none', ...extra], { stdio: 'ignore' });
      return decodeFdt(new Uint8Array(readFileSync(dtb))).root;
    };
    const img = join(dir, 'd.raw');
    writeFileSync(img, new Uint8Array(1 << 20));
    const plain = virtioNodes(dump([]));
    const withDisk = virtioNodes(dump(['-drive', `if=none,id=d,file=${img},format=raw`, '-device', 'virtio-blk-device,drive=d']));
    expect(plain).toHaveLength(8);
    expect(withDisk).toEqual(plain);
    expect(plain[0]).toMatch(/^virtio_mmio@10008000 /); // the last slot is listed first
    // Ours: the same nodes, the same order, the same properties (virtFdt.test.ts compares the rest of the tree).
    const ours = virtioNodes(buildVirtFdtTree({ memBase: 0x8000_0000, memSize: 128 << 20, harts: 1 }));
    expect(ours).toEqual(plain);
  });
});
