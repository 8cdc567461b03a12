/**
 * Lab 2: the credit scheduler, as two labs: weights on one pCPU (with pinning as the
 * variation), and a cap on an otherwise idle host. Both burn CPU with the teaching OS's
 * `burn` and read the CPU time the scheduler charged (xentop's CPU(sec)).
 */
import { sleep, teachingOs, type } from './guest';
import type { LabApi, LabDefinition, LabReport } from './types';

/** Long enough to outlast any measurement: the domains are paused at the end. */
const BURN = 'burn 4000'; // the most the teaching OS takes: minutes of work

/** The share of a pCPU (%) each domain gets over `ms`, after a second of warm-up; live shares on the way. */
async function cpuOver(api: LabApi, ids: readonly number[], ms: number, report: LabReport, keys: readonly string[]): Promise<number[]> {
  await sleep(1000);
  const start = ids.map((id) => api.stats(id).cpuNs);
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    await sleep(500);
    const dt = Date.now() - t0;
    ids.forEach((id, i) => report.measure(keys[i]!, ((api.stats(id).cpuNs - start[i]!) / 1e6 / dt) * 100));
  }
  const dt = Date.now() - t0;
  return ids.map((id, i) => ((api.stats(id).cpuNs - start[i]!) / 1e6 / dt) * 100);
}

async function pauseAll(api: LabApi, ids: readonly number[], report: LabReport): Promise<void> {
  report.step('pausing the domains (so they stop using your CPU; the lanes keep the last 10 s)');
  for (const id of ids) await api.pause(id);
}

export const creditWeights: LabDefinition = {
  id: 'credit-weights',
  number: '2a',
  title: 'The credit scheduler: weights on one pCPU',
  topic: 'scheduling',
  minutes: 10,
  goal: 'Weights divide a contended host in proportion; they are shares of the host, not speeds.',
  context: `Xen's credit scheduler (the default for a decade; \`xen/common/sched/credit.c\`, and the Xen wiki page "Credit Scheduler") gives every domain a **weight** (default 256) and an optional **cap**. Every 30 ms accounting period, the credit of all the host's pCPUs (300 each) is handed out to the active domains in proportion to their weights; a running vCPU burns 10 credits a millisecond, and vCPUs with credit left (UNDER) run before those in debt (OVER).

Weights are relative: they only matter when the host has less CPU than the domains want. This lab runs on a host with **one pCPU**. Two domains of the teaching OS run \`${BURN}\` (endless arithmetic); domain A gets weight 512, domain B weight 256 (\`xl sched-credit -d ID -w W\`).

The scheduler lanes show which vCPU ran on the pCPU, slice by slice.`,
  prediction: {
    kind: 'number',
    question: "Over a few seconds, what will be the ratio of A's CPU time to B's?",
    unit: 'A / B',
    min: 0,
    max: 100,
    tolerance: 0.25,
    absolute: 0.3,
  },
  params: [
    { id: 'weightA', label: 'Weight of A', kind: 'number', default: 512, min: 1, max: 65535, step: 1 },
    { id: 'weightB', label: 'Weight of B', kind: 'number', default: 256, min: 1, max: 65535, step: 1 },
  ],
  host: { pcpus: 1 },
  instrument: 'scheduler',
  async run(api, params, report) {
    report.step('creating domains A and B (teaching OS, pv)');
    const a = await teachingOs(api, 'pv', 'credit-A');
    const b = await teachingOs(api, 'pv', 'credit-B');
    report.domains([a, b]);
    report.show('scheduler');
    report.step(`weights ${params['weightA']} and ${params['weightB']}`);
    await api.setSchedParams(a, { weight: Number(params['weightA']), cap: 0 });
    await api.setSchedParams(b, { weight: Number(params['weightB']), cap: 0 });
    report.step(`${BURN} in both; measuring their CPU time for 4 s`);
    await type(api, a, BURN);
    await type(api, b, BURN);
    const [pctA, pctB] = await cpuOver(api, [a, b], 4000, report, ['pctA', 'pctB']);
    await pauseAll(api, [a, b], report);
    return { pctA: pctA!, pctB: pctB!, ratio: pctA! / Math.max(1e-3, pctB!) };
  },
  observe: [
    { key: 'pctA', label: 'A: CPU', unit: '% of the pCPU', digits: 0 },
    { key: 'pctB', label: 'B: CPU', unit: '% of the pCPU', digits: 0 },
    { key: 'ratio', label: 'A / B', digits: 2 },
  ],
  answer: (obs) => Math.round(Number(obs['ratio']) * 100) / 100,
  checks(obs, params) {
    const ratio = Number(obs['ratio']);
    const want = Number(params['weightA']) / Number(params['weightB']);
    // Shares, not absolute percentages: on a busy machine the pCPU's worker does not get a whole core.
    return [{ label: `A / B follows the weights (${want.toFixed(2)}, within 35 %)`, ok: Math.abs(ratio - want) <= want * 0.35 }];
  },
  explain: `Both vCPUs always have work and there is one pCPU, so the scheduler must divide it. Each accounting period A is given twice B's credit (512 : 256, 200 and 100 of the pCPU's 300); both burn credit at the same rate while they run, so B goes OVER after half as much running as A: **A gets two thirds of the pCPU, B one third**, a ratio of 2. The lanes show A's slices twice as often as B's.

The weight is a share of the **whole host**: credit1 hands out the credit of every pCPU. On a host with two pCPUs there is 600 credit a period for the two domains, more than one pCPU can burn: both stay UNDER, take turns, and get 1 : 1 even if both are pinned to the same pCPU (Xen's credit1 behaves the same; credit2 accounts per runqueue).`,
  tryNext: `Try weights 256 : 256, or 1000 : 100. Then open the pinning lab, which runs on two pCPUs.`,
};

