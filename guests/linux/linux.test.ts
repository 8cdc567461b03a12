/**
 * Linux 6.12 without an MMU, in M-mode (public/guests/linux/, built by
 * guests/linux/build.sh): it boots under `hyperlab run` to the init's prompt, answers
 * commands typed on the console, powers off with status 0, and prints what it prints
 * under QEMU's `virt` machine, the lines of filterLinuxConsole() aside.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { qemuAvailable } from '../../src/node/qemu';
import { INIT_PROMPT, LINUX_INITRAMFS, LINUX_NOMMU_IMAGE, filterLinuxConsole, hyperlabSession, qemuSession } from './session';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HAVE_QEMU = qemuAvailable();
if (!HAVE_QEMU) {
  console.warn('linux.test.ts: qemu-system-riscv32 not found (set HYPERLAB_QEMU): skipping the comparison with QEMU');
}

const COMMANDS = [
  'uname -a',
  'echo hello  from   hyperlab',
  'cat /etc/motd',
  'ls /',
  'ls /dev',
  'cat /proc/cmdline',
  'cat /nonexistent',
  'count 100000',
  'frobnicate',
  'poweroff',
];

/** The console from the init's banner on, newlines normalised, timing lines dropped. */
function transcript(stdout: string): string[] {
  const text = filterLinuxConsole(stdout);
  return text.slice(text.indexOf('hyperlab init:')).split('\n');
}

