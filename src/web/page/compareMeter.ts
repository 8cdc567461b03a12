/**
 * One side of the pv-vs-hvm comparison: what a domain did from the moment a command was
 * typed into it until its shell prompt came back. Pure bookkeeping (no DOM, no worker):
 * it is fed the domain's console bytes and its xentop rows, with the page's clock, and
 * computes the figures the comparison page shows. `compareMeter.test.ts` drives it with
 * made-up rows and bytes.
 *
 * Where each figure comes from:
 *  - elapsed: page time from sending the command to the arrival of the prompt that
 *    follows the command's `timing:` line (console bytes reach the page in batches of at
 *    most 16 ms, so that is the resolution);
 *  - bytes: every console byte the domain sent since the command (the echo of the
 *    command and the timing line included: a few dozen bytes);
 *  - exits, hypercalls, instructions, CPU time: the difference between the newest row
 *    before the command and the newest row. Rows come about 10 times a second, so the
 *    final figures wait for the first row made after the prompt, and a few exits of the
 *    idle timer tick at either end are counted too;
 *  - instructions per second: instructions over the domain's own clock (the rows'
 *    `uptimeMs`), so that the page's own delays do not enter it.
 */
import type { DomainRow } from '../protocol/hvProtocol';

export type Workload = { readonly kind: 'write'; readonly bytes: number } | { readonly kind: 'burn'; readonly millions: number };

/** The teaching OS's shell command for a workload (docs/teaching-os.md). */
export function workloadCommand(w: Workload): string {
  return w.kind === 'write' ? `write ${w.bytes}` : `burn ${w.millions}`;
}

export type MeterPhase = 'running' | 'settling' | 'done' | 'failed';

export interface SideFigures {
  readonly phase: MeterPhase;
  readonly error: string | null;
  /** ms from the command to the prompt (to now while running). */
  readonly elapsedMs: number;
  /** Console bytes since the command. */
  readonly bytes: number;
  /** bytes / elapsed. */
  readonly bytesPerSecond: number;
  /** Share of the expected output received, 0..1 (for `write`; for `burn`, 0 until done, then 1). */
  readonly progress: number;
  readonly exits: number;
  readonly exitsByReason: Readonly<Record<string, number>>;
  readonly hypercalls: number;
  /** Exits per KiB of console output (null with no output yet). */
  readonly exitsPerKiB: number | null;
  readonly instructions: number;
  readonly instructionsPerSecond: number;
  readonly cpuNs: number;
  /** The guest's own `timing:` line, when it printed one. */
  readonly guestTiming: string | null;
  /** Seconds the guest measured itself (from its timing line). */
  readonly guestSeconds: number | null;
}

/** Exits per reason in `after` minus those in `before` (reasons with no new exits left out). */
export function exitDelta(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after)) {
    const d = n - (before[reason] ?? 0);
    if (d > 0) out[reason] = d;
  }
  return out;
}

const sum = (r: Readonly<Record<string, number>>, pick: (reason: string) => boolean = () => true): number =>
  Object.entries(r).reduce((a, [k, v]) => (pick(k) ? a + v : a), 0);

/** Characters of output kept to find the timing line and the prompt (the command's payload can be megabytes). */
const TAIL = 512;
const TIMING = /timing: ([^\r\n]*)\r?\n/;
const SECONDS = / in ([0-9.]+) s\b/;

export class CompareMeter {
  private bytes = 0;
  private tail = '';
  private readonly decoder = new TextDecoder();
  private doneAt: number | null = null;
  /** seq of the newest row when the prompt came: the final row must be newer. */
  private doneSeq = 0;
  private last: DomainRow;
  private phase: MeterPhase = 'running';
  private error: string | null = null;
  private timing: string | null = null;

  constructor(
    readonly domid: number,
    readonly workload: Workload,
    /** The newest row before the command was sent. */
    private readonly first: DomainRow,
    /** Page time (ms) when the command was sent. */
    private readonly t0: number,
  ) {
    this.last = first;
  }

