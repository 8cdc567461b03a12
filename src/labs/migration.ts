/**
 * Lab 10: live migration. An idle guest and a write-heavy one (the teaching OS's `dirty`)
 * migrated with `xl migrate NAME localhost` (Xen's single-host test: the receiver runs in
 * the same host); the pre-copy rounds from xl's log, the downtime, and the two domains
 * NAME--incoming and NAME--migratedaway seen during the move.
 */
import { command, sleep, teachingOs, TOS_PROMPT_LINE, type, waitUntil } from './guest';
import type { LabApi, LabDefinition, LabReport } from './types';

const IDLE = 'mig-idle';
const BUSY = 'mig-busy';
/** Xen's simple_precopy_policy stops when fewer pages than this are dirty (docs/migration.md). */
const THRESHOLD = 50;

interface Move {
  rounds: number;
  /** Pages dirty after each pre-copy round. */
  dirtied: number[];
  /** Why pre-copy stopped (the last round's decision). */
  reason: string;
  stopPages: number;
  downtimeMs: number;
  totalMs: number;
  /** Names seen in the domain list during the move. */
  names: Set<string>;
  newId: number;
}

/** `xl migrate NAME localhost`, watching the domain list while it runs. */
async function migrate(api: LabApi, id: number, name: string, report: LabReport): Promise<Move> {
  const names = new Set<string>();
  let done = false;
  const move = api.xl(`migrate ${name} localhost`).finally(() => (done = true));
  while (!done) {
    for (const d of api.domains()) if (d.name.startsWith(`${name}--`)) names.add(d.name);
    await sleep(20);
  }
  const out = await move;
  // The list is polled and the names last only around the handover; xl's lines name them too.
  for (const m of out.matchAll(/\((\S+--incoming)\) built|is (\S+--migratedaway) until/g)) names.add(m[1] ?? m[2]!);
  const summary = /Migrated domain \d+ \(\S+\) to localhost: (\d+) rounds, .* in (\d+) ms, downtime ([\d.]+) ms/.exec(out);
  if (!summary) throw new Error(`xl migrate ${name} localhost: ${out.trim().split('\n').pop() ?? 'no output'}`);
  const rounds = [...out.matchAll(/Savedata: round (\d+): .*; (\d+) dirtied; ([\w-]+): (.*)/g)];
  const stop = /Savedata: stop-and-copy: (\d+) pages/.exec(out);
  for (const line of out.split('\n')) if (line.startsWith('Savedata:')) report.step(line.trim());
  // The page's list may still show the source's copy for a moment: the target's has a new domid.
  const newId = await waitUntil(`${name} at the target`, 30_000, () => api.domains().find((d) => d.name === name && d.id !== id)?.id);
  return {
    rounds: Number(summary[1]),
    dirtied: rounds.map((m) => Number(m[2])),
    reason: rounds.at(-1)?.[4]?.trim() ?? '',
    stopPages: Number(stop?.[1] ?? 0),
    downtimeMs: Number(summary[3]),
    totalMs: Number(summary[2]),
    names,
    newId,
  };
}

