/**
 * `npm run bench`: hyperlab's benchmarks, printed and written as JSON (bench/results/).
 *
 * cpu: the cpubench guest (public/guests/cpubench.elf) headless in Node, several runs;
 * reports the median guest MIPS (instructions retired per second of wall time spent in
 * the interpreter) and, when qemu-system-riscv32 is installed, the median wall time of
 * the same image under QEMU and the ratio of the two run times, measured in one session
 * so that machine noise affects both alike.
 *
 * --browser then runs bench/browser.ts (the lab in Chromium, bench/results/browser.json).
 * --linux runs only the Linux boot benchmark (bench/linux.ts, bench/results/linux.json),
 * which the full run also includes.
 * --disk runs only the disk benchmarks (bench/disk.ts, bench/results/disk.json): the image
 * layer (raw, qcow2 overlay) and the teaching OS's `disk bench` over the pv block driver and over virtio-blk (hvm).
 * --disk --browser then runs the same guest command in Chromium on OPFS disks (bench/browser.ts
 * --only disk, bench/diskBrowser.ts, bench/results/disk-browser.json).
 * --migrate runs only the save/restore/live-migration benchmark (bench/migrate.ts,
 * bench/results/migrate.json): an idle Linux saved, restored and migrated between two
 * Node hosts over TCP, and the same while it dirties memory; 10 runs unless --runs.
 * --net runs only the network benchmark (bench/net.ts, bench/results/net.json): ping round
 * trips pv/hvm, Linux TCP and UDP, exits per packet.
 * --jit runs only the translation tier's benchmark (bench/jit.ts, bench/results/jit.json):
 * cpubench with the interpreter, the tier and QEMU, Linux to its prompt both ways; the full run includes it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { VirtMachine } from '../src/core/board/virt';
import { readFileOrThrow } from '../src/node/run';
import { qemuAvailable, runQemu } from '../src/node/qemu';
import { HelpRequested, isHelp, UsageError } from '../src/node/args';
import { guestImage, projectRoot } from '../src/node/paths';
import { measureExitRoundTrip, measureNullHypercall } from './exits';
import { measureEvtchnWakeup, type WakeupResult } from './evtchn';
import { measureConsole } from './console';
import { aggregateMips } from './scaling';
import { measureLinux, type LinuxBench } from './linux';
import { measureDisk } from './disk';
import { measureMigrate } from './migrate';
import { benchJit, jitSummary } from './jit';
import { measureNet } from './net';
import type { JitMode } from '../src/core/cpu/jit/engine';

export interface CpuRun {
  instructions: number;
  seconds: number;
  mips: number;
  output: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Boot `image` and run it to the finisher; time only the interpreter. */
/** Run a benchmark guest on the bare board; `jit` as `--jit` (default: HYPERLAB_JIT, else on). */
export function runCpuGuest(image: Uint8Array, jit?: JitMode): CpuRun {
  let output = '';
  const m = new VirtMachine({ kernel: image, onConsole: (b) => (output += String.fromCharCode(b)), ...(jit !== undefined ? { jit } : {}) });
  const t0 = performance.now();
  for (;;) {
    const why = m.run(50_000_000);
    if (why === 'stop') break;
    if (why === 'wfi') throw new Error('benchmark guest waited for an interrupt');
  }
  const seconds = (performance.now() - t0) / 1000;
  if (m.finished?.kind !== 'pass') throw new Error(`benchmark guest failed: ${output}`);
  const instructions = m.hart.instret;
  return { instructions, seconds, mips: instructions / seconds / 1e6, output };
}