  get currentPhase(): MeterPhase {
    return this.phase;
  }

  get finished(): boolean {
    return this.phase === 'done' || this.phase === 'failed';
  }

  onConsole(bytes: Uint8Array, now: number): void {
    if (this.doneAt !== null || this.finished) return;
    this.bytes += bytes.length;
    this.tail = (this.tail + this.decoder.decode(bytes, { stream: true })).slice(-TAIL);
    const m = TIMING.exec(this.tail);
    if (m) this.timing = m[1]!;
    // The prompt after the timing line: the shell is back and the workload is over.
    if (m && this.tail.slice(m.index + m[0].length).endsWith('$ ')) {
      this.doneAt = now;
      this.doneSeq = this.last.seq;
      this.phase = 'settling';
    }
  }

  onRow(row: DomainRow, now: number): void {
    if (this.finished || row.domid !== this.domid || row.seq <= this.last.seq) return;
    this.last = row;
    if (this.doneAt !== null && row.seq > this.doneSeq) this.phase = 'done';
    else if (row.state === 'shutdown' || row.state === 'crashed')
      this.fail(`the domain ${row.state === 'crashed' ? 'crashed' : 'shut down'} during the run`, now);
  }

  /** The run is over without a result; the clock stops at `now`. */
  fail(error: string, now: number): void {
    if (this.finished) return;
    this.phase = 'failed';
    this.error = error;
    this.doneAt ??= now;
  }

  figures(now: number): SideFigures {
    const end = this.doneAt ?? now;
    const elapsedMs = Math.max(0, end - this.t0);
    const byReason = exitDelta(this.first.exits, this.last.exits);
    const exits = sum(byReason);
    const instructions = this.last.instret - this.first.instret;
    const domainMs = this.last.uptimeMs - this.first.uptimeMs;
    const expected = this.workload.kind === 'write' ? this.workload.bytes : 0;
    const seconds = this.timing !== null ? SECONDS.exec(this.timing) : null;
    return {
      phase: this.phase,
      error: this.error,
      elapsedMs,
      bytes: this.bytes,
      bytesPerSecond: elapsedMs > 0 ? (this.bytes * 1000) / elapsedMs : 0,
      progress: this.phase === 'settling' || this.phase === 'done' ? 1 : expected > 0 ? Math.min(1, this.bytes / expected) : 0,
      exits,
      exitsByReason: byReason,
      hypercalls: sum(byReason, (k) => k.startsWith('hypercall:')),
      exitsPerKiB: this.bytes > 0 ? exits / (this.bytes / 1024) : null,
      instructions,
      instructionsPerSecond: domainMs > 0 ? (instructions * 1000) / domainMs : 0,
      cpuNs: this.last.cpuNs - this.first.cpuNs,
      guestTiming: this.timing,
      guestSeconds: seconds ? Number(seconds[1]) : null,
    };
  }
}

/** How far ahead pv is: ratios of the two sides' figures (null where a side has none). */
export interface Verdict {
  /** pv bytes/s over hvm bytes/s. */
  readonly throughputRatio: number | null;
  /** hvm exits per KiB over pv exits per KiB. */
  readonly exitsPerKiBRatio: number | null;
  /** hvm elapsed over pv elapsed. */
  readonly elapsedRatio: number | null;
  /** pv instructions/s over hvm instructions/s. */
  readonly ipsRatio: number | null;
}

const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && a > 0 && b > 0 ? a / b : null);

export function verdict(pv: SideFigures, hvm: SideFigures): Verdict {
  return {
    throughputRatio: ratio(pv.bytesPerSecond, hvm.bytesPerSecond),
    exitsPerKiBRatio: ratio(hvm.exitsPerKiB, pv.exitsPerKiB),
    elapsedRatio: ratio(hvm.elapsedMs, pv.elapsedMs),
    ipsRatio: ratio(pv.instructionsPerSecond, hvm.instructionsPerSecond),
  };
}
