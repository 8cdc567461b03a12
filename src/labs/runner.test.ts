import { describe, expect, it } from 'vitest';
import { FakeHyperlab, type FakeDomain } from './fakeApi';
import { LABS, labById } from './index';
import { checkGuess, checkParams, defaultParams, DomainTracker, matches, runLab } from './runner';
import { trapAndEmulate } from './trap-and-emulate';
import type { LabDefinition, LabReport } from './types';

function recorder(): LabReport & { steps: string[]; shown: string[]; measured: Record<string, unknown> } {
  const r = {
    steps: [] as string[],
    shown: [] as string[],
    measured: {} as Record<string, unknown>,
    step: (t: string) => void r.steps.push(t),
    show: (i: string, domid?: number) => void r.shown.push(domid === undefined ? i : `${i}:${domid}`),
    measure: (k: string, v: unknown) => void (r.measured[k] = v),
    domains: () => {},
  };
  return r;
}

/** The teaching OS's `write N` as the two kinds of guest take it: per byte on the UART (hvm), per 512-byte flush on the ring (pv). */
function writeScript(hvmExitsPerByte: number) {
  return (line: string, d: FakeDomain): string | undefined => {
    const m = /^write (\d+)$/.exec(line);
    if (!m) return `${d.name}$ `;
    const n = Number(m[1]);
    const exits = { ...d.stats.exits };
    if (d.type === 'hvm') exits['mmio:uart0'] = (exits['mmio:uart0'] ?? 0) + n * hvmExitsPerByte;
    else exits['hypercall:event_channel_op'] = (exits['hypercall:event_channel_op'] ?? 0) + Math.ceil(n / 512);
    d.stats = { ...d.stats, exits };
    return `timing: write ${n} bytes in 0.1 s\n${d.name}$ `;
  };
}

describe('lab runner', () => {
  const lab = trapAndEmulate;

  it('checks parameters and guesses against their specs, in one line', () => {
    expect(defaultParams(lab)).toEqual({ kib: 16 });
    expect(checkParams(lab, { kib: '64' })).toEqual({ kib: 64 });
    expect(() => checkParams(lab, { kib: '0' })).toThrow('Output per guest: 0 is not a number from 1 to 256');
    expect(() => checkParams(lab, { kib: 'lots' })).toThrow('is not a number');
    expect(() => checkParams(lab, { kib: 2.5 })).toThrow('is not a whole number');
    const grants = labById('grant-tables')!;
    expect(() => checkParams(grants, { grant: 'wx' })).toThrow('A grants: wx is not one of ro, rw');
    expect(checkGuess(lab.prediction, '2048')).toBe(2048);
    expect(() => checkGuess(lab.prediction, '')).toThrow('a number from 0 to');
    expect(() => checkGuess(grants.prediction, 'maybe')).toThrow('choose one');
    expect(checkGuess(grants.prediction, 'fault')).toBe('fault');
  });

  it('judges numbers within the tolerance (relative or absolute, the wider) and choices exactly', () => {
    expect(matches(lab.prediction, 1500, 2048)).toBe(true); // 50 %
    expect(matches(lab.prediction, 900, 2048)).toBe(false);
    const cap = labById('credit-cap')!.prediction;
    expect(matches(cap, 30, 25)).toBe(true); // 8 points absolute beats 30 % of 25
    expect(matches(cap, 40, 25)).toBe(false);
    expect(matches(labById('grant-tables')!.prediction, 'fault', 'fault')).toBe(true);
    expect(matches(labById('grant-tables')!.prediction, 'lands', 'fault')).toBe(false);
  });

  it('runs trap-and-emulate against a fake: the answer, the checks, the steps and the instrument', async () => {
    const fake = new FakeHyperlab(writeScript(2));
    const report = recorder();
    const out = await runLab(lab, fake.api(), defaultParams(lab), 2000, report, new DomainTracker());
    expect(out.observation['pvPerKiB']).toBe(2);
    expect(out.answer).toBe(2048);
    expect(out.correct).toBe(true);
    expect(out.consistent).toBe(true);
    expect(out.checks.length).toBe(4);
    expect(report.shown).toEqual(['graphs']);
    expect(report.steps[0]).toMatch(/creating a pv and an hvm domain/);
    expect(fake.domains.size).toBe(2);
  });

  it('a hypervisor that broke the lesson fails its checks (the e2e tests assert them)', async () => {
    const fake = new FakeHyperlab(writeScript(0.25)); // a UART that batches: not trap-and-emulate any more
    const out = await runLab(lab, fake.api(), defaultParams(lab), 2048, recorder(), new DomainTracker());
    expect(out.correct).toBe(false);
    expect(out.consistent).toBe(false);
    expect(out.checks.filter((c) => !c.ok).map((c) => c.label)).toContain('the hvm guest exits at least once per byte it prints (1024 per KiB)');
  });

  it('destroys the domains of the last run before the next, and only those still there', async () => {
    const fake = new FakeHyperlab(writeScript(2));
    const api = fake.api();
    const other = await api.create({ config: 'name = "mine"' });
    const tracker = new DomainTracker();
    await runLab(lab, api, defaultParams(lab), 1, recorder(), tracker);
    const first = [...tracker.created];
    expect(first).toHaveLength(2);
    await api.destroy(first[0]!); // the student destroyed one by hand
    await runLab(lab, api, defaultParams(lab), 1, recorder(), tracker);
    expect(fake.destroyed).toEqual([first[0], first[1]]);
    expect(fake.domains.has(other)).toBe(true);
    expect(tracker.created).toHaveLength(2);
  });

  it("rejects with the lab's error and keeps its domains tracked for the next clean-up", async () => {
    const failing: LabDefinition = {
      ...lab,
      async run(api) {
        await api.create({ config: 'name = "half"' });
        throw new Error('the guest did not answer');
      },
    };
    const fake = new FakeHyperlab(() => undefined);
    const tracker = new DomainTracker();
    await expect(runLab(failing, fake.api(), {}, 1, recorder(), tracker)).rejects.toThrow('the guest did not answer');
    expect(tracker.created).toEqual([1]);
    await tracker.clear(fake.api());
    expect(fake.destroyed).toEqual([1]);
  });
});