export const creditPinning: LabDefinition = {
  id: 'credit-pinning',
  number: '2c',
  title: 'The credit scheduler: pinning on two pCPUs',
  topic: 'scheduling',
  minutes: 6,
  goal: 'Pinning (hard affinity) is obeyed even when it leaves a pCPU idle while work waits.',
  context: `\`xl vcpu-pin DOMAIN VCPU CPUS\` sets a vCPU's **hard affinity**: the pCPUs it may run on (the \`xl\` manual; \`xen/common/sched/core.c\` keeps it as \`cpu_hard_affinity\`). Administrators pin to keep a guest's cache warm, to keep latency-critical guests apart, or to leave pCPUs to Domain-0.

This lab runs on a host with **two pCPUs**. Two domains of the teaching OS run \`${BURN}\` (endless arithmetic). Unpinned, each could have a pCPU to itself. The lab pins **both** to pCPU 0.`,
  prediction: {
    kind: 'number',
    question: 'Both busy domains are pinned to pCPU 0 of a two-pCPU host. What share of a pCPU will each get?',
    unit: '% of a pCPU',
    min: 0,
    max: 200,
    tolerance: 0.2,
    absolute: 8,
  },
  params: [
    {
      id: 'placement',
      label: 'Pinning',
      kind: 'choice',
      default: 'same',
      options: [
        { value: 'same', label: 'both on pCPU 0' },
        { value: 'apart', label: 'A on pCPU 0, B on pCPU 1' },
        { value: 'all', label: 'not pinned (any pCPU)' },
      ],
    },
  ],
  host: { pcpus: 2 },
  instrument: 'scheduler',
  async run(api, params, report) {
    const placement = String(params['placement']);
    report.step('creating domains A and B (teaching OS, pv)');
    const a = await teachingOs(api, 'pv', 'pin-A');
    const b = await teachingOs(api, 'pv', 'pin-B');
    report.domains([a, b]);
    report.show('scheduler');
    const cpuA = placement === 'all' ? 'all' : '0';
    const cpuB = placement === 'all' ? 'all' : placement === 'apart' ? '1' : '0';
    report.step(`xl vcpu-pin ${a} 0 ${cpuA}; xl vcpu-pin ${b} 0 ${cpuB}`);
    await api.pinVcpu(a, 0, cpuA);
    await api.pinVcpu(b, 0, cpuB);
    report.step(`${BURN} in both; measuring their CPU time for 4 s`);
    await type(api, a, BURN);
    await type(api, b, BURN);
    const t0 = api.slices().nowMs;
    const [pctA, pctB] = await cpuOver(api, [a, b], 4000, report, ['pctA', 'pctB']);
    // Which pCPUs their slices ran on, from the scheduler's trace.
    const ran = (id: number): string =>
      [
        ...new Set(
          api
            .slices()
            .slices.filter((s) => s.domid === id && s.startNs / 1e6 >= t0)
            .map((s) => s.pcpu),
        ),
      ]
        .sort()
        .join(', ');
    const onA = ran(a),
      onB = ran(b);
    await pauseAll(api, [a, b], report);
    return { pctA: pctA!, pctB: pctB!, each: (pctA! + pctB!) / 2, onA, onB, placement };
  },
  observe: [
    { key: 'pctA', label: 'A: CPU', unit: '% of a pCPU', digits: 0 },
    { key: 'pctB', label: 'B: CPU', unit: '% of a pCPU', digits: 0 },
    { key: 'onA', label: 'A ran on pCPU' },
    { key: 'onB', label: 'B ran on pCPU' },
  ],
  answer: (obs) => Math.round(Number(obs['each'])),
  checks(obs) {
    const a = Number(obs['pctA']),
      b = Number(obs['pctB']);
    if (obs['placement'] === 'same')
      return [
        { label: 'both ran only on pCPU 0, none on pCPU 1', ok: obs['onA'] === '0' && obs['onB'] === '0' },
        { label: 'so they share it: each gets 35 to 65 % of what the two got', ok: a / (a + b) >= 0.35 && a / (a + b) <= 0.65 },
        { label: 'together at most one pCPU (at most 110 %)', ok: a + b <= 110 },
      ];
    return [
      ...(obs['placement'] === 'apart' ? [{ label: 'A ran on pCPU 0 only, B on pCPU 1 only', ok: obs['onA'] === '0' && obs['onB'] === '1' }] : []),
      { label: 'each has most of a pCPU (over 60 %)', ok: a > 60 && b > 60 },
    ];
  },
  explain: `Each gets **about 50 %**, and pCPU 1 stays idle the whole time: the lanes show both domains' slices alternating on pCPU 0 and nothing on pCPU 1. Hard affinity is a constraint, not a hint; the scheduler never runs a vCPU outside it, even to use an idle pCPU (Xen's soft affinity, \`xl vcpu-pin ... SOFT\`, is the hint).

This is why pinning is a tool to use with care: it trades throughput for placement.`,
  tryNext: `Pin them apart (A on pCPU 0, B on pCPU 1), or leave them unpinned: each then gets nearly a whole pCPU.`,
};

