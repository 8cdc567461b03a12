/**
 * The translation tier (docs/jit.md): cpubench MIPS with the interpreter, with the tier and
 * under QEMU in one run, Linux 6.12 (nommu) to its prompt both ways, with the tier's
 * counters; and the lockstep checker over a Linux boot as a long-running script.
 *
 *   npx tsx bench/jit.ts [--runs N] [--out FILE]        the comparison (medians), JSON on stdout
 *   npx tsx bench/jit.ts --lockstep N [--step S] [--kernel 6.1]   lockstep over N instructions of the Linux boot (6.12 nommu, or 6.1 with the MMU)
 *   npx tsx bench/jit.ts --wasm                         JavaScript vs WebAssembly for generated code (wasmMicro)
 *   npx tsx bench/jit.ts --chain [--runs N]             cpubench CPU-time MIPS: interpreter, tier unchained, tier chained
 *
 * Each hyperlab measurement runs the standalone virt board in this process, in icount mode
 * (shift 4), so both ways execute exactly the same instructions. QEMU's MIPS is the
 * interpreter's instruction count over QEMU's wall time (its start-up included).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtMachine } from '../src/core/board/virt';
import { InstructionCountClock } from '../src/core/devices/clocks';
import { setJit, type Jit, type JitMode, type JitStats } from '../src/core/cpu/jit/engine';
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

const SHIM = join(projectRoot(), 'guests/linux/qemu-sbi-shim/shim.bin');
/** Where QEMU puts the kernel after a firmware (-bios): the next 4 MiB boundary (guests/linux/session.ts). */
const KERNEL_61_AT = 0x8040_0000;

/**
 * Linux 6.1 (MMU, Sv32, S-mode) on the standalone virt board, as QEMU boots it in
 * guests/linux/sbi.test.ts: the M-mode SBI shim (qemu-sbi-shim/shim.S) at 0x80000000 as the
 * firmware, the kernel at 0x80400000, entered through the shim's fw_dynamic_info. (Under
 * the hypervisor the same kernel runs on hyperlab's SBI in a vCPU worker; the lockstep
 * checker drives two machines in one thread, so it runs the kernel here, where the SBI is
 * guest code and runs translated too.)
 */
export function linux61Machine(jit: JitMode, onConsole: (b: number) => void = () => {}): VirtMachine {
  const m = new VirtMachine({
    kernel: readFileSync(SHIM),
    initrd: readFileSync(join(LINUX, 'initramfs.cpio')),
    bootargs: BOOTARGS,
    memSize: 128 << 20,
    icountShift: 4,
    jit,
    onConsole,
  });
  m.bus.writePhys(KERNEL_61_AT, readFileSync(join(LINUX, 'linux-6.1-mmu.Image')));
  // fw_dynamic_info (OpenSBI's, rv32): magic, version, next_addr, next_mode (1 = S), options, boot_hart.
  const info = KERNEL_61_AT - 0x1000;
  const w = new DataView(new ArrayBuffer(24));
  [0x4942534f, 2, KERNEL_61_AT, 1, 0, 0].forEach((v, i) => w.setUint32(i * 4, v >>> 0, true));
  m.bus.writePhys(info, new Uint8Array(w.buffer));
  m.hart.x[12] = info | 0;
  return m;
}

/** In WFI, jump the instruction-count clock to the next deadline (as `hyperlab run` does). Returns false if none. */
function warp(m: VirtMachine): boolean {
  const t = m.nextDeadline();
  if (!Number.isFinite(t) || !(m.clock instanceof InstructionCountClock)) return false;
  m.clock.advanceTo(t);
  return true;
}