describe('the labs', () => {
  it('are well formed: ids, times, texts, predictions, parameters, observations', () => {
    const ids = new Set<string>();
    for (const l of LABS) {
      expect(l.id, l.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(ids.has(l.id), `${l.id} twice`).toBe(false);
      ids.add(l.id);
      expect(l.minutes, l.id).toBeGreaterThanOrEqual(5);
      expect(l.minutes, l.id).toBeLessThanOrEqual(15);
      expect(l.context.split('\n\n').length, `${l.id}: a few paragraphs`).toBeGreaterThanOrEqual(2);
      // Every context cites where the mechanism is specified (a Xen file or document, a spec, a paper).
      expect(l.context, `${l.id} cites its source`).toMatch(/xen\/|docs\/misc|Xen wiki|spec|paper|OSDI|NSDI|USENIX|ASPLOS|RFC|xsa|Popek/i);
      expect(l.explain.length, l.id).toBeGreaterThan(200);
      expect(l.tryNext.length, l.id).toBeGreaterThan(20);
      expect(l.goal.length, l.id).toBeGreaterThan(20);
      expect(() => checkParams(l, defaultParams(l)), l.id).not.toThrow();
      if (l.prediction.kind === 'choice') expect(new Set(l.prediction.options.map((o) => o.id)).size, l.id).toBe(l.prediction.options.length);
      else expect(l.prediction.min, l.id).toBeLessThan(l.prediction.max);
      expect(new Set(l.observe.map((o) => o.key)).size, l.id).toBe(l.observe.length);
    }
  });
});

describe('the judgement of labs 3 and 10 (what their e2e tests rely on)', () => {
  const dom0 = labById('dom0-time')!;
  const mig = labById('migration')!;
  const params = (l: LabDefinition) => defaultParams(l);

  it('lab 3: Domain-0 is the answer only when its Time grew with the I/O and not while idle', () => {
    const io = { idleDom0: 0.3, idleGuest: 100, ioDom0: 2474, ioGuest: 2906, wall: 2886, requests: 2189, perRequestUs: 1130, idleMs: 2000 };
    expect(dom0.answer(io, params(dom0))).toBe('dom0');
    expect(dom0.checks(io, params(dom0)).every((c) => c.ok)).toBe(true);
    // Nothing charged: the answer is "nobody", and the checks fail.
    const none = { ...io, ioDom0: 0, perRequestUs: 0 };
    expect(dom0.answer(none, params(dom0))).toBe('nobody');
    expect(dom0.checks(none, params(dom0)).filter((c) => !c.ok).length).toBe(3);
    // A Domain-0 that is as busy when the guest is idle shows nothing about the guest's I/O.
    const busyAnyway = { ...io, idleDom0: 2000 };
    expect(dom0.checks(busyAnyway, params(dom0)).some((c) => !c.ok)).toBe(true);
  });

  it('lab 10: a busy guest stopped with its working set dirty "gives up"; one under the threshold converges', () => {
    const run = {
      idleRounds: 2,
      idleReason: '12 dirty pages < 50',
      idleStopPages: 12,
      idleDowntime: 63,
      busyRounds: 6,
      busyReason: '5 rounds = the limit',
      busyStopPages: 4012,
      busyDowntime: 587,
      sweeps: 589,
      pages: 4000,
      incoming: 'mig-idle--incoming, mig-busy--incoming',
      migratedaway: 'mig-busy--migratedaway, mig-idle--migratedaway',
    };
    expect(mig.answer(run, params(mig))).toBe('gives-up');
    expect(mig.checks(run, { pages: 4000 }).every((c) => c.ok)).toBe(true);
    // A move whose log named no source copy (no handover seen) fails the names' check.
    expect(mig.checks({ ...run, migratedaway: 'mig-idle--migratedaway' }, { pages: 4000 }).some((c) => !c.ok)).toBe(true);
    // A busy guest that stopped by another rule did not show Xen's round limit.
    expect(mig.checks({ ...run, busyReason: '4012 pages would take 20.0 ms <= 30 ms' }, { pages: 4000 }).some((c) => !c.ok)).toBe(true);
    // Pre-copy that converged for the busy guest would contradict the explanation.
    const converged = { ...run, busyStopPages: 30, busyDowntime: 60 };
    expect(mig.answer(converged, params(mig))).toBe('converges');
    expect(mig.checks(converged, { pages: 4000 }).some((c) => !c.ok)).toBe(true);
    // The try-next variation (30 pages) converges, and the working-set checks do not apply.
    const small = { ...run, pages: 30, busyStopPages: 34, busyReason: '34 dirty pages < 50', busyDowntime: 70 };
    expect(mig.answer(small, { pages: 30 })).toBe('converges');
    expect(mig.checks(small, { pages: 30 }).every((c) => c.ok)).toBe(true);
  });
});
