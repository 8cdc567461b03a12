/**
 * Shipped guests with the translation tier forced on (`always`: every entry translated on
 * first execution): isa-selftest passes with the same instruction count as the
 * interpreter, Linux 6.12 (nommu) reaches its prompt, and a lockstep run over the start of
 * that boot finds no difference (the long run is `npx tsx bench/jit.ts --lockstep 1e8`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VirtMachine } from '../../board/virt';
import { guestImage } from '../../../node/paths';
import { linuxMachine, lockstepLinux } from '../../../../bench/jit';
import type { Jit } from './engine';

function runImage(path: string, jit: 'off' | 'always'): { text: string; instret: number; jit: Jit | undefined } {
  let text = '';
  const m = new VirtMachine({ kernel: readFileSync(path), icountShift: 4, jit, onConsole: (b) => (text += String.fromCharCode(b)) });
  while (m.finished === null && m.hart.executed < 50_000_000) m.run(1_000_000);
  return { text, instret: m.hart.instret, jit: m.hart.jit as Jit | undefined };
}

describe('guests with --jit always', () => {
  it('isa-selftest passes, retiring exactly the instructions it does on the interpreter', () => {
    const a = runImage(guestImage('isa-selftest'), 'off');
    const b = runImage(guestImage('isa-selftest'), 'always');
    expect(b.text).toContain('isa-selftest: PASS');
    expect(b.text).toBe(a.text);
    expect(b.instret).toBe(a.instret);
    expect(b.jit!.stats.translated / b.jit!.stats.executed).toBeGreaterThan(0.8);
  });

  it('Linux 6.12 (nommu) boots to its prompt', { timeout: 300_000 }, () => {
    let text = '';
    const m = linuxMachine('always', (b) => (text += String.fromCharCode(b)));
    while (!text.includes('hyperlab# ') && m.hart.executed < 400_000_000) {
      if (m.run(1_000_000) === 'wfi') {
        const t = m.nextDeadline();
        if (!Number.isFinite(t)) break;
        (m.clock as unknown as { advanceTo(t: number): void }).advanceTo(t);
      }
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
});