export async function benchMain(argv: readonly string[]): Promise<number> {
  let runs = 5;
  let out = join(projectRoot(), 'bench', 'results', 'cpu.json');
  let browser = false;
  let linuxOnly = false;
  let diskOnly = false;
  let migrateOnly = false;
  let jitOnly = false;
  let netOnly = false;
  for (let i = 0; i < argv.length; i++) {
    if (isHelp(argv[i]!)) throw new HelpRequested();
    else if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '--out') out = argv[++i] ?? out;
    else if (argv[i] === '--browser') browser = true;
    else if (argv[i] === '--linux') linuxOnly = true;
    else if (argv[i] === '--disk') diskOnly = true;
    else if (argv[i] === '--migrate') migrateOnly = true;
    else if (argv[i] === '--jit') jitOnly = true;
    else if (argv[i] === '--net') netOnly = true;
    else throw new UsageError(`unknown bench option '${argv[i]}'`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs takes a whole number above 0');
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  if (migrateOnly) {
    const runsMigrate = argv.includes('--runs') ? runs : 10;
    const m = await measureMigrate(runsMigrate, log);
    const host = { node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: loadavg().map(round) };
    const json = JSON.stringify({ benchmark: 'migrate', date: new Date().toISOString(), host, runs: runsMigrate, ...m }, null, 2);
    process.stdout.write(`${json}\n`);
    const file = argv.includes('--out') ? out : join(projectRoot(), 'bench', 'results', 'migrate.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${json}\n`);
    return 0;
  }
  if (diskOnly) {
    const runsDisk = argv.includes('--runs') ? runs : 3;
    const disk = await measureDisk(runsDisk, log);
    const json = JSON.stringify(
      {
        benchmark: 'disk',
        date: new Date().toISOString(),
        host: { node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: loadavg().map(round) },
        runs: runsDisk,
        ...disk,
      },
      null,
      2,
    );
    process.stdout.write(`${json}\n`);
    const file = argv.includes('--out') ? out : join(projectRoot(), 'bench', 'results', 'disk.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${json}\n`);
    if (!browser) return 0;
    // Playwright is not bundled into the CLI (as below): bench/browser.ts's disk part, run apart.
    const browserOut = join(projectRoot(), 'bench', 'results', 'disk-browser.json');
    const r = spawnSync('npx', ['tsx', join('bench', 'browser.ts'), '--only', 'disk', '--runs', String(runsDisk), '--out', browserOut], {
      cwd: projectRoot(),
      stdio: 'inherit',
    });
    return r.status ?? 1;
  }
  if (netOnly) {
    const runsNet = argv.includes('--runs') ? runs : 3;
    const net = await measureNet(runsNet, log);
    const host = { node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: loadavg().map(round) };
    const json = JSON.stringify({ benchmark: 'net', date: new Date().toISOString(), host, runs: runsNet, ...net }, null, 2);
    process.stdout.write(`${json}\n`);
    const file = argv.includes('--out') ? out : join(projectRoot(), 'bench', 'results', 'net.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${json}\n`);
    return 0;
  }
  if (jitOnly) {
    const res = await benchJit(runs, log);
    const json = JSON.stringify(
      { benchmark: 'jit', date: new Date().toISOString(), runs, loadAverage: loadavg().map(round), medians: jitSummary(res), ...res },
      null,
      2,
    );
    process.stdout.write(`${json}\n`);
    const file = argv.includes('--out') ? out : join(projectRoot(), 'bench', 'results', 'jit.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${json}\n`);
    return 0;
  }
  if (linuxOnly) {
    const json = JSON.stringify({ benchmark: 'linux', date: new Date().toISOString(), runs, linux: linuxSummary(await measureLinux(runs, log)) }, null, 2);
    process.stdout.write(`${json}\n`);
    const file = argv.includes('--out') ? out : join(projectRoot(), 'bench', 'results', 'linux.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${json}\n`);
    return 0;
  }
  const imagePath = guestImage('cpubench');
  const image = readFileOrThrow(imagePath, 'benchmark guest');

  const hyperlab: CpuRun[] = [];
  const qemuMs: number[] = [];
  const haveQemu = qemuAvailable();
  for (let i = 0; i < runs; i++) {
    hyperlab.push(runCpuGuest(image));
    process.stderr.write(`run ${i + 1}/${runs}: ${hyperlab[i]!.mips.toFixed(1)} MIPS`);
    if (haveQemu) {
      const q = await runQemu(imagePath, { timeoutMs: 120_000 });
      if (q.exitCode !== 0) throw new Error(`cpubench failed under QEMU (status ${q.exitCode})`);
      qemuMs.push(q.wallMs);
      process.stderr.write(`, QEMU ${(q.wallMs / 1000).toFixed(2)} s`);
    }
    process.stderr.write('\n');
  }
  const exitRuns: number[] = [];
  for (let i = 0; i < runs; i++) exitRuns.push((await measureExitRoundTrip()).microsPerExit);
  process.stderr.write(`hvm exit round trip: ${exitRuns.map((x) => x.toFixed(1)).join(', ')} us\n`);
  const nullRuns: number[] = [];
  for (let i = 0; i < runs; i++) nullRuns.push(await measureNullHypercall());
  process.stderr.write(`null hypercall: ${nullRuns.map((x) => x.toFixed(1)).join(', ')} us\n`);
  const wakeRuns: WakeupResult[] = [];
  const noParkRuns: WakeupResult[] = [];
  for (let i = 0; i < runs; i++) {
    wakeRuns.push(await measureEvtchnWakeup());
    noParkRuns.push(await measureEvtchnWakeup(2000, 2, 0)); // the same without waiting in place, for comparison
  }
  process.stderr.write(
    `event channel wake-up: ${wakeRuns.map((x) => `${x.medianMicros.toFixed(1)} (p99 ${x.p99Micros.toFixed(1)})`).join(', ')} us; without waiting in place ${noParkRuns.map((x) => x.medianMicros.toFixed(1)).join(', ')} us\n`,
  );
  const scaling: Record<string, number> = {};
  for (const n of [1, 2, 4]) scaling[n] = await aggregateMips(n);
  process.stderr.write(
    `aggregate MIPS: ${Object.entries(scaling)
      .map(([n, m]) => `${n}: ${m.toFixed(0)}`)
      .join(', ')} (${cores()} host cores)\n`,
  );
  // Once, not per run: 1 MiB through the emulated UART takes over a minute.
  const pvCon = await measureConsole('pv', 1 << 20);
  const hvmCon = await measureConsole('hvm', 1 << 20);
  process.stderr.write(`console 1 MiB: pv ${(pvCon.bytesPerSecond / 1024).toFixed(0)} KiB/s, hvm ${(hvmCon.bytesPerSecond / 1024).toFixed(1)} KiB/s\n`);
  const linux = await measureLinux(Math.min(runs, 3), log);
  const seconds = median(hyperlab.map((r) => r.seconds));
  // The translation tier (bench/jit.ts): cpubench with the interpreter, the tier and QEMU; Linux to its prompt both ways.
  const jit = jitSummary(await benchJit(runs, log));
  const result = {
    jit,
    benchmark: 'cpu',
    guest: 'public/guests/cpubench.elf',
    date: new Date().toISOString(),
    host: { node: process.version, platform: `${process.platform}-${process.arch}` },
    runs,
    instructions: hyperlab[0]!.instructions,
    hyperlab: {
      medianMips: round(median(hyperlab.map((r) => r.mips))),
      medianSeconds: round(seconds),
      mips: hyperlab.map((r) => round(r.mips)),
    },
    hvmExit: {
      // An MMIO access to the UART model in the hypervisor thread and back (bench/exits.ts).
      medianMicroseconds: round(median(exitRuns)),
      microseconds: exitRuns.map(round),
    },
    nullHypercall: {
      // xen_version from a pv guest: ECALL, SBI firmware, control block, hypervisor, back.
      medianMicroseconds: round(median(nullRuns)),
      microseconds: nullRuns.map(round),
    },
    evtchnWakeup: {
      // Send on an interdomain channel -> the blocked peer in another domain runs (half a ping-pong round trip).
      medianMicroseconds: round(median(wakeRuns.map((r) => r.medianMicros))),
      p99Microseconds: round(median(wakeRuns.map((r) => r.p99Micros))),
      samplesPerRun: wakeRuns[0]!.samples,
      // The same with parkUs = 0: the woken vCPU goes through the scheduler in the hypervisor thread.
      withoutWaitInPlace: {
        medianMicroseconds: round(median(noParkRuns.map((r) => r.medianMicros))),
        p99Microseconds: round(median(noParkRuns.map((r) => r.p99Micros))),
      },
    },
    scaling: {
      // Domains spinning on as many pCPUs; `perPcpu` is aggregate(n) / (n x aggregate(1)).
      hostCores: cores(),
      aggregateMips: Object.fromEntries(Object.entries(scaling).map(([n, m]) => [n, round(m)])),
      perPcpu: Object.fromEntries(Object.entries(scaling).map(([n, m]) => [n, round(m / (Number(n) * scaling[1]!))])),
    },
    console: {
      // The teaching OS's `write 1048576`, as a pv domain (console ring) and as an hvm domain (16550A).
      bytes: 1 << 20,
      pv: { bytesPerSecond: Math.round(pvCon.bytesPerSecond), exitsPerKiB: round(pvCon.exitsPerKiB) },
      hvm: { bytesPerSecond: Math.round(hvmCon.bytesPerSecond), exitsPerKiB: round(hvmCon.exitsPerKiB) },
      pvOverHvmThroughput: round(pvCon.bytesPerSecond / hvmCon.bytesPerSecond),
    },
    // Linux to the init's prompt (bench/linux.ts): three guests as hvm domains, kernel 1 as processes.
    linux: linuxSummary(linux),
    qemu: haveQemu
      ? {
          medianSeconds: round(median(qemuMs) / 1000),
          // QEMU's time includes its own start-up (tens of ms), hyperlab's does not.
          hyperlabOverQemuTime: round(seconds / (median(qemuMs) / 1000)),
        }
      : { skipped: 'qemu-system-riscv32 not found' },
  };
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${json}\n`);
  if (!browser) {
    process.stderr.write('the same lab in Chromium (MIPS, frame rate, echo latency, page load): npm run bench:browser, or bench --browser\n');
    return 0;
  }
  // bench/browser.ts drives Chromium through Playwright, which is not bundled into the CLI: run it apart.
  const r = spawnSync('npx', ['tsx', join('bench', 'browser.ts'), '--runs', String(runs)], { cwd: projectRoot(), stdio: 'inherit' });
  return r.status ?? 1;
}

/** Medians and raw runs of the Linux benchmark; exits per console byte for the console's own exit reason. */
function linuxSummary(l: LinuxBench): Record<string, unknown> {
  const domains = Object.fromEntries(
    Object.entries(l.domains).map(([guest, b]) => {
      const reason = guest.endsWith('hvc0') ? 'sbi:console' : 'mmio:uart0';
      const perByte = b.exits.map((e, i) => (e[reason] ?? 0) / b.bytes[i]!);
      return [
        guest,
        {
          medianPromptSeconds: round(median(b.promptMs) / 1000),
          promptSeconds: b.promptMs.map((x) => round(x / 1000)),
          medianMillionInsns: round(median(b.promptMillionInsns)),
          millionInsns: b.promptMillionInsns.map(round),
          medianVcpuSeconds: round(median(b.promptCpuMs) / 1000),
          vcpuSeconds: b.promptCpuMs.map((x) => round(x / 1000)),
          consoleBytes: b.bytes,
          consoleExitReason: reason,
          medianConsoleExitsPerByte: round(median(perByte)),
          exits: b.exits,
        },
      ];
    }),
  );
  const q = l.process.qemuMs,
    qs = l.process.qemuSbiMs;
  return {
    domains,
    nommuProcess: {
      hyperlabRun: { medianPromptSeconds: round(median(l.process.hyperlabRunMs) / 1000), promptSeconds: l.process.hyperlabRunMs.map((x) => round(x / 1000)) },
      qemu: q ? { medianPromptSeconds: round(median(q) / 1000), promptSeconds: q.map((x) => round(x / 1000)) } : { skipped: 'qemu-system-riscv32 not found' },
    },
    // Kernel 2 on QEMU with guests/linux/qemu-sbi-shim (Debian has no rv32 OpenSBI), spawn to prompt.
    sbiUnderQemu: qs
      ? { medianPromptSeconds: round(median(qs) / 1000), promptSeconds: qs.map((x) => round(x / 1000)) }
      : { skipped: 'qemu-system-riscv32 not found' },
  };
}

function cores(): number {
  return availableParallelism();
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
