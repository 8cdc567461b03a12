/**
 * The teaching OS's hvm image (public/guests/teaching-os-hvm.elf): it boots on hyperlab's
 * hvm board, answers a shell script typed all at once, powers off with status 0, and
 * prints the same as on qemu-system-riscv32 -machine virt -bios none (timing lines
 * aside). The pv image needs the hypervisor's pv domains and is not run here.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHeadless } from '../../src/node/headless';
import { guestImage } from '../../src/node/paths';
import { findQemu, qemuAvailable, qemuArgs, stripTimingLines } from '../../src/node/qemu';

const HVM = guestImage('teaching-os-hvm');
const SCRIPT = 'help\ninfo\nuptime\nburn 1\nwrite 100\nshutdown\n';
// Host time, not icountShift: with icount, `hyperlab run` warps time to the next timer
// deadline while the guest sleeps and never yields to the event loop, so input typed
// after boot would never reach a guest whose timer ticks (src/node/run.ts sleepUntil).
const RUN = { maxInsns: 200_000_000 };
const HAVE_QEMU = qemuAvailable();
if (!HAVE_QEMU) console.warn('teaching-os.test.ts: qemu-system-riscv32 not found: QEMU comparison skipped');

/**
 * runQemu's command line (-serial stdio), but with stdin and stdout plain files instead of
 * pipes. Through runQemu's pipes QEMU 7.2 loses UART bytes of a session this long (input
 * and output, a few in most runs); with files, runs repeat byte for byte.
 */
