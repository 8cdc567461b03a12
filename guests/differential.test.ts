/**
 * Differential runs: every shipped guest image runs on hyperlab's hvm board and on
 * qemu-system-riscv32 -machine virt -bios none, and both must print the same console
 * output (lines starting with "timing:" aside) and exit with the same status.
 */
import { describe, expect, it } from 'vitest';
import { runHeadless } from '../src/node/headless';
import { guestImage } from '../src/node/paths';
import { qemuAvailable, runQemu, stripTimingLines } from '../src/node/qemu';

const GUESTS = ['hello', 'isa-selftest', 'cpubench'];
const haveQemu = qemuAvailable();
if (!haveQemu) console.warn('qemu-system-riscv32 not found: differential tests skipped (CI installs qemu-system-misc)');

describe('hyperlab runs each guest', () => {
  it.each(GUESTS)('%s passes on hyperlab', async (name) => {
    const r = await runHeadless(guestImage(name));
    expect(r.stdout).toMatch(new RegExp(`${name}: PASS`));
    expect(r.exitCode).toBe(0);
  });
});

describe.skipIf(!haveQemu)('hyperlab and QEMU print the same', () => {
  it.each(GUESTS)('%s', async (name) => {
    const [ours, qemu] = await Promise.all([runHeadless(guestImage(name)), runQemu(guestImage(name), { timeoutMs: 120_000 })]);
    expect(stripTimingLines(ours.stdout)).toBe(stripTimingLines(qemu.stdout));
    expect(ours.exitCode).toBe(qemu.exitCode);
  });
});