export const migration: LabDefinition = {
  id: 'migration',
  number: '10',
  title: 'Live migration: pre-copy, and the guest that writes too fast',
  topic: 'live migration',
  minutes: 12,
  goal: 'Pre-copy sends memory while the guest runs and re-sends what it dirtied; a guest that dirties its working set faster than it can be sent is stopped with that set still dirty, and pays for it in downtime.',
  context: `Live migration (Clark et al., "Live Migration of Virtual Machines", NSDI 2005) moves a running domain by **pre-copy**: log-dirty mode on, send every page (round 0) while the guest runs, then send again the pages it dirtied meanwhile, round after round, until little is left; then pause it (**stop-and-copy**), send the last dirty pages and the vCPU and device state, and start it at the target. The pause is the **downtime**.

Xen's sender (\`tools/libs/guest/xg_sr_save.c\`, \`simple_precopy_policy\`) stops pre-copy when fewer than ${THRESHOLD} pages are dirty after a round, or after 5 rounds whatever is left: a guest that writes faster than the link can send never gets below the threshold, and more rounds would only send the same pages again. hyperlab's sender (docs/migration.md) follows Xen's two rules, and also stops when what is left would take under 30 ms at the measured rate (QEMU's downtime limit). The log names the rule that fired.

During the move both ends hold the domain: the target builds **NAME--incoming**, the source renames its copy **NAME--migratedaway** once the target has it, and destroys it after the handover (xl's names). Here two pv teaching OS domains (32 MiB) are migrated with \`xl migrate NAME localhost\`: Xen's single-host test, where the receiver is the same host. **${IDLE}** sits at its prompt; **${BUSY}** runs \`dirty PAGES 120\`, writing a word in each of PAGES pages over and over.`,
  prediction: {
    kind: 'choice',
    question: `The busy guest rewrites 4000 pages (16 MiB) all the time. How does its pre-copy end?`,
    options: [
      { id: 'converges', label: `Pre-copy catches up: under ${THRESHOLD} dirty pages are left, as for the idle guest, and the pause is as short` },
      { id: 'gives-up', label: 'Pre-copy gives up: the guest is paused with its working set still dirty, and the pause is longer' },
    ],
  },
  params: [{ id: 'pages', label: 'Pages the busy guest rewrites', kind: 'number', default: 4000, min: 1, max: 4000, step: 1, unit: 'pages of 4 KiB' }],
  instrument: 'domains',
  async run(api, params, report) {
    const pages = Number(params['pages']);
    // A previous run's migrated domains have new domids: find them by name.
    for (const d of api.domains())
      if (d.name === IDLE || d.name === BUSY || d.name.startsWith(`${IDLE}--`) || d.name.startsWith(`${BUSY}--`)) await api.destroy(d.id).catch(() => {});
    report.step('creating two pv domains of the teaching OS');
    const idle = await teachingOs(api, 'pv', IDLE, [], 32);
    const busy = await teachingOs(api, 'pv', BUSY, [], 32);
    report.domains([idle, busy]);
    report.show('domains');
    report.step(`xl migrate ${IDLE} localhost`);
    const a = await migrate(api, idle, IDLE, report);
    report.measure('idleRounds', a.rounds);
    report.step(`${BUSY}: dirty ${pages} 120`);
    await type(api, busy, `dirty ${pages} 120`);
    await waitUntil(`${BUSY} to start writing`, 30_000, () => (/dirty: writing \d+ pages/.test(api.consoleText(busy)) ? true : undefined));
    // Let it run a moment, so its working set is dirty when round 0 starts.
    await sleep(500);
    report.step(`xl migrate ${BUSY} localhost`);
    const b = await migrate(api, busy, BUSY, report);
    report.measure('busyRounds', b.rounds);
    report.domains([a.newId, b.newId]);
    // It runs on at the target: stop its loop (Ctrl-C) and read how long it wrote.
    const out = await command(api, b.newId, '\x03', TOS_PROMPT_LINE, 60_000, '');
    const sweeps = Number(/timing: dirty: (\d+) sweeps/.exec(out)?.[1] ?? 0);
    const names = [...a.names, ...b.names];
    return {
      idleRounds: a.rounds,
      idleReason: a.reason,
      idleStopPages: a.stopPages,
      idleDowntime: a.downtimeMs,
      busyRounds: b.rounds,
      busyDirtied: b.dirtied.join(', '),
      busyReason: b.reason,
      busyStopPages: b.stopPages,
      busyDowntime: b.downtimeMs,
      incoming: names.filter((n) => n.endsWith('--incoming')).join(', '),
      migratedaway: names.filter((n) => n.endsWith('--migratedaway')).join(', '),
      sweeps,
      pages,
    };
  },
  observe: [
    { key: 'idleRounds', label: `${IDLE}: rounds (pre-copy and stop-and-copy)` },
    { key: 'idleReason', label: `${IDLE}: pre-copy stopped because` },
    { key: 'idleStopPages', label: `${IDLE}: pages sent while paused` },
    { key: 'idleDowntime', label: `${IDLE}: downtime`, unit: 'ms', digits: 0 },
    { key: 'busyRounds', label: `${BUSY}: rounds` },
    { key: 'busyDirtied', label: `${BUSY}: pages dirty after each round` },
    { key: 'busyReason', label: `${BUSY}: pre-copy stopped because` },
    { key: 'busyStopPages', label: `${BUSY}: pages sent while paused` },
    { key: 'busyDowntime', label: `${BUSY}: downtime`, unit: 'ms', digits: 0 },
    { key: 'incoming', label: 'the target’s copy during the moves (xl’s log and the domain list)' },
    { key: 'migratedaway', label: 'the source’s copy during the moves (xl’s log and the domain list)' },
    { key: 'sweeps', label: `${BUSY}: sweeps over its pages, before and after the move` },
  ],
  answer: (obs) => (Number(obs['busyStopPages']) < THRESHOLD + 20 ? 'converges' : 'gives-up'),
  checks(obs) {
    const pages = Number(obs['pages']);
    const checks = [
      {
        label: `the idle guest converges: under ${THRESHOLD} pages dirty, in at most 3 rounds`,
        ok: /dirty pages < /.test(String(obs['idleReason'])) && Number(obs['idleRounds']) <= 3,
      },
      { label: 'the busy guest runs on at the target (its loop went on sweeping)', ok: Number(obs['sweeps']) > 0 },
      {
        label: `both moves had the two copies: ${IDLE}--incoming and ${BUSY}--incoming, ${IDLE}--migratedaway and ${BUSY}--migratedaway`,
        ok: [IDLE, BUSY].every(
          (n) => String(obs['incoming']).split(', ').includes(`${n}--incoming`) && String(obs['migratedaway']).split(', ').includes(`${n}--migratedaway`),
        ),
      },
    ];
    if (pages >= 10 * THRESHOLD) {
      checks.push({
        label: 'the busy guest is paused with most of its working set still dirty',
        ok: Number(obs['busyStopPages']) >= pages / 2 && Number(obs['busyStopPages']) > 10 * Number(obs['idleStopPages']),
      });
      checks.push({ label: 'pre-copy gave up at Xen’s limit of 5 rounds', ok: /\b5 rounds = the limit/.test(String(obs['busyReason'])) });
      checks.push({ label: 'so its downtime is longer than the idle guest’s', ok: Number(obs['busyDowntime']) > Number(obs['idleDowntime']) });
    }
    return checks;
  },
  explain: `The idle guest dirtied a handful of pages (its timer tick, stack, console ring) during round 0, fewer than ${THRESHOLD}: pre-copy stopped, and the pause only had those few pages and the vCPU state to send. Its downtime is mostly the target building the domain.

The busy guest writes every one of its pages in a few milliseconds, so after any round its whole working set is dirty again: sending it once more does not make the rest smaller. Pre-copy sends the same 16 MiB round after round until Xen's limit of 5 rounds, then gives up: the guest is **stopped anyway** and its working set goes during the pause: the downtime grows with the writable working set, which is why Clark et al. measure a "writable working set" and why post-copy migration (send the state first, fetch pages on demand) exists.

During each move both copies exist: \`NAME--incoming\` at the target from the end of the stream until the source hands over, \`NAME--migratedaway\` at the source from the handover until it destroys its copy. On the same host these are short (the target is built and started within the downtime), so the domain table, which the page refreshes about ten times a second, may show them or not; xl's log names both ("domain N (NAME--incoming) built", "domain N is NAME--migratedaway until the target reports"), and the rows above list them. Between two tabs, the Migration panel's view names them for each migration. The two guests stopped differently (docs/migration.md, "Cooperative suspend first"): the idle one, at its prompt, answered xl's \`control/shutdown = "suspend"\` and suspended itself (\`SCHEDOP_shutdown(SHUTDOWN_suspend)\`; its console says \`control: resumed in a new domain\` at the target, where it reconnected its devices); the busy one was inside \`dirty\` and did not answer within the bound, so xl paused it without its help, and its \`dirty\` loop ran on at the target as if nothing had happened, until the lab's Ctrl-C there.`,
  tryNext: `Give the busy guest 30 pages: it writes just as often, but its working set is under the threshold, so pre-copy converges as for the idle guest. Then 400: watch the pages dirty after each round and which rule stops pre-copy.`,
};
