/**
 * Linux on its disk (docs/linux.md "The root disk"): the shipped root file system
 * (public/guests/linux/rootfs.qcow2, ext2 in a qcow2, built by build.sh) opens in
 * hyperlab's image layer and in qemu-img; a disk spec with backing= creates a domain's
 * overlay on first use; both kernels boot from it with root=/dev/vda as hvm domains (no
 * initramfs); a file written in the guest survives `reboot` and `xl destroy` + `xl create`
 * and is on the overlay for debugfs; and under qemu-system-riscv32 with the same rootfs as
 * a virtio-blk-device the console is the same, the lines filterLinuxConsole() masks aside.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDdRate } from '../../bench/diskLinux';
import { parseDiskSpec } from '../../src/core/tools/xlDisk';
import { parseXlConfig } from '../../src/core/tools/xlConfig';
import { openDiskFile, openImageFile } from '../../src/node/blockFile';
import { projectRoot } from '../../src/node/paths';
import { findQemu, qemuAvailable } from '../../src/node/qemu';
import { ensureBundleSync } from '../../src/node/testBundle';
import { DISK_CMDLINE, LinuxDiskLab, ROOTFS_NAME, diskConfig, type DiskGuest } from './diskSession';
import { INIT_PROMPT, consoleSession, filterLinuxConsole, filterSbiLinuxConsole, qemuLinuxArgs, qemuSbiLinuxArgs } from './session';

const ROOTFS = join(projectRoot(), ROOTFS_NAME);
const TMP = mkdtempSync(join(tmpdir(), 'hyperlab-linux-disk-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const tool = (cmd: string): boolean => spawnSync(cmd, ['-V'], { stdio: 'ignore' }).error === undefined;
const HAVE_QEMU_IMG = tool('qemu-img');
const DEBUGFS = ['/sbin/debugfs', '/usr/sbin/debugfs'].find((p) => existsSync(p));
const HAVE_QEMU = qemuAvailable() && HAVE_QEMU_IMG;
if (!HAVE_QEMU_IMG || DEBUGFS === undefined) console.warn('disk.test.ts: qemu-img or debugfs missing (qemu-utils, e2fsprogs): skipping what needs them');

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The image as raw bytes in a new file (qemu-img convert), for debugfs and QEMU. */
function toRaw(image: string, raw: string): void {
  const r = spawnSync('qemu-img', ['convert', '-O', 'raw', image, raw], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** `debugfs -R REQUEST` on a raw ext2 image: its stdout. */
function debugfs(raw: string, request: string): string {
  const r = spawnSync(DEBUGFS!, ['-R', request, raw], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('the shipped root file system', () => {
  it('is a qcow2 of a 64 MiB ext2 file system that the image layer opens read-only', () => {
    const img = openImageFile(ROOTFS, { format: 'qcow2', readOnly: true });
    try {
      expect(img.size).toBe(64 << 20);
      const sb = new Uint8Array(1024);
      img.readSectors(2, sb); // the ext2 superblock at byte 1024
      const v = new DataView(sb.buffer);
      expect(v.getUint16(56, true)).toBe(0xef53); // s_magic
      expect(v.getUint32(76, true)).toBe(1); // s_rev_level: dynamic
      expect(v.getUint32(96, true) & ~0x2).toBe(0); // s_feature_incompat: filetype only (ext2)
      expect(new TextDecoder().decode(sb.subarray(120, 126))).toBe('rootfs'); // s_volume_name
    } finally {
      img.close();
    }
    expect(readFileSync(ROOTFS).length).toBeLessThan(2 << 20); // only the clusters in use
  });

  it.skipIf(!HAVE_QEMU_IMG || DEBUGFS === undefined)('qemu-img checks it clean, and debugfs finds the userland and the links on it', () => {
    const check = spawnSync('qemu-img', ['check', ROOTFS], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const raw = join(TMP, 'base.raw');
    toRaw(ROOTFS, raw);
    const fsck = spawnSync('/sbin/e2fsck', ['-fn', raw], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout).toBe(0);
    expect(debugfs(raw, 'stat /bin/box')).toMatch(/Type: regular +Mode: +0755/);
    expect(debugfs(raw, 'stat /bin/box')).toMatch(/User: +0 +Group: +0/);
    expect(debugfs(raw, 'cat /etc/motd')).toContain('running from its disk');
    const bin = debugfs(raw, 'ls -p /bin');
    for (const a of ['sh', 'ls', 'dd', 'mount', 'init']) expect(bin).toContain(`/${a}/`);
    expect(debugfs(raw, 'stat /sbin')).toContain('Fast link dest: "/bin"');
  });

  it("a disk spec's backing= makes the domain's overlay on first use, then reopens it; the base is never written", () => {
    const before = sha(ROOTFS);
    const target = join(TMP, 'sub', 'dir', 'first.qcow2');
    const spec = parseDiskSpec(`format=qcow2, vdev=xvda, backing=${ROOTFS}, target=${target}`);
    const img = openDiskFile(spec);
    const data = new Uint8Array(512).fill(0x5a);
    img.writeSectors(100, data);
    img.flush();
    expect(img.info().backingName).toBe(relative(join(TMP, 'sub', 'dir'), ROOTFS)); // recorded relative to the overlay, as qemu-img does
    img.close();
    expect(existsSync(target)).toBe(true);
    const again = openDiskFile(spec); // there now: opened, not made again
    const back = new Uint8Array(512);
    again.readSectors(100, back);
    again.readSectors(2, new Uint8Array(1024));
    again.close();
    expect(back).toEqual(data);
    expect(sha(ROOTFS)).toBe(before);
    expect(() => openDiskFile(parseDiskSpec(`format=qcow2, vdev=xvda, backing=${join(TMP, 'none.qcow2')}, target=${join(TMP, 'x.qcow2')}`))).toThrow(
      /backing file .* not found/,
    );
    expect(existsSync(join(TMP, 'x.qcow2'))).toBe(false);
  });
});

describe('the disk examples (examples/linux-*-disk.cfg)', () => {
  it('name their kernel, no initramfs, root=/dev/vda rw, and an overlay over the shipped rootfs under examples/disks/', () => {
    for (const [file, kernel] of [
      ['linux-6.1-disk.cfg', 'public/guests/linux/linux-6.1-mmu.Image'],
      ['linux-6.12-disk.cfg', 'public/guests/linux/linux-6.12-nommu.Image'],
    ] as const) {
      const cfg = parseXlConfig(readFileSync(join(projectRoot(), 'examples', file), 'utf8'));
      expect(cfg).toMatchObject({ type: 'hvm', kernel, cmdline: DISK_CMDLINE, on_reboot: 'restart' });
      expect(cfg.ramdisk).toBeUndefined();
      expect(existsSync(join(projectRoot(), kernel))).toBe(true);
      expect(cfg.disk).toEqual([
        expect.objectContaining({
          format: 'qcow2',
          vdev: 'xvda',
          access: 'rw',
          backing: ROOTFS_NAME,
          target: `examples/disks/${file.replace('.cfg', '.qcow2')}`,
        }),
      ]);
    }
    expect(readFileSync(join(projectRoot(), 'examples', '.gitignore'), 'utf8')).toMatch(/^disks\/$/m);
  });
});

describe("the dd bench's reading of dd's summary line (bench/diskLinux.ts)", () => {
  it('takes the rate in MB/s whatever unit dd chose, and nothing from other lines', () => {
    expect(parseDdRate(['512+0 records in', '512+0 records out', '33554432 bytes (34 MB, 32 MiB) copied, 3.959 s, 8.5 MB/s'])).toBe(8.5);
    expect(parseDdRate(['65536 bytes (66 kB, 64 KiB) copied, 0.1 s, 655 kB/s'])).toBeCloseTo(0.655);
    expect(parseDdRate(['1 bytes copied, 2 s, 1.2 GB/s'])).toBeCloseTo(1200);
    expect(parseDdRate(['dd: /root/x: No space left on device'])).toBeUndefined();
  });
});

/** Boot `guest` from a new overlay in one hypervisor; write a file; reboot; destroy and create; read it back each time. */
async function persistenceRun(guest: DiskGuest, overlay: string): Promise<string[]> {
  const lab = new LinuxDiskLab(ensureBundleSync());
  const name = `linux-${guest}`;
  const cfg = diskConfig(name, guest, overlay);
  const seen: string[] = [];
  try {
    lab.create(cfg);
    await lab.nextPrompt(name);
    expect(lab.console(name)).toContain('VFS: Mounted root (ext2 filesystem) on device');
    expect(await lab.run(name, 'cat /etc/motd')).toEqual(['Welcome to Linux on hyperlab, running from its disk (/dev/vda, ext2): what you write stays.']);
    expect(await lab.run(name, 'cat /proc/cmdline')).toEqual([DISK_CMDLINE]);
    expect(await lab.run(name, `echo written by ${guest} > /root/note; mkdir /root/d; echo more >> /root/d/f; sync; cat /root/note`)).toEqual([
      `written by ${guest}`,
    ]);
    // reboot: on_reboot = "restart" builds the domain again on the same overlay
    lab.hv.consoleInput(lab.domain(name)!.domid, new TextEncoder().encode('reboot\n'));
    await lab.nextPrompt(name);
    seen.push(...(await lab.run(name, 'cat /root/note /root/d/f')));
    await lab.poweroff(name);
    // xl destroy + xl create from the same config
    lab.destroy(name);
    expect(lab.domain(name)).toBeUndefined();
    lab.create(cfg);
    await lab.nextPrompt(name);
    seen.push(...(await lab.run(name, 'cat /root/note; df / | wc -l')));
    await lab.poweroff(name);
    lab.destroy(name);
  } finally {
    lab.close();
  }
  return seen;
}

describe('Linux boots from its disk on hyperlab (hvm, virtio-blk, root=/dev/vda)', () => {
  for (const guest of ['nommu', 'mmu'] as const) {
    it(`Linux ${guest === 'nommu' ? '6.12 nommu' : '6.1 mmu'}: a file written survives reboot and destroy + create, and is on the overlay`, async () => {
      const before = sha(ROOTFS);
      const overlay = join(TMP, `${guest}.qcow2`);
      const seen = await persistenceRun(guest, overlay);
      expect(seen).toEqual([`written by ${guest}`, 'more', `written by ${guest}`, '2']);
      expect(sha(ROOTFS)).toBe(before);
      if (HAVE_QEMU_IMG) {
        const check = spawnSync('qemu-img', ['check', overlay], { encoding: 'utf8' });
        expect(check.status, check.stdout + check.stderr).toBe(0);
      }
      if (HAVE_QEMU_IMG && DEBUGFS !== undefined) {
        const raw = join(TMP, `${guest}.raw`);
        toRaw(overlay, raw);
        expect(debugfs(raw, 'cat /root/note')).toBe(`written by ${guest}\n`);
        expect(debugfs(raw, 'cat /root/d/f')).toBe('more\n');
        const fsck = spawnSync('/sbin/e2fsck', ['-fn', raw], { encoding: 'utf8' });
        expect(fsck.status, fsck.stdout).toBe(0); // unmounted cleanly at poweroff: nothing to repair
      }
    }, 300_000);
  }
});

describe("the initramfs's init switching to the disk (root= with an initramfs)", () => {
  it('Linux 6.12 nommu: init mounts /dev/vda, moves /dev, /proc, /sys and /tmp onto it and makes it /', async () => {
    const lab = new LinuxDiskLab(ensureBundleSync());
    try {
      lab.create(diskConfig('sw', 'nommu', join(TMP, 'switch.qcow2'), { initramfs: true }));
      await lab.nextPrompt('sw');
      expect(lab.console('sw')).toContain('init: root is /dev/vda\r\n');
      expect(await lab.run('sw', 'cat /etc/motd; mount | grep -c relatime; ls /init')).toEqual([
        'Welcome to Linux on hyperlab, running from its disk (/dev/vda, ext2): what you write stays.',
        '5', // the disk, and proc, sysfs, devtmpfs, tmpfs moved along
        '/init',
      ]);
      await lab.poweroff('sw');
    } finally {
      lab.close();
    }
  }, 120_000);
});

/** What is typed on both machines; nothing whose answer depends on the host or on time. */
const COMMANDS = ['cat /etc/motd', 'ls /', 'mount', 'df /', 'cat /proc/cmdline', 'echo on the disk > /root/x; cat /root/x', 'ls /root', 'poweroff'];

describe.skipIf(!HAVE_QEMU)('the same kernel and rootfs under QEMU (skipped without qemu-system-riscv32 and qemu-img)', () => {
  for (const guest of ['nommu', 'mmu'] as const) {
    it(`Linux ${guest === 'nommu' ? '6.12 nommu' : '6.1 mmu'}: the same console as on hyperlab, from the banner to the power-off`, async () => {
      const raw = join(TMP, `qemu-${guest}.raw`);
      toRaw(ROOTFS, raw);
      const opts = { initrd: null, disk: raw, append: DISK_CMDLINE, memMiB: guest === 'nommu' ? 64 : 128 };
      const qemuRun = consoleSession(findQemu()!, guest === 'nommu' ? qemuLinuxArgs(opts) : qemuSbiLinuxArgs(opts), { commands: COMMANDS, timeoutMs: 120_000 });
      const lab = new LinuxDiskLab(ensureBundleSync());
      let h: string;
      try {
        lab.create(diskConfig('d', guest, join(TMP, `diff-${guest}.qcow2`)));
        for (const c of COMMANDS.slice(0, -1)) {
          if (c === COMMANDS[0]) await lab.nextPrompt('d');
          await lab.run('d', c);
        }
        await lab.poweroff('d');
        h = lab.console('d');
      } finally {
        lab.close();
      }
      const q = await qemuRun;
      expect(q.timedOut, q.stdout.slice(-2000)).toBe(false);
      const filter = guest === 'nommu' ? filterLinuxConsole : filterSbiLinuxConsole;
      const hf = filter(h);
      const qf = filter(q.stdout);
      expect(hf).toContain(`${INIT_PROMPT}echo on the disk > /root/x; cat /root/x\non the disk\n`);
      expect(hf).toContain('VFS: Mounted root (ext2 filesystem) on device');
      expect(hf).toBe(qf);
    }, 300_000);
  }
});
