/**
 * The translation tier (docs/jit.md): cpubench MIPS with the interpreter, with the tier and
 * under QEMU in one run, Linux 6.12 (nommu) to its prompt both ways, with the tier's
 * counters; and the lockstep checker over a Linux boot as a long-running script.
 *
 *   npx tsx bench/jit.ts [--runs N] [--out FILE]        the comparison (medians), JSON on stdout
 *   npx tsx bench/jit.ts --lockstep N [--step S]        lockstep over N instructions of the Linux boot
 *
 * Each hyperlab measurement runs the standalone virt board in this process, in icount mode
 * (shift 4), so both ways execute exactly the same instructions. QEMU's MIPS is the
 * interpreter's instruction count over QEMU's wall time (its start-up included).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtMachine } from '../src/core/board/virt';
import { InstructionCountClock } from '../src/core/devices/clocks';
import type { Jit, JitMode, JitStats } from '../src/core/cpu/jit/engine';
import { lockstep, type Side } from '../src/core/cpu/jit/lockstep';
import { guestImage, projectRoot } from '../src/node/paths';
import { qemuAvailable, runQemu } from '../src/node/qemu';

const LINUX = join(projectRoot(), 'public/guests/linux');
const PROMPT = 'hyperlab# ';
const BOOTARGS = 'console=ttyS0 earlycon=uart8250,mmio,0x10000000 initramfs_async=0';

export function linuxMachine(jit: JitMode, onConsole: (b: number) => void = () => {}): VirtMachine {
  return new VirtMachine({
    kernel: readFileSync(join(LINUX, 'linux-6.12-nommu.Image')),
    initrd: readFileSync(join(LINUX, 'initramfs.cpio')),
    bootargs: BOOTARGS,
    memSize: 128 << 20,
    icountShift: 4,
    jit,
    onConsole,
  });
}

/** In WFI, jump the instruction-count clock to the next deadline (as `hyperlab run` does). Returns false if none. */
function warp(m: VirtMachine): boolean {
  const t = m.nextDeadline();
  if (!Number.isFinite(t) || !(m.clock instanceof InstructionCountClock)) return false;
  m.clock.advanceTo(t);
  return true;
}

/** Run until `done()` or the guest finishes; returns wall ms. */
function runUntil(m: VirtMachine, done: () => boolean, maxInsns: number): number {
  const t0 = performance.now();
  while (!done() && m.finished === null && m.hart.executed < maxInsns) {
    if (m.run(1_000_000) === 'wfi' && !warp(m)) break;
  }
  return performance.now() - t0;
}

export interface JitBench {
  cpubench: { interpMips: number[]; jitMips: number[]; qemuMips: number[]; jitStats: JitStats | null };
  linux: { interpMs: number[]; jitMs: number[]; millionInsns: number; jitStats: JitStats | null };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function benchJit(runs: number, log: (line: string) => void = () => {}): Promise<JitBench> {
  const out: JitBench = {
    cpubench: { interpMips: [], jitMips: [], qemuMips: [], jitStats: null },
    linux: { interpMs: [], jitMs: [], millionInsns: 0, jitStats: null },
  };
  const kernel = readFileSync(guestImage('cpubench'));
  const haveQemu = qemuAvailable();
  for (let r = 0; r < runs; r++) {
    let insns = 0;
    for (const mode of ['off', 'on'] as const) {
      const m = new VirtMachine({ kernel, icountShift: 4, jit: mode });
      const ms = runUntil(m, () => false, 1e10);
      const mips = m.hart.instret / ms / 1000;
      insns = m.hart.instret;
      log(`cpubench run ${r + 1}, ${mode === 'off' ? 'interpreter' : 'tier'}: ${mips.toFixed(1)} MIPS`);
      if (mode === 'off') out.cpubench.interpMips.push(mips);
      else {
        out.cpubench.jitMips.push(mips);
        out.cpubench.jitStats = { ...(m.hart.jit as Jit).stats };
      }
    }
    if (haveQemu) {
      const q = await runQemu(guestImage('cpubench'), { timeoutMs: 120_000 });
      if (q.exitCode !== 0) throw new Error(`cpubench failed under QEMU (status ${q.exitCode})`);
      out.cpubench.qemuMips.push(insns / q.wallMs / 1000);
      log(`cpubench run ${r + 1}, QEMU: ${(insns / q.wallMs / 1000).toFixed(1)} MIPS`);
    }
    for (const mode of ['off', 'on'] as const) {
      let text = '';
      const m = linuxMachine(mode, (b) => {
        text += String.fromCharCode(b);
      });
      const ms = runUntil(m, () => text.includes(PROMPT), 2e9);
      if (!text.includes(PROMPT)) throw new Error(`Linux (jit ${mode}) did not reach its prompt:\n${text.slice(-1000)}`);
      log(`Linux run ${r + 1}, ${mode === 'off' ? 'interpreter' : 'tier'}: ${(ms / 1000).toFixed(2)} s to the prompt`);
      out.linux.millionInsns = m.hart.instret / 1e6;
      if (mode === 'off') out.linux.interpMs.push(ms);
      else {
        out.linux.jitMs.push(ms);
        out.linux.jitStats = { ...(m.hart.jit as Jit).stats };
      }
    }
  }
  return out;
}

export function lockstepLinux(total: number, step: number): ReturnType<typeof lockstep> {
  const machines = [linuxMachine('off'), linuxMachine('always')] as const;
  const [a, b] = machines.map((m): Side & { m: VirtMachine } => ({ m, hart: m.hart, run: (n) => m.run(n) }));
  // Both sleep in WFI at the same instruction: warp each clock to its next deadline.
  return lockstep(a!, b!, total, step, (s) => {
    const m = (s as Side & { m: VirtMachine }).m;
    if (m.hart.wfi) warp(m);
  });
}

/** Medians of a run, for the JSON summary. */
export function jitSummary(res: JitBench): Record<string, number | null> {
  const q = res.cpubench.qemuMips;
  return {
    cpubenchInterpMips: median(res.cpubench.interpMips),
    cpubenchJitMips: median(res.cpubench.jitMips),
    cpubenchQemuMips: q.length > 0 ? median(q) : null,
    jitOverInterp: median(res.cpubench.jitMips) / median(res.cpubench.interpMips),
    qemuOverJit: q.length > 0 ? median(q) / median(res.cpubench.jitMips) : null,
    linuxInterpSeconds: median(res.linux.interpMs) / 1000,
    linuxJitSeconds: median(res.linux.jitMs) / 1000,
  };
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  if (argv.includes('--lockstep')) {
    const total = opt('--lockstep', 1e8);
    const t0 = performance.now();
    const r = lockstepLinux(total, opt('--step', 4096));
    console.log(JSON.stringify({ ...r, seconds: (performance.now() - t0) / 1000 }, null, 2));
    process.exitCode = r.divergence === null ? 0 : 1;
    return;
  }
  const res = await benchJit(opt('--runs', 3), (line) => void process.stderr.write(`${line}\n`));
  const summary = { ...res, medians: jitSummary(res) };
  const text = JSON.stringify(summary, null, 2);
  const i = argv.indexOf('--out');
  if (i >= 0) writeFileSync(argv[i + 1]!, text + '\n');
  console.log(text);
}

if (process.argv[1]?.endsWith('jit.ts')) await main(process.argv.slice(2));
