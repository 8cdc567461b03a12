/**
 * Linux 6.1 with the Sv32 MMU, in S-mode, as an hvm domain with firmware = "sbi"
 * (hyperlab is its SBI firmware): it boots to the init's prompt on the emulated 16550A
 * (console=ttyS0) and on the SBI console (console=hvc0), answers a command, and powers
 * off through SBI SRST. The SBI console must cost fewer exits per byte than the UART,
 * whose every register access is an exit. With the UART console it prints what it prints
 * on QEMU's `virt` machine booted with the M-mode SBI shim (qemu-sbi-shim/shim.S), the
 * lines of filterSbiLinuxConsole() aside.
 */
import { describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../src/node/testBundle';
import { qemuAvailable } from '../../src/node/qemu';
import { bootLinuxDomain, exitsPerByte, type LinuxBootResult } from './domainSession';
import { filterSbiLinuxConsole, qemuSbiSession } from './session';

const results: Partial<Record<'ttyS0' | 'hvc0', LinuxBootResult>> = {};

async function boot(console: 'ttyS0' | 'hvc0'): Promise<LinuxBootResult> {
  const r = await bootLinuxDomain({
    guest: console === 'ttyS0' ? 'sbi-ttyS0' : 'sbi-hvc0',
    workerScript: ensureBundleSync(),
    commands: ['echo hello from S-mode', 'cat /proc/cmdline', 'uname -a'],
    poweroff: true,
  });
  results[console] = r;
  return r;
}

describe("Linux 6.1 (MMU, S-mode) on hyperlab's SBI", () => {
  it.each(['ttyS0', 'hvc0'] as const)('boots with console=%s, answers at the prompt, powers off through SBI SRST', async (console) => {
    const r = await boot(console);
    const text = r.console.replace(/\r\n/g, '\n');
    expect(text).toContain('SBI specification v2.0 detected');
    expect(text).toContain('SBI implementation ID=0x7');
    expect(text).toContain('hyperlab init: Linux 6.1.');
    expect(text).toContain('hyperlab# echo hello from S-mode\nhello from S-mode\nhyperlab# ');
    expect(text).toMatch(new RegExp(`hyperlab# cat /proc/cmdline\nconsole=${console} `));
    expect(text).toMatch(/hyperlab# uname -a\nLinux \(none\) 6\.1\.\d+ #1 SMP .* riscv32\n/);
    expect(r.shutdown).toBe('poweroff (SBI system_reset(0, 0))');
    if (console === 'ttyS0') {
      expect(r.exits['mmio:uart0'] ?? 0).toBeGreaterThan(r.bytes); // at least one exit per byte
    } else {
      expect(r.exits['sbi:console'] ?? 0).toBeGreaterThan(0);
      expect(r.exits['mmio:uart0'] ?? 0).toBeLessThan(100); // the 8250 driver's probe only
      // hvc0's getchar polls (every 10 ms while input comes) are answered in the vCPU from
      // the console input ring: only the first poll, and none of the typed lines, is an exit.
      expect(r.exits['sbi:console-read'] ?? 0).toBeLessThan(10);
      expect(r.exits['sbi:console-read-local'] ?? 0).toBeGreaterThan(20);
    }
  });

  it('the SBI console costs fewer exits per byte than the UART', () => {
    const tty = results.ttyS0,
      hvc = results.hvc0;
    if (!tty || !hvc) throw new Error('the boots above failed');
    const uart = exitsPerByte(tty.exits, 'mmio:uart0', tty.bytes);
    const sbi = exitsPerByte(hvc.exits, 'sbi:console', hvc.bytes);
    console.log(
      `exits per console byte: ttyS0 ${uart.toFixed(3)} (mmio:uart0), hvc0 ${sbi.toFixed(3)} (sbi:console); ` +
        `to the prompt: ttyS0 ${tty.promptMs.toFixed(0)} ms ${(tty.promptInsns / 1e6).toFixed(1)} M insns, ` +
        `hvc0 ${hvc.promptMs.toFixed(0)} ms ${(hvc.promptInsns / 1e6).toFixed(1)} M insns`,
    );
    expect(sbi).toBeLessThan(uart);
  });

  it.skipIf(!qemuAvailable())('prints what it prints on QEMU with the SBI shim (console=ttyS0)', async () => {
    const commands = ['uname -a', 'echo same on both', 'cat /proc/cmdline', 'ls /', 'cat /nonexistent', 'count 1000'];
    const [h, q] = await Promise.all([
      bootLinuxDomain({ guest: 'sbi-ttyS0', workerScript: ensureBundleSync(), commands, poweroff: true, timeoutMs: 90_000 }),
      qemuSbiSession({ commands: [...commands, 'poweroff'], timeoutMs: 90_000 }),
    ]);
    expect(q.exitCode).toBe(0);
    expect(filterSbiLinuxConsole(h.console)).toContain('hyperlab# ls /\nbin\ndev\netc\ninit\n');
    expect(filterSbiLinuxConsole(h.console)).toBe(filterSbiLinuxConsole(q.stdout));
  });
});
