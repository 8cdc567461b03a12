/**
 * The pv-vs-hvm comparison: one pv and one hvm domain of the teaching OS run the same
 * shell command at the same moment, and a `CompareMeter` each measures them from the
 * Lab's console bytes and xentop rows (compareMeter.ts says where every figure comes from).
 *
 * Domains: a teaching OS domain of each type that sits at its prompt is reused (the
 * default scenario's, or one made by an earlier comparison); otherwise one is created
 * from the preset. The command is preceded by Ctrl-U, which clears a half-typed line
 * (and prints nothing on an empty one).
 *
 * The session lives outside React (the page may switch views while a run goes on): views
 * subscribe to its snapshots, which change when the Lab reports rows (about 10 a second)
 * and when a side finishes.
 */
import { CompareMeter, verdict, workloadCommand, type SideFigures, type Verdict, type Workload } from './compareMeter';
import type { Lab } from './lab';

export type Side = 'pv' | 'hvm';
export const SIDES: readonly Side[] = ['pv', 'hvm'];
export const COMPARE_PRESETS: Readonly<Record<Side, string>> = { pv: 'teaching-os-pv', hvm: 'teaching-os-hvm' };

/** How long a domain may take to show its prompt (boot, or a command still running). */
const PROMPT_TIMEOUT_MS = 30_000;
/** Runs kept in the history table. */
const HISTORY = 8;

export type CompareStatus = 'idle' | 'preparing' | 'running' | 'done' | 'failed';

export interface CompletedRun {
  readonly n: number;
  readonly workload: Workload;
  readonly domains: Readonly<Record<Side, number>>;
  readonly pv: SideFigures;
  readonly hvm: SideFigures;
  readonly verdict: Verdict;
}

export interface CompareState {
  readonly status: CompareStatus;
  /** What is happening, or why it failed. */
  readonly message: string | null;
  readonly workload: Workload | null;
  readonly domains: Readonly<Record<Side, number | null>>;
  readonly pv: SideFigures | null;
  readonly hvm: SideFigures | null;
  readonly verdict: Verdict | null;
  /** Finished runs, newest first. */
  readonly history: readonly CompletedRun[];
}

const INITIAL: CompareState = {
  status: 'idle',
  message: null,
  workload: null,
  domains: { pv: null, hvm: null },
  pv: null,
  hvm: null,
  verdict: null,
  history: [],
};

const presetName = (side: Side): RegExp => new RegExp(`^${COMPARE_PRESETS[side]}(-\\d+)?$`);

export class CompareSession {
  private state: CompareState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private runs = 0;

  constructor(
    private readonly lab: Lab,
    private readonly now: () => number = () => performance.now(),
  ) {}

  snapshot = (): CompareState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get busy(): boolean {
    return this.state.status === 'preparing' || this.state.status === 'running';
  }

  /** Run `workload` in both domains at once; resolves when both are measured (or one failed). */
  async run(workload: Workload): Promise<CompareState> {
    if (this.busy) throw new Error('a comparison is already running');
    this.set({ status: 'preparing', message: 'finding or creating a pv and an hvm domain of the teaching OS…', workload, pv: null, hvm: null, verdict: null });
    let domains: Record<Side, number>;
    try {
      const [pv, hvm] = await Promise.all(SIDES.map((s) => this.domainFor(s)));
      domains = { pv: pv!, hvm: hvm! };
      this.set({ domains, message: 'waiting for both shell prompts…' });
      await Promise.all(SIDES.map((s) => this.waitForPrompt(domains[s])));
    } catch (e) {
      this.set({ status: 'failed', message: e instanceof Error ? e.message : String(e) });
      return this.state;
    }
    return this.measure(workload, domains);
  }

