/**
 * The guided labs' state outside React: the student's progress (kept in localStorage, so
 * it survives a reload) and the run of a lab (which goes on when the student switches
 * views, like the pv-vs-hvm comparison). One lab runs at a time; the domains of the last
 * run are destroyed before the next (src/labs/runner.ts).
 */
import { checkGuess, checkParams, defaultParams, DomainTracker, runLab, type LabOutcome } from '../labs/runner';
import type { Guess, Instrument, LabApi, LabDefinition, Params } from '../labs/types';

const KEY = 'hyperlab.labs';

/** What the Labs view remembers of a lab. */
export interface LabProgress {
  /** The last prediction committed. */
  readonly guess?: Guess;
  /** Runs finished, and whether the last one's prediction was right. */
  readonly runs: number;
  readonly correct?: boolean;
  /** Whether the first run (the defaults) has been done: the lab counts as done. */
  readonly done: boolean;
}

export type ProgressMap = Readonly<Record<string, LabProgress>>;

export function loadProgress(): ProgressMap {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
    return v !== null && typeof v === 'object' ? (v as ProgressMap) : {};
  } catch {
    return {};
  }
}

function saveProgress(p: ProgressMap): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(p));
  } catch {
    /* private mode: not remembered */
  }
}

export interface LabRunState {
  readonly labId: string | null;
  readonly status: 'idle' | 'running' | 'done' | 'failed';
  readonly guess: Guess | null;
  readonly params: Params;
  readonly steps: readonly string[];
  readonly live: Readonly<Record<string, number | string>>;
  readonly instrument: { readonly kind: Instrument; readonly domid: number | null } | null;
  readonly domains: readonly number[];
  readonly outcome: LabOutcome | null;
  readonly error: string | null;
}

const IDLE: LabRunState = {
  labId: null,
  status: 'idle',
  guess: null,
  params: {},
  steps: [],
  live: {},
  instrument: null,
  domains: [],
  outcome: null,
  error: null,
};

/** The run in progress or last finished, and the progress of every lab; subscribe for changes. */
export class LabsStore {
  private state: LabRunState = IDLE;
  private progress: ProgressMap = loadProgress();
  private readonly listeners = new Set<() => void>();
  private readonly tracker = new DomainTracker();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): LabRunState => this.state;
  progressSnapshot = (): ProgressMap => this.progress;

  private set(next: Partial<LabRunState>): void {
    this.state = { ...this.state, ...next };
    for (const l of this.listeners) l();
  }

  private record(id: string, p: LabProgress): void {
    this.progress = { ...this.progress, [id]: p };
    saveProgress(this.progress);
    for (const l of this.listeners) l();
  }

  /** The student committed a prediction (remembered even before Run). */
  predict(lab: LabDefinition, guess: Guess): void {
    const p = this.progress[lab.id] ?? { runs: 0, done: false };
    this.record(lab.id, { ...p, guess });
  }

  /** Forget a lab's progress (its "start again"). */
  reset(lab: LabDefinition): void {
    const { [lab.id]: _gone, ...rest } = this.progress;
    this.progress = rest;
    saveProgress(this.progress);
    if (this.state.labId === lab.id && this.state.status !== 'running') this.state = IDLE;
    for (const l of this.listeners) l();
  }

  /** Run a lab: `rawParams` from the "try next" form (strings), none for the first run. Rejects never: the state says. */
  async run(lab: LabDefinition, api: LabApi, rawGuess: unknown, rawParams?: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.state.status === 'running') return;
    let guess: Guess, params: Params;
    try {
      guess = checkGuess(lab.prediction, rawGuess);
      params = rawParams ? checkParams(lab, rawParams) : defaultParams(lab);
    } catch (e) {
      this.set({ labId: lab.id, status: 'failed', error: e instanceof Error ? e.message : String(e), outcome: null, steps: [] });
      return;
    }
    this.set({ ...IDLE, labId: lab.id, status: 'running', guess, params, instrument: { kind: lab.instrument, domid: null } });
    const report = {
      step: (text: string) => this.set({ steps: [...this.state.steps, text] }),
      show: (kind: Instrument, domid?: number) => this.set({ instrument: { kind, domid: domid ?? null } }),
      measure: (key: string, value: number | string) => this.set({ live: { ...this.state.live, [key]: value } }),
      domains: (ids: readonly number[]) => this.set({ domains: [...ids] }),
    };
    try {
      const outcome = await runLab(lab, api, params, guess, report, this.tracker);
      this.set({ status: 'done', outcome });
      const p = this.progress[lab.id] ?? { runs: 0, done: false };
      this.record(lab.id, { guess, runs: p.runs + 1, correct: outcome.correct, done: true });
    } catch (e) {
      this.set({ status: 'failed', error: e instanceof Error ? e.message : String(e) });
    }
  }
}

/** The page's one store (the Labs view and its pages share it). */
export const labsStore = new LabsStore();