/** The entries of a "newc" cpio archive: [name, mode]. */
function cpioEntries(bytes: Buffer): [string, number][] {
  const entries: [string, number][] = [];
  let off = 0;
  for (;;) {
    expect(bytes.toString('latin1', off, off + 6)).toBe('070701');
    const field = (i: number): number => parseInt(bytes.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const fileSize = field(6);
    const nameSize = field(11);
    const name = bytes.toString('latin1', off + 110, off + 110 + nameSize - 1);
    if (name === 'TRAILER!!!') return entries;
    entries.push([name, mode]);
    off = (off + 110 + nameSize + 3) & ~3;
    off = (off + fileSize + 3) & ~3;
  }
}

describe('the committed images', () => {
  it('a flat kernel Image and an uncompressed initramfs holding /init (a link to /bin/box)', () => {
    const image = readFileSync(LINUX_NOMMU_IMAGE);
    // RISC-V Image header: magic "RISCV\0\0\0" at 48, "RSC\x05" at 56.
    expect(image.toString('latin1', 48, 54)).toBe('RISCV\0');
    expect(image.readUInt32LE(56)).toBe(0x05435352);
    expect(image.length).toBeLessThan(3 * 1024 * 1024); // 1.68 MB before the network (IPv4, virtio-net: 0.91 MB)
    const entries = new Map(cpioEntries(readFileSync(LINUX_INITRAMFS)));
    for (const name of ['bin', 'bin/box', 'bin/sh', 'dev', 'dev/console', 'etc', 'etc/motd', 'init', 'proc', 'sys', 'tmp']) {
      expect(entries.has(name), name).toBe(true);
    }
    expect(entries.get('init')).toBe(0o120777); // userland.test.ts checks the links
    expect(entries.get('bin/box')).toBe(0o100755);
    expect(entries.get('dev/console')).toBe(0o020600);
  });
});

describe('Linux under hyperlab', () => {
  it('boots to the prompt, answers commands and powers off with status 0', async () => {
    const r = await hyperlabSession({ commands: COMMANDS, timeoutMs: 60_000 });
    expect(r.timedOut, r.stdout.slice(-2000)).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Linux version 6\.12\.\d+ \(hyperlab@hyperlab\)/);
    expect(r.stdout).toContain('Kernel command line: console=ttyS0 earlycon=uart8250,mmio,0x10000000');
    expect(r.stdout).toContain('10000000.serial: ttyS0 at MMIO 0x10000000 (irq = 3, base_baud = 230400) is a 16550A');
    const out = transcript(r.stdout);
    expect(out[0]).toMatch(/^hyperlab init: Linux 6\.12\.\d+ on riscv32$/);
    expect(out[1]).toBe('Type help for the commands.');
    const p = INIT_PROMPT;
    expect(out[2]).toBe(`${p}uname -a`);
    expect(out[3]).toMatch(/^Linux \(none\) 6\.12\.\d+ #1 Wed Jan {2}1 00:00:00 UTC 2025 riscv32$/);
    expect(out.slice(4)).toEqual([
      `${p}echo hello  from   hyperlab`,
      'hello from hyperlab',
      `${p}cat /etc/motd`,
      'Welcome to Linux on hyperlab: an unmodified kernel on an emulated RV32IMA hart.',
      `${p}ls /`,
      'bin',
      'dev',
      'etc',
      'init',
      'mnt',
      'proc',
      'root',
      'sbin',
      'sys',
      'tmp',
      'www',
      `${p}ls /dev`,
      'console',
      'full',
      'kmsg',
      'null',
      'random',
      'tty',
      'ttyS0',
      'urandom',
      'zero',
      `${p}cat /proc/cmdline`,
      'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0',
      `${p}cat /nonexistent`,
      'cat: /nonexistent: No such file or directory',
      `${p}count 100000`,
      'counted to 100000',
      `${p}frobnicate`,
      'sh: frobnicate: not found',
      `${p}poweroff`,
      'poweroff: powering off',
      'reboot: Power down',
      '',
    ]);
    const timing = r.stdout.split('\r\n').filter((l) => l.startsWith('timing:'));
    expect(timing).toHaveLength(1);
    expect(timing[0]).toMatch(/^timing: count 100000 in \d+\.\d{3} s(, \d+ thousand\/s)?$/);
  });

  it('boots with no --append: the kernel falls back to its built-in command line', async () => {
    const r = await hyperlabSession({ commands: ['cat /proc/cmdline', 'poweroff'], append: null });
    expect(r.exitCode).toBe(0);
    expect(transcript(r.stdout)).toContain('console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0');
  });
});

describe.skipIf(!HAVE_QEMU)('Linux under QEMU (skipped without qemu-system-riscv32)', () => {
  it('prints the same console as hyperlab, the filtered lines aside', async () => {
    const [h, q] = await Promise.all([hyperlabSession({ commands: COMMANDS, timeoutMs: 90_000 }), qemuSession({ commands: COMMANDS, timeoutMs: 90_000 })]);
    expect(q.timedOut).toBe(false);
    expect(q.exitCode).toBe(0);
    expect(h.exitCode).toBe(0);
    expect(filterLinuxConsole(h.stdout)).toBe(filterLinuxConsole(q.stdout));
    // The filter hides only what it says it hides.
    const dropped = (s: string): string[] =>
      s
        .replace(/\r\n/g, '\n')
        .split('\n')
        .filter((l) => !filterLinuxConsole(`${l}\n`).includes(l));
    for (const line of [...dropped(h.stdout), ...dropped(q.stdout)]) {
      expect(line).toMatch(/^(timing: |random: crng init done|Memory: \d+K\/|riscv-plic: .* mapped \d+ interrupts)/);
    }
  });
});

function initramfsToolsMissing(): string | null {
  if (!existsSync('/usr/src/linux-source-6.12.tar.xz')) return 'linux-source-6.12 not installed';
  if (!['/sbin/mke2fs', '/usr/sbin/mke2fs'].some((p) => existsSync(p))) return 'mke2fs (e2fsprogs) not installed';
  if (spawnSync('qemu-img', ['--version'], { stdio: 'ignore' }).status !== 0) return 'qemu-img (qemu-utils) not found';
  const r = spawnSync('riscv64-linux-gnu-gcc', ['--version'], { stdio: 'ignore' });
  return r.error !== undefined || r.status !== 0 ? 'riscv64-linux-gnu-gcc not found' : null;
}
const NO_TOOLS = initramfsToolsMissing();
if (NO_TOOLS !== null) console.warn(`linux.test.ts: ${NO_TOOLS}: skipping the initramfs rebuild`);

describe.skipIf(NO_TOOLS !== null)('initramfs and rootfs build (skipped without linux-source-6.12, the cross gcc, e2fsprogs and qemu-img)', () => {
  it('public/guests/linux/initramfs.cpio and rootfs.qcow2 are byte-for-byte what build.sh --initramfs-only builds', () => {
    const out = mkdtempSync(join(tmpdir(), 'hyperlab-linux-'));
    try {
      const r = spawnSync('bash', [join(ROOT, 'guests', 'linux', 'build.sh'), '--initramfs-only', '--out', out], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const same = readFileSync(join(out, 'initramfs.cpio')).equals(readFileSync(LINUX_INITRAMFS));
      expect(same, 'initramfs.cpio differs from a fresh build: run bash guests/linux/build.sh').toBe(true);
      const rootfs = readFileSync(join(out, 'rootfs.qcow2')).equals(readFileSync(join(ROOT, 'public', 'guests', 'linux', 'rootfs.qcow2')));
      expect(rootfs, 'rootfs.qcow2 differs from a fresh build: run bash guests/linux/build.sh').toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