async function runQemuWithInput(image: string, input: string): Promise<{ stdout: string; exitCode: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'teaching-os-qemu-'));
  try {
    writeFileSync(join(dir, 'in'), input, 'latin1');
    const stdin = openSync(join(dir, 'in'), 'r');
    const stdout = openSync(join(dir, 'out'), 'w');
    const child = spawn(findQemu()!, qemuArgs(image), { stdio: [stdin, stdout, 'ignore'] });
    closeSync(stdin);
    closeSync(stdout);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    return { stdout: readFileSync(join(dir, 'out'), 'latin1'), exitCode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = (text: string): string[] => text.split('\r\n').filter((l, i, all) => l !== '' || i < all.length - 1);

/** What `burn N` must report: N million steps of xorshift32 from the kernel's seed. */
function xorshift32(millions: number): string {
  let x = 2463534242;
  for (let i = 0; i < millions * 1_000_000; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return `0x${(x >>> 0).toString(16).padStart(8, '0')}`;
}

/** The text `write N` produces: lines of 62 letters and digits and "\r\n", N bytes in all. */
function writeText(n: number): string {
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let k = 0; s.length < n; k++) {
    for (let p = 0; p < 62; p++) s += alnum[(k + p) % 62];
    s += '\r\n';
  }
  return s.slice(0, n) + (n % 64 ? '\r\n' : '');
}

describe('teaching OS (hvm) on hyperlab', () => {
  it('is built', () => {
    expect(existsSync(HVM)).toBe(true);
  });

  it('boots, runs the scripted commands and powers off with status 0', async () => {
    const r = await runHeadless(HVM, { input: SCRIPT, ...RUN });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/^teaching-os \d+\.\d+ \(hvm\): /);
    expect(out).toContain('hvm: 131072 KiB of RAM at 0x80000000, 1 hart (from the device tree)');
    // The prompt, then the command as echoed by the line editor.
    for (const cmd of SCRIPT.trim().split('\n')) expect(out).toContain(`tos$ ${cmd}`);
    // help lists every command.
    const help = out.slice(out.indexOf('tos$ help') + 1, out.indexOf('tos$ info'));
    expect(help[0]).toBe('commands:');
    const names = help.slice(1).map((l) => l.trim().split(' ')[0]);
    expect(names).toEqual([
      'help',
      'info',
      'ps',
      'mem',
      'uptime',
      'burn',
      'write',
      'dirty',
      'smc',
      'evtping',
      'pong',
      'evtchn',
      'share',
      'peek',
      'balloon',
      'smp',
      'xs',
      'ifconfig',
      'ping',
      'udp',
      'arp',
      'disk',
      'shutdown',
      'reboot',
    ]);
    // info
    const info = out.slice(out.indexOf('tos$ info') + 1, out.indexOf('tos$ uptime'));
    expect(info).toEqual(['domain: hvm', "type: hvm, M-mode on QEMU's virt board (16550A UART, CLINT, PLIC, test finisher)", 'memory: 131072 KiB', 'vCPUs: 1']);
    // uptime: seconds with one decimal, from the tick counter
    expect(out[out.indexOf('tos$ uptime') + 1]).toMatch(/^timing: up \d+\.\d s \(\d+ ticks at 100 Hz\)$/);
    // burn 1: the known answer and a timing line
    const burn = out.indexOf('tos$ burn 1');
    expect(out[burn + 1]).toBe(`burn: 1 million iterations of xorshift32, result ${xorshift32(1)}`);
    expect(out[burn + 2]).toMatch(/^timing: burn 1 million iterations in \d+\.\d{3} s \(\d+\.\d million\/s\)$/);
    // write 100: exactly the 100 bytes, then the timing line
    const from = r.stdout.indexOf('tos$ write 100\r\n') + 'tos$ write 100\r\n'.length;
    expect(r.stdout.slice(from, from + writeText(100).length)).toBe(writeText(100));
    expect(out[out.indexOf('tos$ write 100') + 3]).toMatch(/^timing: write 100 bytes in \d+\.\d{6} s \(\d+ KiB\/s\)$/);
    expect(out.at(-1)).toBe('shutdown: powering off');
  });

  it('edits lines: backspace, Ctrl-U, CR or CRLF line ends, escape sequences', async () => {
    const r = await runHeadless(HVM, { input: 'hepl\x7f\x7flp\rjunk\x15mem\r\nx\x1b[Ahelp\x08\x08\x08\x08\nshutdown\n', ...RUN });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('tos$ hepl\b \b\b \blp\r\ncommands:');
    expect(r.stdout).toContain('tos$ junk\b \b\b \b\b \b\b \bmem\r\npages: ');
    expect(r.stdout).toContain('tos$ xhelp\b \b\b \b\b \b\b \b\r\nx: unknown command (type help)');
  });

  it('loses nothing when far more input than its buffers hold arrives at once', async () => {
    const n = 150; // 600 bytes: more than the kernel's 512-byte input buffer
    const r = await runHeadless(HVM, { input: 'mem\n'.repeat(n) + 'shutdown\n', ...RUN });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout).filter((l) => l.startsWith('pages: '))).toHaveLength(n);
  });

  it('answers the pv-only commands with "not available on hvm"', async () => {
    const r = await runHeadless(HVM, { input: 'evtping 1\nevtchn\nping 10.0.0.1\npong\nshare 1 hi\npeek 1\nballoon\nburn x\nbogus\nshutdown\n', ...RUN });
    expect(r.exitCode).toBe(0);
    const out = lines(r.stdout);
    expect(out).toContain('evtping: not available on hvm (no event channels)');
    expect(out).toContain("ping: no network interface (give the domain a vif = [ '' ] in its config)");
    expect(out).toContain('pong: not available on hvm (no event channels)');
    expect(out).toContain('evtchn: not available on hvm (no event channels)');
    expect(out).toContain('share: not available on hvm (no grant tables)');
    expect(out).toContain('peek: not available on hvm (no grant tables)');
    expect(out).toContain("balloon: not available on hvm (the board's memory is fixed: no xenstore, no memory_op)");
    expect(out).toContain('burn: expected a number from 1 to 4000');
    expect(out).toContain('bogus: unknown command (type help)');
  });

  it('reboots through the test finisher', async () => {
    // 0x7777: `hyperlab run` loads the image again. The byte the UART held when the old
    // machine went away is lost with it, so a few empty lines go before the next command.
    const r = await runHeadless(HVM, { input: 'reboot\n\n\n\n\nshutdown\n', ...RUN });
    const out = lines(r.stdout);
    expect(out).toContain('reboot: restarting');
    expect(out.filter((l) => /^teaching-os \S+ \(hvm\)/.test(l))).toHaveLength(2);
    expect(out.at(-1)).toBe('shutdown: powering off');
    expect(r.exitCode).toBe(0);
  });
});

describe.skipIf(!HAVE_QEMU)('teaching OS (hvm): hyperlab and QEMU print the same', () => {
  it('the scripted session', async () => {
    const [ours, qemu] = await Promise.all([runHeadless(HVM, { input: SCRIPT, ...RUN }), runQemuWithInput(HVM, SCRIPT)]);
    expect(stripTimingLines(ours.stdout)).toBe(stripTimingLines(qemu.stdout));
    expect(ours.exitCode).toBe(qemu.exitCode);
    expect(qemu.exitCode).toBe(0);
  });

  it('line editing and a long script', async () => {
    const input = 'hepl\x7f\x7flp\rjunk\x15mem\r\n' + 'ps\nmem\n'.repeat(60) + 'ping 1\nshutdown\n';
    const [ours, qemu] = await Promise.all([runHeadless(HVM, { input, ...RUN }), runQemuWithInput(HVM, input)]);
    expect(stripTimingLines(ours.stdout)).toBe(stripTimingLines(qemu.stdout));
    expect(ours.exitCode).toBe(0);
    expect(qemu.exitCode).toBe(0);
  });
});
