/**
 * `npm run bench:browser`: the lab in Chromium (docs/bench.md, "browser"). Builds the
 * site, serves it with `vite preview`, drives the system Chromium with Playwright, prints
 * JSON and writes it to bench/results/browser.json.
 *
 *  - cpubench: guest MIPS of the cpubench preset on an empty page, --runs times, and the
 *    same guest in Node in the same session (bench/main.ts's runCpuGuest);
 *  - disk: the teaching OS's `disk bench 8` on disks in OPFS (pv raw, pv qcow2 overlay, hvm
 *    virtio-blk raw), --runs times each (bench/diskBrowser.ts);
 *  - net: ping round trips and exits per packet between the networked teaching OS presets
 *    (pv, hvm), Domain-0 and two Linux 6.12 (TCP, UDP; not with --net-no-linux), --runs
 *    pages, and the pv-pv pair in Node for chromiumOverNode (bench/netBrowser.ts);
 *  - migrate: save, snapshot, restore and live migration between two tabs of one context
 *    (BroadcastChannel), the teaching OS pv and hvm and Linux 6.1 idle and dirtying memory
 *    (not with --migrate-no-linux), --runs times (bench/migrateBrowser.ts);
 *  - pageLoad: navigation to both default guests' prompts, in a fresh browser context
 *    (no cache) each run;
 *  - busy: a host with 4 pCPUs and 4 hvm domains running `burn` flat out; the page's
 *    frame rate (requestAnimationFrame callbacks a second, idle first, then busy) and
 *    the echo latency of a key typed into a pv and an hvm console (keydown to the
 *    terminal's rows showing the character);
 *  - linux: time from create to the init's prompt, for every preset named linux*, --runs
 *    times, each on a fresh empty page (a cold hypervisor worker and a new vCPU worker),
 *    created as soon as the page is ready or --settle MS later.
 *
 *   npm run bench:browser [-- --runs N] [-- --busy N] [-- --no-build] [-- --out FILE] [-- --seconds N] [-- --echo N]
 *                         [-- --only cpubench,load,busy,linux,disk,net,migrate] [-- --settle MS] [-- --net-no-linux]
 *                         [-- --migrate-no-linux]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { median, runCpuGuest } from './main';
import { launchChromium, preparePage, serveLab } from './browserHost';
import { armEcho, echoLatency, frameRates, waitForLab, type PageGlobals } from './browserPage';
import { guestImage, projectRoot } from '../src/node/paths';
import { measureDiskBrowser } from './diskBrowser';
import { measureNetBrowser } from './netBrowser';
import { measureMigrateBrowser } from './migrateBrowser';

const VIEWPORT = { width: 1440, height: 900 };
/** The init's prompt of the Linux guests (docs/linux.md). */
const LINUX_PROMPT = 'hyperlab# ';

interface Options {
  runs: number;
  /** Domains running burn, on as many pCPUs. */
  busy: number;
  build: boolean;
  out: string;
  seconds: number;
  echo: number;
  /** The parts to run (default all). */
  only: Set<Part>;
  /** Linux: ms to leave the page alone after it is ready, before the create. */
  settle: number;
  /** net: the two Linux guests too. */
  netLinux: boolean;
  /** migrate: Linux too. */
  migrateLinux: boolean;
}

const PARTS = ['cpubench', 'load', 'busy', 'linux', 'disk', 'net', 'migrate'] as const;
type Part = (typeof PARTS)[number];

