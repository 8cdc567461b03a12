/**
 * The Linux userland (guests/linux/userland/, docs/linux.md "The userland"): both kernels
 * boot the committed initramfs headless in Node (Linux 6.12 nommu under `hyperlab run`,
 * Linux 6.1 with the MMU as an hvm domain on hyperlab's SBI) and run one script of
 * commands typed at the prompt: pipes, redirections into files on /tmp (ramfs), a history
 * recall by an escape sequence, scripts (sh FILE and #!), the environment, $?, and every
 * command of the box, whose answers are checked.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../src/node/testBundle';
import { bootLinuxDomain } from './domainSession';
import { INIT_PROMPT, LINUX_INITRAMFS, hyperlabSession } from './session';

const HERE = dirname(fileURLToPath(import.meta.url));
const UP = '\x1b[A';

/** The commands, one per prompt; the answers are checked by answersOk() below. */
const SCRIPT = [
  'cd /tmp && echo hello > f && cat f',
  'echo more >> f; cat < f | wc -l',
  'ls /nonexistent 2> err; echo status=$?; cat err',
  'echo a b c | cat | cat | wc -w',
  UP, // the line before, again
  "echo 'echo script $1 $# $?' > s.sh; echo 'ls / | wc -l' >> s.sh; sh s.sh one two",
  "echo '#!/bin/sh' > t; echo 'echo shebang $0 $1' >> t; chmod +x t; ./t arg",
  "export GREETING=hi; sh -c 'echo $GREETING'; X=1 sh -c 'echo X=$X'; echo \"[$X]\"",
  'false || echo or; true && echo and; false && echo no; echo $?; ! false && echo negated; ! true; echo $?',
  'x=\'a  b\'; for w in $x; do echo [$w]; done; echo "[$x]" $(echo one; echo two) "$(uname -m)"; sh -c \'echo $0 $1 $#\' n1 a b',
  'for x in $(echo a; echo b) "c d"; do echo [$x]; done',
  'i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo $i $((2 * (3 + 4) - 10 / 3))',
  'i=0; while true; do i=$((i + 1)); [ $i = 2 ] && continue; [ $i -ge 4 ] && break; echo i$i; done; echo end',
  'for x in 1 2; do if [ $x = 2 ]; then echo two; else echo not $x; fi; done; touch go; while test -e go; do rm go; echo looped; done',
  'mkdir -p d/e/f; touch d/e/g; cp -r d d2; mv d2/e/g d2/h; rm -r d; rmdir d2/e/f; ls -F d2 d2/e; ls',
  'mv /tmp/f /root/f2; cat /root/f2 | wc -l; ls /tmp/f',
  "sh -c 'exit 3'; echo $?; ls /nope 2>&1 | wc -l",
  'cd /bin; echo c* ~; cd; pwd',
  'ln -s /etc/motd m; ln -s m m2; ls -l m m2 | wc -l; cat m2 | wc -c; rm m m2; ls',
  'ls -l /init',
  'echo hello | hexdump -C; echo hi | hexdump',
  'dd if=/dev/zero bs=64 count=1 2> /dev/null | hexdump -C',
  'dd if=/dev/zero of=/tmp/z bs=1k count=64',
  'du -s /tmp; df -a',
  'mount -t tmpfs none /mnt && touch /mnt/x && ls /mnt && umount /mnt && ls /mnt; echo mounted; mount',
  'ps',
  'free; uptime',
  'dmesg | wc -l; uname -a; uname -r -m',
  "dmesg | grep -c 'ttyS0 at MMIO'; ls /bin | head -n 2; grep -n zzz /etc/motd || echo none",
  'dirty -b 1 4 2; echo status=$?',
  'sleep 0.1; sync; echo slept; help | wc -l; history | wc -l',
];

/** Each command's answer: the console between its prompt and the next, lines without "\r". */
function answers(console: string): string[][] {
  const parts = console.replace(/\r\n/g, '\n').split(INIT_PROMPT).slice(1);
  return parts.map((p) => p.split('\n').slice(1, -1)).slice(0, SCRIPT.length);
}

