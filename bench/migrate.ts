/**
 * `npm run bench -- --migrate` (docs/bench.md, "migrate"): save, restore and live migration
 * of an idle Linux 6.1 domain (examples/linux-sbi.cfg with 64 MiB), and live migration of the
 * same Linux while it dirties memory at a set rate, between two Node hosts over TCP on
 * 127.0.0.1 (this process and a `hyperlab host --listen` child).
 *
 * - save: `xl save -c` (captureDomain), ms and file size; the file against the domain's
 *   non-zero pages (the target: at most 1.1x);
 * - restore: from the start of `xl restore` to the restored shell answering `echo`, 1.5 s
 *   apart, with a spare vCPU worker as `hyperlab host` keeps (src/node/vcpuHost.ts);
 * - live: migrateSend to the child, total time, rounds, pages sent, downtime (the source
 *   paused until the target reports its copy running); after each run the child sends the
 *   domain back (not measured);
 * - dirty: the same while the guest's `dirty -b 16 RATE` (guests/linux/userland/dirty.c)
 *   rewrites RATE MiB/s of a 16 MiB buffer, whole pages in 10 ms slices, so each round
 *   finds the pages written since the last one dirty.
 *
 * Medians and the 99th percentile (the worst of 10 runs) are reported; run it on a quiet
 * machine for figures to publish.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Hypervisor } from '../src/core/xen/common/hypervisor';
import type { Domain } from '../src/core/xen/common/domain';
import { Toolstack } from '../src/core/tools/toolstack';
import { captureDomain } from '../src/core/tools/migration/save';
import { restoreDomain } from '../src/core/tools/migration/restore';
import { readSaveFile } from '../src/core/tools/migration/saveFile';
import { migrateSend } from '../src/core/tools/migration/live/send';
import { migrateReceive } from '../src/core/tools/migration/live/receive';
import type { MigrationStats } from '../src/core/tools/migration/live/progress';
import { tcpConnect, tcpListen } from '../src/node/tcpChannel';
import { nodeVcpuHost } from '../src/node/vcpuHost';
import { ensureWorkerScript } from '../src/node/workerScript';
import { projectRoot } from '../src/node/paths';
import { INIT_PROMPT } from '../guests/linux/session';
import { consoleText, typeInto, until, waitForConsole } from '../src/testing/support';

export interface LiveRuns {
  totalMs: number[];
  rounds: number[];
  pagesSent: number[];
  bytes: number[];
  downtimeMs: number[];
  /** The rounds of the first run, as the policy saw them. */
  firstRun: MigrationStats['rounds'];
}

export interface MigrateBench {
  guest: string;
  memoryMiB: number;
  save: { ms: number[]; fileBytes: number; nonZeroPages: number; fileToNonZero: number };
  restore: { toShellMs: number[] };
  live: { idle: LiveRuns; dirty: LiveRuns & { rateMiBps: number } };
  summary: Record<string, number>;
}

const MEMORY_MIB = 64;
const NAME = 'linux-sbi';

export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}
export const median = (xs: readonly number[]): number => quantile(xs, 0.5);
export const r1 = (x: number): number => Math.round(x * 10) / 10;

export const emptyLiveRuns = (): LiveRuns => ({ totalMs: [], rounds: [], pagesSent: [], bytes: [], downtimeMs: [], firstRun: [] });

/** One migration's figures (what migrateSend resolves with) added to the runs. */
export function addLiveRun(out: LiveRuns, s: MigrationStats): void {
  if (out.totalMs.length === 0) out.firstRun = s.rounds;
  out.totalMs.push(s.totalMs);
  out.rounds.push(s.rounds.length);
  out.pagesSent.push(s.pagesSent);
  out.bytes.push(s.bytes);
  out.downtimeMs.push(s.downtimeMs);
}

/** The runs' medians and the downtime's 99th percentile (the worst of up to 100 runs), keys named `${prefix}TotalMedianMs`... */
export function liveSummary(prefix: string, l: LiveRuns): Record<string, number> {
  return {
    [`${prefix}TotalMedianMs`]: r1(median(l.totalMs)),
    [`${prefix}DowntimeMedianMs`]: r1(median(l.downtimeMs)),
    [`${prefix}DowntimeP99Ms`]: r1(quantile(l.downtimeMs, 0.99)),
    [`${prefix}RoundsMedian`]: median(l.rounds),
    [`${prefix}PagesSentMedian`]: median(l.pagesSent),
  };
}

/** A save file against the domain's non-zero pages (issue 15's target: the file at most 1.1x their bytes). */
export function saveFileFigures(bytes: Uint8Array, memoryMiB: number): { fileBytes: number; nonZeroPages: number; fileToNonZero: number } {
  const read = readSaveFile(bytes, { maxPfn: (memoryMiB << 20) / 4096, maxVcpus: 8 });
  const nonZeroPages = [...read.libxc.pages.values()].filter((p) => p !== 'zero').length;
  return { fileBytes: bytes.length, nonZeroPages, fileToNonZero: Math.round((bytes.length / (nonZeroPages * 4096)) * 1000) / 1000 };
}

/** A `hyperlab host --listen` child on a free port. */
async function listeningHost(): Promise<{ p: ChildProcessWithoutNullStreams; addr: string; out: () => string; err: () => string; send: (l: string) => void }> {
  const p = spawn(process.execPath, [join(projectRoot(), 'bin', 'hyperlab.js'), 'host', '--mem', '320M', '--listen', '127.0.0.1:0'], { cwd: projectRoot() });
  let out = '',
    err = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (err += b.toString()));
  await until(() => /listening for migrations on (\S+)/.test(err), 60_000, 'the target host');
  return { p, addr: /listening for migrations on (\S+)/.exec(err)![1]!, out: () => out, err: () => err, send: (l) => p.stdin.write(`${l}\n`) };
}

