/**
 * Save, restore and live migration in Chromium (the `migrate` part of `npm run bench:browser`,
 * docs/bench.md "migrate in Chromium"): bench/migrate.ts's figures between two tabs instead of
 * two Node hosts. Two pages of the lab in ONE browser context, so that their hypervisor workers
 * share the BroadcastChannel the migration runs over (src/web/worker/migrateBroadcast.ts).
 *
 * For each guest (the pv and the hvm teaching OS, and Linux 6.1 on the SBI firmware with 64 MiB
 * unless `linux` is false), booted once in tab A:
 *  - save: window.hyperlab.save(id, { checkpoint: true }) (`xl save -c`), ms in the page and the
 *    file's size against the domain's non-zero pages (bench/migrate.ts's saveFileFigures);
 *  - snapshot: window.hyperlab.snapshots.take (the same save, written to OPFS snapshots/), and
 *    snapshots.restore of it to the shell answering;
 *  - restore: window.hyperlab.restore of the saved bytes (a copy beside the original) to its
 *    shell answering a command;
 *  - live idle: window.hyperlab.migrate.send to tab B, then from B back to A, `runs` times
 *    (two migrations a run, both measured), the shell answering on arrival each time;
 *  - live dirty (Linux only): the same while the guest runs `dirty -b 16 RATE` in the background
 *    (guests/linux/userland/dirty.c).
 * The figures are what migrateSend resolves with (src/core/tools/migration/live/progress.ts's
 * MigrationStats, as `xl migrate` reports them), summarised by bench/migrate.ts's liveSummary.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { waitForLab } from './browserPage';
import { preparePage } from './browserHost';
import { addLiveRun, emptyLiveRuns, liveSummary, median, r1, saveFileFigures, type LiveRuns } from './migrate';
import type { MigrationStats } from '../src/core/tools/migration/live/progress';

/** The members of window.hyperlab this part uses (src/web/protocol/automationTypes.ts). */
interface MigratePageHyperlab {
  create(spec: { readonly preset: string; readonly name: string }): Promise<number>;
  destroy(id: number): Promise<void>;
  domains(): { readonly id: number; readonly name: string }[];
  waitForText(id: number, text: string, timeoutMs?: number): Promise<string>;
  sendInput(id: number, text: string): Promise<void>;
  consoleText(id: number): string;
  save(id: number, options?: { checkpoint?: boolean }): Promise<Uint8Array>;
  restore(bytes: Uint8Array, options?: { name?: string }): Promise<number>;
  readonly snapshots: {
    take(id: number, name?: string): Promise<{ readonly size: number }>;
    restore(name: string, options?: { name?: string }): Promise<number>;
    remove(name: string): Promise<void>;
  };
  readonly migrate: { peers(): Promise<{ readonly id: string }[]>; send(id: number, peer: string): Promise<MigrationStats> };
}
interface MigratePageGlobals {
  hyperlab?: MigratePageHyperlab;
  performance: { now(): number };
  btoa(s: string): string;
  /** The last save file, between page.evaluate calls. */
  __migrateSave?: Uint8Array;
}

export interface BrowserMigrateGuest {
  /** The lab's preset. */
  preset: string;
  /** The domain's name (the teaching OS pv prints it in its prompt). */
  name: string;
  memoryMiB: number;
  /** What the shell prints once it is up. */
  prompt: string;
  /** 'tos': the teaching OS's shell (an unknown command is answered); 'linux': the init's shell (echo). */
  shell: 'tos' | 'linux';
}

export const BROWSER_MIGRATE_GUESTS: readonly BrowserMigrateGuest[] = [
  { preset: 'teaching-os-pv', name: 'mig-pv', memoryMiB: 16, prompt: 'mig-pv$ ', shell: 'tos' },
  // hvm guests do not know their name.
  { preset: 'teaching-os-hvm', name: 'mig-hvm', memoryMiB: 16, prompt: 'tos$ ', shell: 'tos' },
  { preset: 'linux-sbi', name: 'mig-linux', memoryMiB: 64, prompt: 'hyperlab# ', shell: 'linux' },
];