function answersOk(console: string, kernel: RegExp): void {
  const a = answers(console);
  expect(a, console.slice(-3000)).toHaveLength(SCRIPT.length);
  let i = 0;
  const next = (): string[] => a[i++]!;
  expect(next()).toEqual(['hello']);
  expect(next()).toEqual(['2']);
  expect(next()).toEqual(['status=2', 'ls: /nonexistent: No such file or directory']);
  expect(next()).toEqual(['3']);
  expect(next()).toEqual(['3']); // recalled: the same pipeline
  expect(next()).toEqual(['script one 2 0', '11']);
  expect(next()).toEqual(['shebang ./t arg']);
  expect(next()).toEqual(['hi', 'X=1', '[]']);
  expect(next()).toEqual(['or', 'and', '1', 'negated', '1']);
  expect(next()).toEqual(['[a]', '[b]', '[a  b] one two riscv32', 'n1 a 2']); // splitting, $(...), sh -c's $0
  expect(next()).toEqual(['[a]', '[b]', '[c d]']);
  expect(next()).toEqual(['3 11']);
  expect(next()).toEqual(['i1', 'i3', 'end']); // continue, break
  expect(next()).toEqual(['not 1', 'two', 'looped']);
  expect(next()).toEqual(['d2:', 'e/', 'h', '', 'd2/e:', 'd2', 'err', 'f', 's.sh', 't']);
  expect(next()).toEqual(['2', 'ls: /tmp/f: No such file or directory']); // mv across file systems
  expect(next()).toEqual(['3', '1']);
  expect(next()).toEqual(['cat chmod cksum count cp /root', '/root']);
  expect(next()).toEqual(['2', '80', 'f2']); // ln -s
  expect(next()).toEqual(['lrwxrwxrwx    1 0        0                 8 Jan  1 00:00 /init -> /bin/box']);
  expect(next()).toEqual(['00000000  68 65 6c 6c 6f 0a                                 |hello.|', '00000006', '0000000 6968 000a', '0000003']);
  expect(next()).toEqual(['00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|', '*', '00000040']);
  const dd = next();
  expect(dd.slice(0, 2)).toEqual(['64+0 records in', '64+0 records out']);
  expect(dd[2]).toMatch(/^65536 bytes \(66 kB, 64 KiB\) copied, \d+\.\d+ s, \d+(\.\d)? [kMG]?B\/s$/);
  const df = next();
  expect(Number(df[0]!.split('\t')[0])).toBeGreaterThanOrEqual(64); // the 64 KiB of z, and more
  expect(df[0]).toMatch(/^\d+\t\/tmp$/);
  expect(df[1]).toBe('Filesystem           1K-blocks      Used Available Use% Mounted on');
  expect(df).toContain('tmpfs                        0         0         0   0% /tmp');
  const mount = next();
  expect(mount.slice(0, 2)).toEqual(['x', 'mounted']);
  expect(mount).toContain('proc on /proc type proc (rw,relatime)');
  expect(mount).toContain('tmpfs on /tmp type tmpfs (rw,relatime)');
  const ps = next();
  expect(ps[0]).toBe('  PID  PPID S COMMAND');
  expect(ps).toContain('    1     0 S /init');
  expect(ps.some((l) => /^ +\d+ +1 S sh -i$/.test(l))).toBe(true);
  expect(ps.some((l) => /^ +\d+ +\d+ R ps$/.test(l))).toBe(true);
  const free = next();
  expect(free[0]).toBe('               total        used        free      shared  buff/cache   available');
  expect(free[1]).toMatch(/^Mem: +\d+ +\d+ +\d+ +\d+ +\d+ +\d+$/);
  expect(free[3]).toMatch(/^ \d\d:\d\d:\d\d up \d+ min, {2}load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d$/);
  const sys = next();
  expect(Number(sys[0])).toBeGreaterThan(20); // the boot log
  expect(sys[1]).toMatch(kernel);
  expect(sys[2]).toMatch(/^\d+\.\d+\.\d+ riscv32$/);
  expect(next()).toEqual(['1', '[', 'box', 'none']);
  // dirty: 4 MiB/s for 2 s over a 1 MiB buffer, paced (never ahead of the rate; behind it only if the guest is starved)
  const dirty = next();
  expect(dirty[1]).toBe('status=0');
  const m = /^dirty: (\d+) MiB \((\d+) pages\) in (\d+\.\d{3}) s, \d+\.\d MiB\/s, buffer 1 MiB$/.exec(dirty[0] ?? '');
  expect(m, dirty.join('\n')).not.toBeNull();
  expect(Number(m![3])).toBeGreaterThanOrEqual(2);
  expect(Number(m![2])).toBeGreaterThan(0);
  expect(Number(m![2])).toBeLessThanOrEqual(Math.ceil(Number(m![3]) * 4 * 256));
  const last = next();
  expect(last.slice(0, 1)).toEqual(['slept']);
  expect(Number(last[1])).toBeGreaterThan(30); // help: the shell's lines and one per command
  expect(last[2]).toBe(String(SCRIPT.length - 1)); // history: every line before this one (the recall not twice)
}

