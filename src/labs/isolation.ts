/**
 * Lab 12: isolation. Two hostile guests throw random grant-table, memory and balloon
 * hypercalls at the hypervisor and at each other, aiming at a victim; the victim's
 * canary pages must not change and the hypervisor must go on. The same experiment, longer,
 * is src/node/isolation/fuzz.test.ts.
 */
import { hostile, hostileCommand, exitCount } from './guest';
import type { LabDefinition } from './types';

const RAM = 0x80000; // guest frame of 0x80000000
const CANARY = RAM + 0x40;
const PAGES = 0x780; // all of the victim's RAM but its image and special pages

export const isolation: LabDefinition = {
  id: 'isolation',
  number: '12',
  title: 'Isolation: hostile guests and a victim',
  topic: 'security',
  minutes: 8,
  goal: 'Every guest-supplied reference (grant, frame, port) is checked; a hostile guest can hurt only itself.',
  context: `A hypervisor's first duty is isolation: whatever a guest passes in a hypercall, no other domain's memory may change. Xen's security process (xenbits.xen.org/xsa) publishes the cases where that failed: most XSAs are a hypercall argument that was trusted, a grant reference out of range, a frame freed while still mapped.

hyperlab's **hostile guest** (\`guests/hostile\`) runs \`fuzz\`: thousands of random grant-table operations (grant, map, copy, unmap, end access, transfer), balloon-outs and balloon-ins, with random references, frame numbers and domain ids, aimed at a peer and at a victim. Two of them run at once. The **victim** first fills ${PAGES} pages (${(PAGES * 4) / 1024} MiB: all of its free RAM) with the canary byte 0x5a, then checks them when the attack is over.

The memory map shows who owns each machine frame while it runs.`,
  prediction: {
    kind: 'number',
    question: `How many of the victim's ${PAGES * 4096} canary bytes will have changed after the attack?`,
    unit: 'bytes',
    min: 0,
    max: PAGES * 4096,
    tolerance: 0,
  },
  params: [{ id: 'seconds', label: 'Length of the attack', kind: 'number', default: 3, min: 1, max: 30, step: 1, unit: 's' }],
  instrument: 'memory',
  async run(api, params, report) {
    const ms = Number(params['seconds']) * 1000;
    report.step('creating the victim and filling its canary pages with 0x5a');
    const victim = await hostile(api, 'victim');
    const fill = await hostileCommand(api, victim, `fill ${CANARY} ${PAGES} 0x5a`);
    if (fill.result !== 'ok') throw new Error(`the victim's fill failed: ${fill.line}`);
    report.step('creating two hostile guests');
    const a = await hostile(api, 'hostile-1');
    const b = await hostile(api, 'hostile-2');
    report.domains([victim, a, b]);
    report.show('memory');
    const callsBefore = exitCount(api.stats(a).exits, 'hypercall') + exitCount(api.stats(b).exits, 'hypercall');
    report.step(`fuzz for ${ms / 1000} s in both, aimed at each other and at the victim (domain ${victim})`);
    const seed = Math.floor(Math.random() * 1e6);
    const fuzz = (id: number, peer: number, s: number) =>
      hostileCommand(api, id, `fuzz ${s} 1000000 ${ms} ${RAM + 0x200} ${RAM + 2048} ${peer} ${victim}`, ms + 60_000);
    const [fa, fb] = await Promise.all([fuzz(a, b, seed), fuzz(b, a, seed + 7919)]);
    const ops = Number(fa.fields['ops'] ?? 0) + Number(fb.fields['ops'] ?? 0);
    report.measure('ops', ops);
    const calls = exitCount(api.stats(a).exits, 'hypercall') + exitCount(api.stats(b).exits, 'hypercall') - callsBefore;
    report.step('the victim checks its canaries');
    const check = await hostileCommand(api, victim, `check ${CANARY} ${PAGES} 0x5a`, 60_000);
    const state = (id: number): string => api.domains().find((d) => d.id === id)?.state ?? 'gone';
    return {
      ops,
      maps: Number(fa.fields['maps'] ?? 0) + Number(fb.fields['maps'] ?? 0),
      copies: Number(fa.fields['copies'] ?? 0) + Number(fb.fields['copies'] ?? 0),
      calls,
      changed: Number(check.fields['bad']),
      victim: state(victim),
      hypervisor: api.host() !== null && check.result === 'ok' ? 'running' : 'gone',
      seed,
    };
  },
  observe: [
    { key: 'ops', label: 'grant operations tried' },
    { key: 'maps', label: 'of which maps that succeeded' },
    { key: 'copies', label: 'and copies that succeeded' },
    { key: 'calls', label: 'hypercalls of the two hostile guests' },
    { key: 'changed', label: 'canary bytes changed', unit: 'bytes' },
    { key: 'victim', label: 'the victim afterwards' },
    { key: 'hypervisor', label: 'the hypervisor' },
    { key: 'seed', label: 'random seed' },
  ],
  answer: (obs) => Number(obs['changed']),
  checks: (obs) => [
    { label: 'the attack ran: over 1000 grant operations', ok: Number(obs['ops']) > 1000 },
    { label: 'not one canary byte changed', ok: Number(obs['changed']) === 0 },
    { label: 'the victim still runs', ok: obs['victim'] !== 'crashed' && obs['victim'] !== 'gone' },
    { label: 'the hypervisor still runs', ok: obs['hypervisor'] === 'running' },
  ],
  explain: `**Zero.** Every operation the hostile guests made named things by numbers: grant references, frame numbers, domain ids, handles. The hypervisor checks each against the caller's own tables before it acts: a grant reference must be inside the granter's table and its entry must name the caller; a frame must belong to the domain that names it; a mapping handle must be the caller's. Maps and copies between the two hostile guests succeed (they grant each other pages on purpose); anything aimed at the victim without a grant from it fails with a GNTST error, and the guest that asked carries on.

The victim never granted anything, so nothing can reach its pages. This is the property the isolation tests (\`src/node/isolation/\`) check for 10 million instructions with the memory of every domain compared byte for byte.`,
  tryNext: `Make the attack longer (10 or 30 s) and watch the memory map: frames move between the hostile guests as they balloon out and back in, the victim's stay put.`,
};