/** Run until `done()` or the guest finishes; returns wall ms. */
export function runUntil(m: VirtMachine, done: () => boolean, maxInsns: number): number {
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

/**
 * What chaining gains: cpubench in CPU-time MIPS (process.cpuUsage: less noisy than wall time
 * on a loaded machine) with the interpreter, the tier (`on`) without chaining, and with it,
 * interleaved run by run. Returns the MIPS of each run per way and the chained entries.
 */
export function benchChain(runs: number, log: (line: string) => void = () => {}): Record<string, number[]> {
  const kernel = readFileSync(guestImage('cpubench'));
  const out: Record<string, number[]> = { interp: [], unchained: [], chained: [], chainedEntries: [] };
  for (let r = 0; r < runs; r++) {
    for (const way of ['interp', 'unchained', 'chained'] as const) {
      const m = new VirtMachine({ kernel, icountShift: 4, jit: 'off' });
      if (way !== 'interp') setJit(m.hart, 'on', { chain: way === 'chained' });
      const c0 = process.cpuUsage();
      runUntil(m, () => false, 1e10);
      const c = process.cpuUsage(c0);
      const mips = m.hart.instret / ((c.user + c.system) / 1000) / 1000;
      out[way]!.push(mips);
      if (way === 'chained') out.chainedEntries!.push((m.hart.jit as Jit).chained);
      log(`cpubench run ${r + 1}, ${way}: ${mips.toFixed(1)} CPU-time MIPS`);
    }
  }
  return out;
}

/** Lockstep over a Linux boot; `satp` is the interpreter side's at the end (the 6.1 kernel turns Sv32 on early in its boot). */
export function lockstepLinux(total: number, step: number, kernel: '6.12' | '6.1' = '6.12'): ReturnType<typeof lockstep> & { satp: number } {
  const make = kernel === '6.1' ? linux61Machine : linuxMachine;
  const machines = [make('off'), make('always')] as const;
  const [a, b] = machines.map((m): Side & { m: VirtMachine } => ({ m, hart: m.hart, run: (n) => m.run(n) }));
  // Both sleep in WFI at the same instruction: warp each clock to its next deadline.
  const r = lockstep(a!, b!, total, step, (s) => {
    const m = (s as Side & { m: VirtMachine }).m;
    if (m.hart.wfi) warp(m);
  });
  return { ...r, satp: a!.hart.satp };
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

/**
 * The measurement behind "JavaScript or WebAssembly" (docs/jit.md): many distinct generated
 * functions (a loop over `len` random register operations on eight locals, the shape of a
 * translation without memory accesses), each made and run `iters` times, as `new Function`
 * and as a WebAssembly module built here byte by byte; CPU time per function, compile and
 * every tier of the engine included. Both must compute the same values.
 */
export function wasmMicro(len = 40): { iters: number; functions: number; jsMs: number; wasmMs: number }[] {
  const leb = (v: number): number[] => {
    const out: number[] = [];
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
    return out;
  };
  const section = (id: number, bytes: number[]): number[] => [id, ...leb(bytes.length), ...bytes];
  // (This project's type libraries leave WebAssembly out; Node has it.)
  const Wasm = (
    globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object) => { exports: Record<string, unknown> } } }
  ).WebAssembly;
  const OPS: [string, number][] = [
    ['+', 0x6a], // i32.add
    ['-', 0x6b], // i32.sub
    ['^', 0x73], // i32.xor
    ['<<', 0x74], // i32.shl (the count taken mod 32, as in JavaScript)
  ];
  type Op = [number, number, number, [string, number]];
  const body = (seed: number): Op[] => {
    let x = seed >>> 0 || 1;
    const r = (): number => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    return Array.from({ length: len }, (): Op => [r() % 8, r() % 8, r() % 8, OPS[r() % 4]!]);
  };
  const js = (ops: Op[]): ((n: number) => number) =>
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the measurement is of generated code
    new Function(
      'n',
      `let r0=1,r1=2,r2=3,r3=4,r4=5,r5=6,r6=7,r7=8; for (let i = 0; i < n; i++) {\n${ops.map(([d, a, b, [o]]) => `r${d} = (r${a} ${o} r${b}) | 0;`).join('\n')}\n} return r0;`,
    ) as (n: number) => number;
  const wasm = (ops: Op[]): ((n: number) => number) => {
    const code: number[] = [];
    for (let k = 0; k < 8; k++) code.push(0x41, k + 1, 0x21, k + 1); // i32.const k+1; local.set r_k
    code.push(0x03, 0x40); // loop
    for (const [d, a, b, [, op]] of ops) code.push(0x20, a + 1, 0x20, b + 1, op, 0x21, d + 1);
    code.push(0x20, 9, 0x41, 1, 0x6a, 0x22, 9, 0x20, 0, 0x48, 0x0d, 0, 0x0b, 0x20, 1, 0x0b); // i++ < n: br_if loop; end; r0
    const func = [1, 9, 0x7f, ...code]; // locals: r0..r7, i
    const bytes = [
      ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7f]), // (i32) -> i32
      ...section(3, [1, 0]),
      ...section(7, [1, 1, 0x66, 0, 0]), // export "f"
      ...section(10, [1, ...leb(func.length), ...func]),
    ];
    return new Wasm.Instance(new Wasm.Module(new Uint8Array(bytes))).exports['f'] as (n: number) => number;
  };
  const out: { iters: number; functions: number; jsMs: number; wasmMs: number }[] = [];
  for (const iters of [1, 100, 10_000, 1_000_000]) {
    const functions = iters >= 1_000_000 ? 20 : 300;
    const ms = { js: Infinity, wasm: Infinity };
    const check = { js: 0, wasm: 0 };
    for (let rep = 0; rep < 2; rep++) {
      for (const [name, make] of [
        ['js', js],
        ['wasm', wasm],
      ] as const) {
        const t0 = process.cpuUsage();
        let chk = 0;
        for (let f = 0; f < functions; f++) chk ^= make(body(1000 * iters + f + 1))(iters);
        const u = process.cpuUsage(t0);
        ms[name] = Math.min(ms[name], (u.user + u.system) / 1000 / functions);
        check[name] = chk;
      }
    }
    if (check.js !== check.wasm) throw new Error('wasmMicro: JavaScript and WebAssembly computed different values');
    out.push({ iters, functions, jsMs: ms.js, wasmMs: ms.wasm });
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  if (argv.includes('--wasm')) {
    console.log(JSON.stringify(wasmMicro(opt('--len', 40)), null, 2));
    return;
  }
  if (argv.includes('--chain')) {
    console.log(JSON.stringify(benchChain(opt('--runs', 3), (line) => void process.stderr.write(`${line}\n`))));
    return;
  }
  if (argv.includes('--lockstep')) {
    const total = opt('--lockstep', 1e8);
    const t0 = performance.now();
    const kernel = argv[argv.indexOf('--kernel') + 1] === '6.1' && argv.includes('--kernel') ? '6.1' : '6.12';
    const r = lockstepLinux(total, opt('--step', 4096), kernel);
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