  private measure(workload: Workload, domains: Record<Side, number>): Promise<CompareState> {
    const t0 = this.now();
    const meters = {
      pv: new CompareMeter(domains.pv, workload, this.lab.domain(domains.pv).row, t0),
      hvm: new CompareMeter(domains.hvm, workload, this.lab.domain(domains.hvm).row, t0),
    };
    const all = [meters.pv, meters.hvm];
    const n = ++this.runs;
    return new Promise((resolve) => {
      const publish = (): void => {
        const now = this.now();
        const pv = meters.pv.figures(now),
          hvm = meters.hvm.figures(now);
        const failed = [pv, hvm].find((f) => f.phase === 'failed');
        // One side failing ends the comparison: there is nothing to compare it with.
        const over = failed !== undefined || all.every((m) => m.finished);
        const result = { pv, hvm, verdict: verdict(pv, hvm) };
        if (!over) {
          this.set(result);
          return;
        }
        offs.forEach((off) => off());
        const history = failed ? this.state.history : [{ n, workload, domains, ...result }, ...this.state.history].slice(0, HISTORY);
        this.set({ ...result, history, status: failed ? 'failed' : 'done', message: failed ? failed.error : null });
        resolve(this.state);
      };
      const offs = [
        this.lab.on('console', (e) => {
          const m = all.find((x) => x.domid === e.domid);
          if (!m) return;
          const was = m.currentPhase;
          m.onConsole(e.bytes, this.now());
          if (m.currentPhase !== was) publish();
        }),
        this.lab.on('rows', ({ domains: views }) => {
          const now = this.now();
          for (const v of views) all.find((m) => m.domid === v.domid)?.onRow(v.row, now);
          publish();
        }),
        this.lab.on('domain-removed', ({ domid }) => {
          all.find((m) => m.domid === domid)?.fail(`domain ${domid} was destroyed during the run`, this.now());
          publish();
        }),
      ];
      this.set({
        status: 'running',
        message: `${workloadCommand(workload)} in both domains`,
        domains,
        ...{ pv: meters.pv.figures(t0), hvm: meters.hvm.figures(t0) },
      });
      // Both commands leave in one turn of the event loop, pv first (the order of the list).
      for (const side of SIDES) {
        this.lab.sendInput(domains[side], `\x15${workloadCommand(workload)}\r`).catch((e: unknown) => {
          meters[side].fail(e instanceof Error ? e.message : String(e), this.now());
          publish();
        });
      }
    });
  }

  /** A running teaching OS domain of this type at its prompt, or a new one from the preset. */
  private async domainFor(side: Side): Promise<number> {
    const pattern = presetName(side);
    const idle = this.lab
      .domains()
      .find(
        (d) =>
          d.type === side && pattern.test(d.name) && (d.row.state === 'running' || d.row.state === 'blocked') && atPrompt(this.lab.console(d.domid).bootText()),
      );
    if (idle) return idle.domid;
    const r = await this.lab.create({ preset: COMPARE_PRESETS[side], uniqueName: true }, 'catalog');
    if (!r.ok) throw new Error(`could not create a ${side} domain from the preset ${COMPARE_PRESETS[side]}: ${r.error}`);
    return r.value.domid;
  }

  private async waitForPrompt(domid: number): Promise<void> {
    const end = this.now() + PROMPT_TIMEOUT_MS;
    while (!atPrompt(this.lab.console(domid).bootText())) {
      if (!this.lab.has(domid)) throw new Error(`domain ${domid} went away before its prompt`);
      if (this.now() > end) throw new Error(`domain ${domid} showed no shell prompt within ${PROMPT_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private set(patch: Partial<CompareState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of [...this.listeners]) l();
  }
}

/** The teaching OS waits at `NAME$ ` (pv) or `tos$ ` (hvm). */
function atPrompt(text: string): boolean {
  return text.endsWith('$ ');
}

const sessions = new WeakMap<Lab, CompareSession>();

/** The page's one comparison session for a Lab. */
export function compareSessionFor(lab: Lab): CompareSession {
  let s = sessions.get(lab);
  if (!s) sessions.set(lab, (s = new CompareSession(lab)));
  return s;
}