/**
 * A command whose answer differs from its own echo (so the line editor echoing what was typed
 * does not count as the shell answering), and that answer.
 */
export function probeCommand(shell: 'tos' | 'linux', tag: string): { command: string; answer: string } {
  // The teaching OS answers an unknown command with "TAG: unknown command"; Linux's sh joins "TAG""ok" into TAGok.
  return shell === 'tos' ? { command: `${tag}\n`, answer: `${tag}: unknown command` } : { command: `echo ${tag}""ok\n`, answer: `${tag}ok` };
}

async function openTab(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(180_000);
  await preparePage(page);
  await page.goto(url);
  await waitForLab(page);
  return page;
}

/** The shell of domain `id` answers `tag` within `ms` (ms from the call to the answer). */
async function answers(page: Page, id: number, shell: 'tos' | 'linux', tag: string, ms = 120_000): Promise<number> {
  const probe = probeCommand(shell, tag);
  return page.evaluate(
    async ([id, command, answer, ms]) => {
      const g = globalThis as unknown as MigratePageGlobals;
      const h = g.hyperlab!;
      const t0 = g.performance.now();
      const from = h.consoleText(id).length;
      await h.sendInput(id, command);
      const end = t0 + ms;
      while (!h.consoleText(id).slice(from).includes(answer)) {
        if (g.performance.now() > end)
          throw new Error(`domain ${id} did not answer ${JSON.stringify(command.trim())}; console ends ${JSON.stringify(h.consoleText(id).slice(-200))}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return g.performance.now() - t0;
    },
    [id, probe.command, probe.answer, ms] as const,
  );
}

/** Migrate the domain named `name` from `from` to the tab `peer`; resolves with the stats and its domid on `to`. */
async function migrateOnce(from: Page, to: Page, name: string, peer: string): Promise<{ stats: MigrationStats; id: number }> {
  const stats = await from.evaluate(
    async ([name, peer]) => {
      const h = (globalThis as unknown as MigratePageGlobals).hyperlab!;
      const d = h.domains().find((x) => x.name === name);
      if (!d) throw new Error(`no domain ${name} here`);
      return h.migrate.send(d.id, peer);
    },
    [name, peer] as const,
  );
  // send resolves once the copy runs on the target; its domain list follows with the next event.
  const handle = await to.waitForFunction((name) => (globalThis as unknown as MigratePageGlobals).hyperlab!.domains().find((x) => x.name === name)?.id, name, {
    timeout: 60_000,
  });
  return { stats, id: (await handle.jsonValue()) as number };
}

/** The peer id of the other tab (the only one in the context). */
async function peerOf(page: Page): Promise<string> {
  const peers = await page.evaluate(() => (globalThis as unknown as MigratePageGlobals).hyperlab!.migrate.peers());
  if (peers.length !== 1) throw new Error(`expected one other tab, found ${peers.length}`);
  return peers[0]!.id;
}

const fmtRun = (s: MigrationStats): string =>
  `${s.rounds.length} rounds, ${s.pagesSent} pages, ${(s.bytes / 1e6).toFixed(1)} MB in ${s.totalMs.toFixed(0)} ms, downtime ${s.downtimeMs.toFixed(1)} ms`;

/**
 * A restore of the last save (or of the OPFS snapshot `snapshot`) beside the original, to its
 * shell answering: ms on the page's clock. The copy is destroyed.
 */
async function restoreToShell(page: Page, g: BrowserMigrateGuest, tag: string, snapshot?: string): Promise<number> {
  const now = (): Promise<number> => page.evaluate(() => (globalThis as unknown as MigratePageGlobals).performance.now());
  const t0 = await now();
  const rid = await page.evaluate(
    ([name, snapshot]) => {
      const h = (globalThis as unknown as MigratePageGlobals).hyperlab!;
      return snapshot ? h.snapshots.restore(snapshot, { name }) : h.restore((globalThis as unknown as MigratePageGlobals).__migrateSave!, { name });
    },
    [`${g.name}-restored`, snapshot ?? ''] as const,
  );
  await answers(page, rid, g.shell, tag);
  const ms = (await now()) - t0;
  await page.evaluate((rid) => (globalThis as unknown as MigratePageGlobals).hyperlab!.destroy(rid), rid);
  return ms;
}

/** Save, snapshot and restore of domain `id` in `page`, `runs` times each. */
async function saveRestore(page: Page, g: BrowserMigrateGuest, id: number, runs: number, log: (line: string) => void) {
  const saveMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    saveMs.push(
      await page.evaluate(async (id) => {
        const w = globalThis as unknown as MigratePageGlobals;
        const t0 = w.performance.now();
        w.__migrateSave = await w.hyperlab!.save(id, { checkpoint: true });
        return w.performance.now() - t0;
      }, id),
    );
  }
  // The file to Node (base64: a string crosses page.evaluate as it is), to count its non-zero pages as bench/migrate.ts does.
  const b64 = await page.evaluate(() => {
    const w = globalThis as unknown as MigratePageGlobals;
    const b = w.__migrateSave!;
    let s = '';
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
    return w.btoa(s);
  });
  const file = saveFileFigures(new Uint8Array(Buffer.from(b64, 'base64')), g.memoryMiB);
  log(
    `migrate in Chromium, ${g.preset}: save -c ${saveMs.map((x) => x.toFixed(0)).join(', ')} ms; file ${file.fileBytes} bytes for ${file.nonZeroPages} non-zero pages`,
  );

  const snapshotMs: number[] = [];
  const snapshotRestoreMs: number[] = [];
  let snapshotBytes = 0;
  for (let i = 0; i < runs; i++) {
    const name = `bench-${g.name}-${i}`;
    const r = await page.evaluate(
      async ([id, name]) => {
        const w = globalThis as unknown as MigratePageGlobals;
        const t0 = w.performance.now();
        const row = await w.hyperlab!.snapshots.take(id, name);
        return { ms: w.performance.now() - t0, size: row.size };
      },
      [id, name] as const,
    );
    try {
      snapshotMs.push(r.ms);
      snapshotBytes = r.size;
      snapshotRestoreMs.push(await restoreToShell(page, g, `snap${i}`, name));
    } finally {
      await page.evaluate((name) => (globalThis as unknown as MigratePageGlobals).hyperlab!.snapshots.remove(name), name);
    }
  }
  log(
    `migrate in Chromium, ${g.preset}: snapshot (OPFS) ${snapshotMs.map((x) => x.toFixed(0)).join(', ')} ms, ${snapshotBytes} bytes; ` +
      `its restore to the shell answering ${snapshotRestoreMs.map((x) => x.toFixed(0)).join(', ')} ms`,
  );

  const restoreMs: number[] = [];
  for (let i = 0; i < runs; i++) restoreMs.push(await restoreToShell(page, g, `restored${i}`));
  log(`migrate in Chromium, ${g.preset}: restore to the shell answering ${restoreMs.map((x) => x.toFixed(0)).join(', ')} ms`);
  await page.evaluate(() => delete (globalThis as unknown as MigratePageGlobals).__migrateSave);
  return {
    save: { ms: saveMs.map(r1), ...file },
    snapshot: { ms: snapshotMs.map(r1), fileBytes: snapshotBytes, restoreToShellMs: snapshotRestoreMs.map(r1) },
    restore: { toShellMs: restoreMs.map(r1) },
  };
}

/** One guest: boot in A, save/snapshot/restore, then live migration A -> B -> A `runs` times (idle, and dirtying for Linux). */
export async function measureGuest(a: Page, b: Page, g: BrowserMigrateGuest, runs: number, log: (line: string) => void, rateMiBps = 4) {
  const [peerA, peerB] = [await peerOf(b), await peerOf(a)];
  const t0 = Date.now();
  let id = await a.evaluate(([preset, name]) => (globalThis as unknown as MigratePageGlobals).hyperlab!.create({ preset, name }), [g.preset, g.name] as const);
  try {
    await a.evaluate(([id, prompt]) => (globalThis as unknown as MigratePageGlobals).hyperlab!.waitForText(id, prompt, 300_000), [id, g.prompt] as const);
    await answers(a, id, g.shell, 'booted');
    const bootMs = Date.now() - t0;
    log(`migrate in Chromium, ${g.preset}: booted in ${bootMs} ms`);
    const files = await saveRestore(a, g, id, runs, log);

    const legs = async (what: string, answer: boolean): Promise<LiveRuns> => {
      const out = emptyLiveRuns();
      for (let i = 0; i < runs; i++) {
        for (const [from, to, peer, dir] of [
          [a, b, peerB, 'A->B'],
          [b, a, peerA, 'B->A'],
        ] as const) {
          const r = await migrateOnce(from, to, g.name, peer);
          addLiveRun(out, r.stats);
          id = r.id;
          log(`migrate in Chromium, ${g.preset} ${what} ${i + 1}/${runs} ${dir}: ${fmtRun(r.stats)}`);
          if (answer) await answers(to, id, g.shell, `${dir === 'A->B' ? 'b' : 'a'}${i}`);
          else await to.waitForTimeout(1000); // the writer runs on a while before the next migration
        }
      }
      return out;
    };
    const idle = await legs('idle', true);
    let dirty: (LiveRuns & { rateMiBps: number }) | undefined;
    if (g.shell === 'linux') {
      // guests/linux/userland/dirty.c: whole pages of a 16 MiB buffer, RATE MiB/s in 10 ms slices, in the background.
      await a.evaluate(([id, cmd]) => (globalThis as unknown as MigratePageGlobals).hyperlab!.sendInput(id, cmd), [
        id,
        `dirty -b 16 ${rateMiBps} &\n`,
      ] as const);
      await a.waitForTimeout(3000);
      dirty = { ...(await legs(`dirty ${rateMiBps} MiB/s`, false)), rateMiBps };
    }
    return {
      preset: g.preset,
      memoryMiB: g.memoryMiB,
      bootMs,
      ...files,
      live: { idle, ...(dirty && { dirty }) },
      summary: {
        saveMedianMs: r1(median(files.save.ms)),
        saveFileBytes: files.save.fileBytes,
        snapshotMedianMs: r1(median(files.snapshot.ms)),
        snapshotRestoreToShellMedianMs: r1(median(files.snapshot.restoreToShellMs)),
        restoreToShellMedianMs: r1(median(files.restore.toShellMs)),
        ...liveSummary('idle', idle),
        ...(dirty && liveSummary('dirty', dirty)),
      },
    };
  } finally {
    await destroyGuest(a, b, g.name);
  }
}

/** Destroy the guest wherever it is (a failed migration may leave it in either tab). */
async function destroyGuest(a: Page, b: Page, name: string): Promise<void> {
  for (const p of [a, b]) {
    await p
      .evaluate(async (name) => {
        const h = (globalThis as unknown as MigratePageGlobals).hyperlab!;
        for (const d of h.domains()) if (d.name.startsWith(name)) await h.destroy(d.id);
      }, name)
      .catch(() => {});
  }
}

/** The JSON's `migrate` part: every guest (Linux unless `linux` is false) between two tabs of one context. */
export async function measureMigrateBrowser(
  browser: Browser,
  url: string,
  runs: number,
  log: (line: string) => void,
  o: { linux: boolean; viewport: { width: number; height: number } },
): Promise<Record<string, unknown>> {
  const context = await browser.newContext({ viewport: o.viewport });
  try {
    const a = await openTab(context, `${url}?boot=`);
    const b = await openTab(context, `${url}?boot=`);
    const guests: Record<string, unknown> = {};
    for (const g of BROWSER_MIGRATE_GUESTS) {
      if (g.shell === 'linux' && !o.linux) continue;
      try {
        guests[g.preset] = await measureGuest(a, b, g, runs, log);
      } catch (e) {
        const error = e instanceof Error ? e.message.split('\n')[0]! : String(e);
        log(`migrate in Chromium, ${g.preset}: ${error}`);
        guests[g.preset] = { error };
      }
    }
    return {
      transport: 'BroadcastChannel between two tabs of one browser context (src/web/worker/migrateBroadcast.ts)',
      runs,
      migrationsPerRun: 2,
      guests,
    };
  } finally {
    await context.close();
  }
}
