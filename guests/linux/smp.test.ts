/**
 * SMP Linux: Linux 6.1 (MMU, S-mode on hyperlab's SBI) as an hvm domain with two vCPUs.
 * vCPU 1 starts offline and Linux brings it up through SBI HSM hart_start; the two vCPUs
 * run in two workers over one shared PLIC (console input reaches the hart Linux routes
 * the UART's interrupt to) and read one time (clint.test.ts: mtimeFromClock).
 */
import { describe, expect, it } from 'vitest';
import { ensureBundleSync } from '../../src/node/testBundle';
import { bootLinuxDomain } from './domainSession';

describe('SMP Linux 6.1 on two vCPUs', () => {
  it('brings the second hart up through SBI HSM, lists both CPUs, answers and powers off', async () => {
    const r = await bootLinuxDomain({
      guest: 'sbi-ttyS0',
      vcpus: 2,
      workerScript: ensureBundleSync(),
      commands: ['cat /proc/cpuinfo', 'echo two harts'],
      poweroff: true,
      timeoutMs: 120_000,
    });
    const text = r.console.replace(/\r\n/g, '\n');
    expect(text).toContain('smp: Brought up 1 node, 2 CPUs');
    const cpuinfo = text.slice(text.indexOf('hyperlab# cat /proc/cpuinfo'), text.indexOf('hyperlab# echo two harts'));
    expect(cpuinfo.match(/^processor\s*: \d+$/gm)).toEqual(['processor\t: 0', 'processor\t: 1']);
    expect(cpuinfo.match(/^hart\s*: \d+$/gm)?.length).toBe(2);
    expect(text).toContain('hyperlab# echo two harts\ntwo harts\n');
    expect(text).not.toMatch(/rcu: INFO|stall/);
    expect(r.shutdown).toBe('poweroff (SBI system_reset(0, 0))');
  });
});