async function answer(hv: Hypervisor, d: Domain, tag: string, ms = 60_000): Promise<void> {
  const from = consoleText(d).length;
  typeInto(hv, d, `echo ${tag}\n`);
  await waitForConsole(d, `${tag}\r\n`, { from, ms });
}

export async function measureMigrate(runs: number, log: (line: string) => void = () => {}, rateMiBps = 4): Promise<MigrateBench> {
  // With a spare worker, as `hyperlab host` (the other end here) runs: a restore's vCPU starts at once.
  const hv = new Hypervisor({ memoryMiB: 320, pcpus: 2, host: nodeVcpuHost(await ensureWorkerScript(), { spare: true }) });
  hv.start();
  const ts = new Toolstack(hv, { readFile: (p) => readFileSync(join(projectRoot(), p)) });
  const target = await listeningHost();
  try {
    const cfgText = readFileSync(join(projectRoot(), 'examples/linux-sbi.cfg'), 'utf8').replace(/memory = \d+/, `memory = ${MEMORY_MIB}`);
    let d = ts.create(cfgText);
    await waitForConsole(d, INIT_PROMPT, { ms: 300_000 });
    await answer(hv, d, 'booted');

    // ---- save (xl save -c) ----
    const saveMs: number[] = [];
    let bytes: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      bytes = await captureDomain(hv, d);
      saveMs.push(performance.now() - t0);
      hv.unpauseDomain(d.domid);
    }
    const file = saveFileFigures(bytes, MEMORY_MIB);
    const nonZeroPages = file.nonZeroPages;
    log(`migrate: save ${saveMs.map((x) => x.toFixed(0)).join(', ')} ms; file ${bytes.length} bytes for ${nonZeroPages} non-zero pages`);

    // ---- restore to the shell answering ----
    const restoreMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = await restoreDomain(hv, bytes, { configText: cfgText.replace(/name = "[^"]*"/, 'name = "linux-restored"') });
      await answer(hv, r, `restored${i}`);
      restoreMs.push(performance.now() - t0);
      hv.destroyDomain(r.domid);
      // One restore at a time, as a user makes them: the spare worker the restore took is
      // replaced meanwhile (half a second later, then a few hundred ms to load and warm up).
      await new Promise((res) => setTimeout(res, 1500));
    }
    log(`migrate: restore to the shell answering ${restoreMs.map((x) => x.toFixed(0)).join(', ')} ms`);

    // ---- live migration to the child and back ----
    let incoming: ((d: Domain) => void) | undefined;
    const back = await tcpListen('127.0.0.1:0', (ch) => {
      void migrateReceive(ts, ch).then((x) => incoming?.(x));
    });
    const backAddr = `127.0.0.1:${(back.address() as { port: number }).port}`;
    /** `prompt`: the shell answers between runs (not while the dirtying loop holds it). */
    const liveRuns = async (what: string, prompt: boolean): Promise<LiveRuns> => {
      const out = emptyLiveRuns();
      for (let i = 0; i < runs; i++) {
        const errFrom = target.err().length;
        const s = await migrateSend(ts, d, await tcpConnect(target.addr), { log: (l) => log(`  ${l}`) });
        // The target's own account of its part (xl's "migration target: Transfer complete ..." line: the build split).
        for (const l of target.err().slice(errFrom).split('\n')) if (/Transfer complete|stream of \d+ bytes/.test(l)) log(`  ${l.trim()}`);
        addLiveRun(out, s);
        log(
          `migrate ${what} ${i + 1}/${runs}: ${s.rounds.length} rounds, ${s.pagesSent} pages, ${(s.bytes / 1e6).toFixed(1)} MB in ${s.totalMs.toFixed(0)} ms, downtime ${s.downtimeMs.toFixed(1)} ms`,
        );
        // Back to this host (not measured).
        const arrived = new Promise<Domain>((resolve) => (incoming = resolve));
        target.send(`migrate ${NAME} ${backAddr}`);
        d = await arrived;
        if (prompt) await answer(hv, d, `back${i}`);
        else await new Promise((r) => setTimeout(r, 1000)); // the writer runs on here a while before the next run
      }
      return out;
    };
    const idle = await liveRuns('idle', true);
    // The guest dirties RATE MiB/s (guests/linux/userland/dirty.c: whole pages of a 16 MiB buffer, in 10 ms slices), in the background.
    typeInto(hv, d, `dirty -b 16 ${rateMiBps} &\n`);
    await new Promise((r) => setTimeout(r, 3000));
    const dirty = { ...(await liveRuns(`dirty ${rateMiBps} MiB/s`, false)), rateMiBps };
    back.close();
    const summary = {
      saveMedianMs: r1(median(saveMs)),
      saveFileBytes: bytes.length,
      restoreToShellMedianMs: r1(median(restoreMs)),
      ...liveSummary('idle', idle),
      ...liveSummary('dirty', dirty),
    };
    return {
      guest: 'examples/linux-sbi.cfg (Linux 6.1, Sv32, S-mode on the SBI firmware), memory = 64',
      memoryMiB: MEMORY_MIB,
      save: { ms: saveMs.map(r1), ...file },
      restore: { toShellMs: restoreMs.map(r1) },
      live: { idle, dirty },
      summary,
    };
  } finally {
    target.p.kill('SIGKILL');
    hv.shutdownHost();
  }
}