export const creditCap: LabDefinition = {
  id: 'credit-cap',
  number: '2b',
  title: 'The credit scheduler: a cap on an idle host',
  topic: 'scheduling',
  minutes: 6,
  goal: 'A cap is a ceiling that holds even when the CPU would otherwise be idle (the scheduler is not work-conserving for a capped domain).',
  context: `Besides its weight, a domain may have a **cap**: the most CPU it may use, in percent of one pCPU (\`xl sched-credit -d ID -c 25\`; 0 means no cap). Xen's credit scheduler enforces it by **parking** a capped domain whose credits run out, until the next accounting period hands out more (\`csched_acct\` in \`xen/common/sched/credit.c\`; the Xen wiki's "Credit Scheduler" page).

Weights are **work-conserving**: a domain alone on the host gets all the CPU it wants whatever its weight. Is a cap? Here one domain of the teaching OS runs \`${BURN}\` with a cap, and nothing else on the host wants the CPU.`,
  prediction: {
    kind: 'number',
    question: 'With cap 25 and an otherwise idle host, what share of a pCPU will the busy domain get?',
    unit: '% of a pCPU',
    min: 0,
    max: 400,
    tolerance: 0.3,
    absolute: 8,
  },
  params: [{ id: 'cap', label: 'Cap', kind: 'number', default: 25, min: 0, max: 100, step: 1, unit: '% (0: none)' }],
  instrument: 'scheduler',
  async run(api, params, report) {
    const cap = Number(params['cap']);
    report.step('creating a domain of the teaching OS (pv)');
    const d = await teachingOs(api, 'pv', 'capped');
    report.domains([d]);
    report.show('scheduler');
    report.step(`cap ${cap}; ${BURN}; measuring its CPU time for 4 s`);
    await api.setSchedParams(d, { cap });
    await type(api, d, BURN);
    const [pct] = await cpuOver(api, [d], 4000, report, ['pct']);
    await pauseAll(api, [d], report);
    return { pct: pct!, cap };
  },
  observe: [
    { key: 'pct', label: 'CPU of the busy domain', unit: '% of a pCPU', digits: 0 },
    { key: 'cap', label: 'its cap', unit: '%' },
  ],
  answer: (obs) => Math.round(Number(obs['pct'])),
  checks(obs) {
    const pct = Number(obs['pct']),
      cap = Number(obs['cap']);
    if (cap === 0) return [{ label: 'without a cap it takes (nearly) a whole pCPU: over 60 %', ok: pct > 60 }];
    return [
      { label: `it stays at or under its cap (${cap} %, with 5 points for the measuring window)`, ok: pct <= cap + 5 },
      { label: 'it still runs: at least half its cap', ok: pct >= cap / 2 },
    ];
  },
  explain: `The domain gets its cap, **about 25 %**, even though the rest of the pCPU sits idle. Each accounting period gives it credits worth 25 % of a pCPU; once it has burned them the scheduler parks it and runs nothing (the lanes show gaps) until the next period. A cap is for predictable service and for billing: a customer gets what they pay for, not more.

This is the difference from weights, which only divide contended time: a capped domain can be held back with the CPU idle.`,
  tryNext: `Set the cap to 50, 90 or 0 (no cap) and run again; watch how long the gaps are in the lanes.`,
};
