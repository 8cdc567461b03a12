/**
 * Shipped guests with the translation tier forced on (`always`: every entry translated on
 * first execution): isa-selftest passes with the same instruction count as the
 * interpreter, Linux 6.12 (nommu) reaches its prompt (opt-in: HYPERLAB_JIT_LINUX=1), and
 * lockstep runs over the start of that boot and of the Linux 6.1 (MMU) boot find no
 * difference (the long runs: `npx tsx bench/jit.ts --lockstep 1e8 [--kernel 6.1]`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../board/virt';
import { InstructionCountClock } from '../../devices/clocks';
import { guestImage } from '../../../node/paths';
import { linuxMachine, lockstepLinux } from '../../../../bench/jit';
import type { Jit } from './engine';

/** In WFI, jump the instruction-count clock to the next deadline; false if there is none. */
function warp(m: VirtMachine): boolean {
  const t = m.nextDeadline();
  if (!Number.isFinite(t) || !(m.clock instanceof InstructionCountClock)) return false;
  m.clock.advanceTo(t);
  return true;
}

function runImage(path: string, jit: 'off' | 'always', icount: boolean): { text: string; instret: number; jit: Jit | undefined } {
  let text = '';
  const m = new VirtMachine({ kernel: readFileSync(path), jit, onConsole: (b) => (text += String.fromCharCode(b)), ...(icount ? { icountShift: 4 } : {}) });
  while (m.finished === null && m.hart.executed < 50_000_000) {
    if (m.run(1_000_000) === 'wfi' && icount && !warp(m)) break;
  }
  return { text, instret: m.hart.instret, jit: m.hart.jit as Jit | undefined };
}

describe('guests with --jit always', () => {
  it('isa-selftest passes', () => {
    const b = runImage(guestImage('isa-selftest'), 'always', false);
    expect(b.text).toContain('isa-selftest: PASS');
    expect(b.jit!.stats.translated / b.jit!.stats.executed).toBeGreaterThan(0.6);
  });

  it('isa-selftest in icount mode: the same output and instruction count as the interpreter', () => {
    // (In icount mode the counters test's check 5 fails on the interpreter too: `time` read
    // as a CSR is exact, the CLINT's mtime read by a load is as of the block's start.)
    const a = runImage(guestImage('isa-selftest'), 'off', true);
    const b = runImage(guestImage('isa-selftest'), 'always', true);
    expect(b.text).toBe(a.text);
    expect(b.instret).toBe(a.instret);
  });

  // Opt-in: with `always` the tier translates every entry of a Linux boot and its cache
  // thrashes (about 1.3 MIPS on a loaded 2-core machine), minutes to the prompt (docs/jit.md).
  it.runIf(process.env.HYPERLAB_JIT_LINUX === '1')('Linux 6.12 (nommu) boots to its prompt', { timeout: 1_800_000 }, () => {
    let text = '';
    const m = linuxMachine('always', (b) => (text += String.fromCharCode(b)));
    while (!text.includes('hyperlab# ') && m.hart.executed < 400_000_000) {
      if (m.run(1_000_000) === 'wfi' && !warp(m)) break;
    }
    expect(text).toContain('hyperlab# ');
    const s = (m.hart.jit as Jit).stats;
    expect(s.translated / s.executed).toBeGreaterThan(0.5);
  });

  it('lockstep over the first 2 million instructions of the Linux boot', { timeout: 120_000 }, () => {
    const r = lockstepLinux(2_000_000, 4096);
    expect(r.divergence).toBeNull();
    expect(r.executed).toBeGreaterThanOrEqual(2_000_000);
  });

  // Linux 6.1 with the MMU: S-mode on the SBI shim QEMU boots it with (bench/jit.ts
  // linux61Machine), Sv32 on from early in the boot; the long run is `--lockstep 1e8 --kernel 6.1`.
  it('lockstep over the first 2 million instructions of the Linux 6.1 boot (MMU, Sv32, SBI)', { timeout: 120_000 }, () => {
    const r = lockstepLinux(2_000_000, 4096, '6.1');
    expect(r.divergence).toBeNull();
    expect(r.executed).toBeGreaterThanOrEqual(2_000_000);
    expect(r.satp >>> 31).toBe(1); // Sv32 on (satp.MODE, priv. spec 10.1.11)
  });
});