describe('the initramfs holds the userland', () => {
  it('/init and every applet of box.h are links to /bin/box', () => {
    const list = readFileSync(join(HERE, 'initramfs', 'initramfs.list'), 'utf8');
    const applets = [...readFileSync(join(HERE, 'userland', 'box.h'), 'utf8').matchAll(/^ {2}X\((\w+),/gm)].map((m) => m[1]);
    const links = [...list.matchAll(/^slink \/bin\/(\w+) box /gm)].map((m) => m[1]);
    expect(links).toEqual(applets);
    expect(list).toMatch(/^slink \/init \/bin\/box 0777/m);
    expect(list).toMatch(/^slink \/bin\/\[ box 0777/m); // test's other name
    const cpio = readFileSync(LINUX_INITRAMFS).toString('latin1');
    for (const a of applets) expect(cpio).toContain(`bin/${a}\0`);
  });
});

describe('the userland on both kernels', () => {
  it('Linux 6.12 nommu (M-mode, hyperlab run): shell features and commands', async () => {
    const r = await hyperlabSession({ commands: [...SCRIPT, 'poweroff'], timeoutMs: 120_000 });
    expect(r.timedOut, r.stdout.slice(-3000)).toBe(false);
    expect(r.exitCode).toBe(0);
    answersOk(r.stdout, /^Linux \(none\) 6\.12\.\d+ #1 Wed Jan {2}1 00:00:00 UTC 2025 riscv32$/);
    expect(r.stdout).toContain(`${INIT_PROMPT}echo a b c | cat | cat | wc -w\x1b[K\r\n3`); // recalled: the line redrawn, not the prompt
    expect(r.stdout).toContain('poweroff: powering off');
  });

  it('root= naming a disk that is not there: init says so and the initramfs stays the root', async () => {
    const append = 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0 root=/dev/vda';
    const r = await hyperlabSession({ commands: ['ls /init', 'poweroff'], append, timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    const text = r.stdout.replace(/\r\n/g, '\n');
    expect(text).toMatch(/\ninit: root disk: \/dev\/vda: [^\n]+\nType help for the commands\.\n/);
    expect(text).toContain(`${INIT_PROMPT}ls /init\n/init\n`);
  });

  it('root=/ rootfstype=bind: the whole switch to a new root (mounts moved, chroot), without a disk', async () => {
    const append = 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0 root=/ rootfstype=bind';
    const r = await hyperlabSession({
      commands: ['mount | grep -c relatime; echo hi > /tmp/x; cat /tmp/x; ls /sys | wc -l', 'poweroff'],
      append,
      timeoutMs: 60_000,
    });
    expect(r.exitCode).toBe(0);
    const text = r.stdout.replace(/\r\n/g, '\n');
    expect(text).toContain('\ninit: root is /\nType help for the commands.\n');
    const answer = text.slice(text.indexOf('ls /sys | wc -l\n') + 16).split('\n');
    expect(answer.slice(0, 2)).toEqual(['4', 'hi']); // proc, sysfs, devtmpfs, tmpfs moved along
    expect(Number(answer[2])).toBeGreaterThan(3);
  });

  it('reboot restarts the machine (the syscon reboot), which boots to the prompt again', async () => {
    const r = await hyperlabSession({ commands: ['reboot', 'poweroff'], timeoutMs: 60_000 });
    expect(r.exitCode).toBe(0);
    const text = r.stdout.replace(/\r\n/g, '\n');
    expect(text).toContain(`${INIT_PROMPT}reboot\nreboot: rebooting\nreboot: Restarting system\n`);
    expect(text.match(/^hyperlab init: /gm)).toHaveLength(2);
    expect(text).toContain('poweroff: powering off\nreboot: Power down\n');
  });

  it('Linux 6.1 with the MMU (S-mode on the SBI, an hvm domain): the same', async () => {
    const r = await bootLinuxDomain({
      guest: 'sbi-ttyS0',
      workerScript: ensureBundleSync(),
      commands: SCRIPT,
      poweroff: true,
      timeoutMs: 120_000,
    });
    answersOk(r.console, /^Linux \(none\) 6\.1\.\d+ #1 SMP .* riscv32$/);
    expect(r.shutdown).toBe('poweroff (SBI system_reset(0, 0))');
  });
});