function options(argv: readonly string[]): Options {
  const o: Options = {
    runs: 3,
    busy: 4,
    build: true,
    out: join(projectRoot(), 'bench', 'results', 'browser.json'),
    seconds: 5,
    echo: 20,
    only: new Set(PARTS),
    settle: 0,
    netLinux: true,
    migrateLinux: true,
  };
  const num = (i: number): number => {
    const v = Number(argv[i]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${argv[i - 1]} takes a whole number above 0`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = num(++i);
    else if (a === '--seconds') o.seconds = num(++i);
    else if (a === '--busy') o.busy = num(++i);
    else if (a === '--echo') o.echo = num(++i);
    else if (a === '--settle') o.settle = num(++i);
    else if (a === '--no-build') o.build = false;
    else if (a === '--net-no-linux') o.netLinux = false;
    else if (a === '--migrate-no-linux') o.migrateLinux = false;
    else if (a === '--out') o.out = argv[++i] ?? o.out;
    else if (a === '--only') {
      const parts = (argv[++i] ?? '').split(',');
      const bad = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
      if (bad.length > 0) throw new Error(`--only takes some of ${PARTS.join(',')}; not ${bad.join(',')}`);
      o.only = new Set(parts as Part[]);
    } else
      throw new Error(
        `unknown option ${a} (options: --runs N, --busy N, --seconds N, --echo N, --no-build, --out FILE, --only PARTS, --settle MS, --net-no-linux, --migrate-no-linux)`,
      );
  }
  return o;
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
const log = (s: string): boolean => process.stderr.write(`${s}\n`);

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  // A page whose host is flat out answers slowly: Playwright's actions may wait that long.
  page.setDefaultTimeout(120_000);
  await preparePage(page);
  await page.goto(url);
  await waitForLab(page);
  return page;
}

/** cpubench in a fresh page, `runs` times; `jitOff`: the host setting ?jit=off (the interpreter alone). */
async function cpubench(browser: Browser, url: string, runs: number, jitOff = false): Promise<{ mips: number[]; timing: string[] }> {
  const page = await openPage(browser, `${url}?boot=${jitOff ? '&jit=off' : ''}`);
  const mips: number[] = [];
  const timing: string[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const r = await page.evaluate(async () => {
        const h = (globalThis as unknown as PageGlobals).hyperlab!;
        const id = await h.create('cpubench');
        const off = await h.waitForPowerOff(id, 300_000);
        const out = {
          mips: h.stats(id).avgMips,
          off,
          line:
            h
              .consoleText(id)
              .split('\n')
              .find((l) => l.startsWith('timing:')) ?? '',
        };
        await h.destroy(id);
        return out;
      });
      if (r.off.kind !== 'pass') throw new Error(`cpubench failed in the page (${r.off.kind} ${r.off.code})`);
      mips.push(r.mips);
      timing.push(r.line);
      log(`cpubench in Chromium${jitOff ? ' (interpreter)' : ''}, run ${i + 1}/${runs}: ${r.mips.toFixed(1)} MIPS (${r.line})`);
    }
  } finally {
    await page.close();
  }
  return { mips, timing };
}

async function pageLoad(browser: Browser, url: string, runs: number): Promise<{ promptsMs: number[]; readyMs: number[] }> {
  const promptsMs: number[] = [];
  const readyMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await preparePage(page);
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).hyperlab !== undefined);
    // The page's clock starts at navigation (performance.timeOrigin).
    const r = await page.evaluate(async () => {
      const g = globalThis as unknown as PageGlobals;
      const h = g.hyperlab!;
      await h.ready();
      const ready = g.performance.now();
      const ids = h.domains().map((d) => d.id);
      await Promise.all(ids.map((id) => h.waitForText(id, '$ ', 60_000)));
      return { ready, prompts: g.performance.now(), domains: ids.length };
    });
    if (r.domains !== 2) throw new Error(`the default scenario made ${r.domains} domains, not 2`);
    promptsMs.push(r.prompts);
    readyMs.push(r.ready);
    log(`page load, run ${i + 1}/${runs}: both prompts at ${r.prompts.toFixed(0)} ms (domains created at ${r.ready.toFixed(0)} ms)`);
    await context.close();
  }
  return { promptsMs, readyMs };
}

/** CPU % and MIPS over the last second of each domain. */
function burnerLoad(page: Page, ids: readonly number[]): Promise<{ cpuPct: number; mips: number; burning: boolean }[]> {
  return page.evaluate(
    (ids) =>
      ids.map((id) => {
        const h = (globalThis as unknown as PageGlobals).hyperlab!;
        const s = h.stats(id);
        // Still in `burn` (no prompt after the command) and runnable, not asleep.
        return { cpuPct: s.cpuPct, mips: s.mips, burning: s.state === 'running' && h.consoleText(id).trimEnd().endsWith('burn 4000') };
      }),
    ids,
  );
}

/** Echo latencies (ms) of `n` keys typed into a console; -1 for a key whose echo never came. */
async function echoes(page: Page, domid: number, n: number): Promise<number[]> {
  const testId = `console-${domid}`;
  await page.getByTestId(testId).scrollIntoViewIfNeeded();
  await page.getByTestId(testId).click();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % 10 === 0) {
      await page.keyboard.press('Control+u'); // clear the line: Ctrl-U in the guest's line editor
      await page.waitForTimeout(300);
    }
    await armEcho(page, testId, 'x', 5000);
    await page.keyboard.press('x');
    out.push(round(await echoLatency(page), 2));
    await page.waitForTimeout(50);
  }
  return out;
}

async function busy(browser: Browser, url: string, o: Options) {
  const page = await openPage(browser, `${url}?boot=&pcpus=${o.busy}`);
  try {
    const ids = await page.evaluate(async (n) => {
      const h = (globalThis as unknown as PageGlobals).hyperlab!;
      const burners: number[] = [];
      for (let i = 0; i < n; i++) burners.push(await h.create({ preset: 'teaching-os-hvm', name: `burn${i}` }));
      const pv = await h.create({ preset: 'teaching-os-pv', name: 'echo-pv' });
      const hvm = await h.create({ preset: 'teaching-os-hvm', name: 'echo-hvm' });
      await Promise.all([...burners, pv, hvm].map((id) => h.waitForText(id, '$ ', 60_000)));
      return { burners, pv, hvm, pcpus: h.host()?.pcpus ?? 0 };
    }, o.busy);
    await page.waitForTimeout(1000);
    const idleFps = await frameRates(page, o.seconds);
    log(`frame rate, guests idle: ${idleFps.map((x) => x.toFixed(0)).join(', ')}`);
    // burn 4000 (the shell's largest) is minutes of work: it stops when the domains are destroyed.
    await page.evaluate((ids) => Promise.all(ids.map((id) => (globalThis as unknown as PageGlobals).hyperlab!.sendInput(id, 'burn 4000\r'))), ids.burners);
    await page.waitForTimeout(2500);
    const loadAtStart = await burnerLoad(page, ids.burners);
    log(`burners: ${loadAtStart.map((l) => `${l.cpuPct.toFixed(0)}% ${l.mips.toFixed(0)} MIPS`).join(', ')}`);
    if (!loadAtStart.every((l) => l.burning)) throw new Error('a burner domain is not running burn: the figures would be of an idle host');
    const busyFps = await frameRates(page, o.seconds);
    log(`frame rate, ${o.busy} vCPUs busy: ${busyFps.map((x) => x.toFixed(0)).join(', ')}`);
    const pvEcho = await echoes(page, ids.pv, o.echo);
    const hvmEcho = await echoes(page, ids.hvm, o.echo);
    log(`echo, pv console: ${pvEcho.join(', ')} ms`);
    log(`echo, hvm console: ${hvmEcho.join(', ')} ms`);
    // The burners were flat out the whole time (CPU % over the last second, and MIPS).
    const load = await burnerLoad(page, ids.burners);
    log(`burners at the end: ${load.map((l) => `${l.cpuPct.toFixed(0)}% ${l.mips.toFixed(0)} MIPS`).join(', ')}`);
    const echoFigures = (xs: number[]) => ({ medianMs: round(median(xs.filter((x) => x >= 0)), 2), lost: xs.filter((x) => x < 0).length, ms: xs });
    return {
      pcpus: ids.pcpus,
      busyDomains: o.busy,
      // CPU % (of one pCPU) and MIPS of each burner over the last second, before and after the measurements.
      burnersAtStart: loadAtStart.map((l) => ({ cpuPct: round(l.cpuPct), mips: round(l.mips) })),
      burnersAtEnd: load.map((l) => ({ cpuPct: round(l.cpuPct), mips: round(l.mips), burning: l.burning })),
      aggregateMips: round(load.reduce((a, l) => a + l.mips, 0)),
      idleFps: { median: round(median(idleFps)), perSecond: idleFps.map((x) => round(x)) },
      busyFps: { median: round(median(busyFps)), perSecond: busyFps.map((x) => round(x)) },
      echo: { pv: echoFigures(pvEcho), hvm: echoFigures(hvmEcho) },
    };
  } finally {
    await page.close();
  }
}

/**
 * Linux: every preset whose name starts with "linux", created on a fresh empty page
 * `runs` times and timed from create to its init's prompt.
 */
async function linuxBoot(browser: Browser, url: string, runs: number, settleMs: number): Promise<LinuxBootRow[] | { skipped: string }> {
  const presets = await withPage(browser, `${url}?boot=`, (page) => page.evaluate(() => (globalThis as unknown as PageGlobals).hyperlab!.presets()));
  const linux = presets.filter((p) => p.startsWith('linux'));
  if (linux.length === 0) return { skipped: 'no preset named linux* in this build' };
  const out: LinuxBootRow[] = [];
  const boot = async (preset: string, jitOff: boolean): Promise<number[]> => {
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const ms = await withPage(browser, `${url}?boot=${jitOff ? '&jit=off' : ''}`, async (page) => {
        if (settleMs > 0) await page.waitForTimeout(settleMs);
        return page.evaluate(
          async ([preset, prompt]) => {
            const g = globalThis as unknown as PageGlobals;
            const t0 = g.performance.now();
            const id = await g.hyperlab!.create(preset);
            await g.hyperlab!.waitForText(id, prompt, 120_000);
            const ms = g.performance.now() - t0;
            await g.hyperlab!.destroy(id);
            return ms;
          },
          [preset, LINUX_PROMPT] as const,
        );
      });
      log(`${preset}${jitOff ? ' (interpreter)' : ''}: init prompt after ${ms.toFixed(0)} ms`);
      times.push(round(ms, 0));
    }
    return times;
  };
  for (const preset of linux) {
    const times = await boot(preset, false);
    const row: LinuxBootRow = { preset, medianPromptMs: round(median(times), 0), promptMs: times };
    // The two kernels both ways: the translation tier (the default) against the interpreter (?jit=off).
    if (INTERPRETER_TOO.includes(preset)) {
      const interp = await boot(preset, true);
      row.interpreter = { medianPromptMs: round(median(interp), 0), promptMs: interp };
    }
    out.push(row);
  }
  return out;
}

/** The Linux presets the linux part also boots with ?jit=off. */
const INTERPRETER_TOO = ['linux-nommu', 'linux-sbi'];

interface LinuxBootRow {
  preset: string;
  medianPromptMs: number;
  promptMs: number[];
  interpreter?: { medianPromptMs: number; promptMs: number[] };
}

async function withPage<T>(browser: Browser, url: string, f: (page: Page) => Promise<T>): Promise<T> {
  const page = await openPage(browser, url);
  try {
    return await f(page);
  } finally {
    await page.close();
  }
}

async function attempt<T>(what: string, f: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await f();
  } catch (e) {
    const error = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    log(`${what}: ${error}`);
    return { error };
  }
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const loadBefore = loadavg()[0]!;
  const site = await serveLab({ build: o.build, port: 4794 });
  const browser = await launchChromium();
  try {
    const want = (p: Part): boolean => o.only.has(p);
    const chromiumMips = want('cpubench') ? await cpubench(browser, site.url, o.runs) : undefined;
    // The same with the translation tier off (the page's ?jit=off, Node's jit 'off'): the tier's gain in each.
    const chromiumInterp = want('cpubench') ? await cpubench(browser, site.url, o.runs, true) : undefined;
    const nodeMips: number[] = [];
    const nodeInterp: number[] = [];
    if (want('cpubench')) {
      const image = readFileSync(guestImage('cpubench'));
      for (let i = 0; i < o.runs; i++) {
        nodeMips.push(runCpuGuest(image, 'on').mips);
        nodeInterp.push(runCpuGuest(image, 'off').mips);
      }
      log(
        `cpubench in Node (same session): tier ${nodeMips.map((x) => x.toFixed(1)).join(', ')}; interpreter ${nodeInterp.map((x) => x.toFixed(1)).join(', ')} MIPS`,
      );
    }
    const load = want('load') ? await pageLoad(browser, site.url, o.runs) : undefined;
    // A part that fails leaves its error in the JSON; the others are still reported.
    const busyHost = want('busy') ? await attempt('busy', () => busy(browser, site.url, o)) : undefined;
    const linux = want('linux') ? await attempt('linux', () => linuxBoot(browser, site.url, o.runs, o.settle)) : undefined;
    const disk = want('disk')
      ? await attempt('disk', () => withPage(browser, `${site.url}?boot=`, (page) => measureDiskBrowser(page, o.runs, log)))
      : undefined;
    const net = want('net')
      ? await attempt('net', () => measureNetBrowser((u) => openPage(browser, u), site.url, o.runs, log, { linux: o.netLinux }))
      : undefined;
    const migrate = want('migrate')
      ? await attempt('migrate', () => measureMigrateBrowser(browser, site.url, o.runs, log, { linux: o.migrateLinux, viewport: VIEWPORT }))
      : undefined;
    const result = {
      benchmark: 'browser',
      date: new Date().toISOString(),
      host: {
        chromium: browser.version(),
        node: process.version,
        cores: availableParallelism(),
        loadAverage: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
      },
      runs: o.runs,
      cpubench: chromiumMips && {
        medianMips: round(median(chromiumMips.mips)),
        mips: chromiumMips.mips.map((x) => round(x)),
        guestTiming: chromiumMips.timing,
        node: { medianMips: round(median(nodeMips)), mips: nodeMips.map((x) => round(x)) },
        chromiumOverNode: round(median(chromiumMips.mips) / median(nodeMips), 3),
        interpreter: chromiumInterp && {
          medianMips: round(median(chromiumInterp.mips)),
          mips: chromiumInterp.mips.map((x) => round(x)),
          node: { medianMips: round(median(nodeInterp)), mips: nodeInterp.map((x) => round(x)) },
          chromiumOverNode: round(median(chromiumInterp.mips) / median(nodeInterp), 3),
        },
        tierOverInterpreter: chromiumInterp && {
          chromium: round(median(chromiumMips.mips) / median(chromiumInterp.mips), 3),
          node: round(median(nodeMips) / median(nodeInterp), 3),
        },
      },
      pageLoad: load && {
        medianPromptsMs: round(median(load.promptsMs), 0),
        promptsMs: load.promptsMs.map((x) => round(x, 0)),
        readyMs: load.readyMs.map((x) => round(x, 0)),
      },
      busy: busyHost,
      linux: linux && { settleMs: o.settle, presets: linux },
      disk,
      net,
      migrate,
      targets: { busyFps: 50, echoMs: 100, mips: 'at or above Node' },
    };
    const json = JSON.stringify(result, null, 2);
    process.stdout.write(`${json}\n`);
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, `${json}\n`);
  } finally {
    await browser.close();
    await site.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:browser: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
