/**
 * One line that says what a machine is doing, how far it got and how fast it goes.
 * The raw numbers are also in data attributes, for tests and scripts.
 */
import type { ReactElement } from 'react';
import type { MachineStats } from '../../web/protocol';

const count = new Intl.NumberFormat('en-US');
const rate = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/**
 * An average over a short run mostly measures the JavaScript engine warming up (hello
 * retires 2000 instructions in a few ms): below this much execution time it is not shown.
 */
const MIN_AVERAGE_MS = 250;

function duration(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : `${rate.format(ms / 1000)} s`;
}

export type StatusTone = 'busy' | 'idle' | 'pass' | 'fail' | 'paused';

/** The state in words, and the tone its indicator takes. */
export function describeState(stats: MachineStats): { readonly text: string; readonly tone: StatusTone } {
  switch (stats.state) {
    case 'booting':
      return { text: 'booting…', tone: 'idle' };
    case 'running':
      return { text: 'running', tone: 'busy' };
    case 'waiting':
      return { text: 'waiting for an interrupt (WFI)', tone: 'idle' };
    case 'paused':
      return { text: 'paused', tone: 'paused' };
    case 'off': {
      const p = stats.poweroff;
      if (p?.kind === 'pass') return { text: 'powered off: PASS', tone: 'pass' };
      return { text: `powered off: FAIL (code ${p?.code ?? '?'})`, tone: 'fail' };
    }
    case 'crashed':
      return { text: `emulator error: ${stats.crash ?? 'unknown'}`, tone: 'fail' };
  }
}

export function StatusLine({ id, stats }: { readonly id: number; readonly stats: MachineStats }): ReactElement {
  const { text, tone } = describeState(stats);
  const active = stats.state === 'running' || stats.state === 'waiting';
  const mips = active ? stats.mips : stats.avgMips;
  return (
    <p
      className="status-line"
      data-testid={`status-${id}`}
      data-state={stats.state}
      data-poweroff={stats.poweroff?.kind ?? ''}
    >
      <span className={`state-dot tone-${tone}`} aria-hidden="true" />
      {/* Only the state is announced: the counters change ten times a second. */}
      <strong className={`state-text tone-${tone}`} data-testid={`state-${id}`} aria-live="polite">
        {text}
      </strong>
      <span className="metric" data-testid={`instret-${id}`} data-value={stats.instret}>
        {count.format(stats.instret)} instructions
      </span>
      {active ? null : (
        <span className="metric" title="host time spent executing">
          in {duration(stats.runMs)}
        </span>
      )}
      <span
        className="metric"
        data-testid={`mips-${id}`}
        data-value={mips.toFixed(3)}
        title={active ? 'over the last 100 ms' : 'average while executing'}
        hidden={!active && stats.runMs < MIN_AVERAGE_MS}
      >
        {rate.format(mips)} MIPS{active ? '' : ' avg'}
      </span>
      {stats.resets > 0 ? <span className="metric">{count.format(stats.resets)} resets</span> : null}
    </p>
  );
}
