/**
 * Running a lab: the parameters checked, the domains it creates tracked (and destroyed
 * before the next run, so one lab's guests do not disturb the next one's measurements),
 * the observation compared with the student's prediction and with the explanation's
 * claims. No DOM: the page (src/ui/components/labs/) and the tests call this.
 */
import type { Check, Guess, LabApi, LabDefinition, LabReport, Observation, Params, ParamValue, Prediction } from './types';

export interface LabOutcome {
  readonly observation: Observation;
  /** The answer the observation gives (an option id or a number). */
  readonly answer: Guess;
  /** Whether the prediction matched it. */
  readonly correct: boolean;
  readonly checks: readonly Check[];
  /** Every check holds: the observation agrees with the explanation. */
  readonly consistent: boolean;
}

/** The parameters' defaults: the first run's. */
export function defaultParams(lab: LabDefinition): Params {
  return Object.fromEntries(lab.params.map((p) => [p.id, p.default]));
}

/** Check edited parameters (from a form: strings) against their specs; throws one line naming the first bad one. */
export function checkParams(lab: LabDefinition, raw: Readonly<Record<string, unknown>>): Params {
  const out: Record<string, ParamValue> = {};
  for (const p of lab.params) {
    const given = raw[p.id] ?? p.default;
    const v = typeof given === 'number' || typeof given === 'string' ? given : JSON.stringify(given);
    if (p.kind === 'number') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n) || n < p.min || n > p.max) throw new Error(`${p.label}: ${String(v)} is not a number from ${p.min} to ${p.max}`);
      if (p.step !== undefined && p.step >= 1 && !Number.isInteger(n)) throw new Error(`${p.label}: ${String(v)} is not a whole number`);
      out[p.id] = n;
    } else {
      if (typeof v !== 'string' || !p.options.some((o) => o.value === v))
        throw new Error(`${p.label}: ${String(v)} is not one of ${p.options.map((o) => o.value).join(', ')}`);
      out[p.id] = v;
    }
  }
  return out;
}

/** Check a guess against the prediction's form; throws one line. */
export function checkGuess(prediction: Prediction, guess: unknown): Guess {
  if (prediction.kind === 'choice') {
    if (typeof guess !== 'string' || !prediction.options.some((o) => o.id === guess)) throw new Error('choose one of the answers');
    return guess;
  }
  const n = typeof guess === 'number' ? guess : typeof guess === 'string' && guess.trim() !== '' ? Number(guess) : NaN;
  if (!Number.isFinite(n) || n < prediction.min || n > prediction.max) throw new Error(`a number from ${prediction.min} to ${prediction.max}`);
  return n;
}

/** Whether a guess matches the observed answer (numbers: within the prediction's tolerance). */
export function matches(prediction: Prediction, guess: Guess, answer: Guess): boolean {
  if (prediction.kind === 'choice' || typeof guess !== 'number' || typeof answer !== 'number') return guess === answer;
  const slack = Math.max(Math.abs(answer) * prediction.tolerance, prediction.absolute ?? 0);
  return Math.abs(guess - answer) <= slack;
}

/**
 * The domains lab runs created. `wrap` gives the lab an API whose create/boot/reboot
 * record the new domids; `clear` destroys those still there (the next run starts clean).
 */
export class DomainTracker {
  private readonly ids = new Set<number>();

  get created(): readonly number[] {
    return [...this.ids];
  }

  wrap(api: LabApi): LabApi {
    const remember = (id: number): number => {
      this.ids.add(id);
      return id;
    };
    return Object.assign(Object.create(api) as LabApi, {
      create: async (spec: Parameters<LabApi['create']>[0]) => remember(await api.create(spec)),
      boot: async (...args: Parameters<LabApi['boot']>) => remember(await api.boot(...args)),
      reboot: async (id: number) => remember(await api.reboot(id)),
    });
  }

  async clear(api: LabApi): Promise<void> {
    const alive = new Set(api.domains().map((d) => d.id));
    for (const id of this.ids) {
      if (alive.has(id)) await api.destroy(id).catch(() => {});
    }
    this.ids.clear();
  }
}

/** Why this host does not suit the lab (its pCPUs), or null. */
export function hostMismatch(lab: LabDefinition, api: LabApi): string | null {
  const want = lab.host?.pcpus;
  const have = api.host()?.pcpus;
  if (want === undefined || have === undefined || have === want) return null;
  return `this lab needs a host with ${want} pCPU${want === 1 ? '' : 's'}, and this one has ${have}: open it with ?pcpus=${want}`;
}

/** Run a lab once: clean up the last run's domains, run, judge. Rejects with the lab's error. */
export async function runLab(lab: LabDefinition, api: LabApi, params: Params, guess: Guess, report: LabReport, tracker: DomainTracker): Promise<LabOutcome> {
  const mismatch = hostMismatch(lab, api);
  if (mismatch) throw new Error(mismatch);
  await tracker.clear(api);
  const observation = await lab.run(tracker.wrap(api), params, report);
  const answer = lab.answer(observation, params);
  const checks = lab.checks(observation, params);
  return { observation, answer, correct: matches(lab.prediction, guess, answer), checks, consistent: checks.every((c) => c.ok) };
}
