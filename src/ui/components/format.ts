/** How the page writes states and numbers (xl's words, xentop's units). */
import type { DomainRow, DomainState } from '../../web/protocol/hvProtocol';

export const count = new Intl.NumberFormat('en-US');
export const one = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** xl list's state flags: r b p s c d. */
export function stateFlags(state: DomainState): string {
  return ['running', 'blocked', 'paused', 'shutdown', 'crashed', 'dying'].map((x, i) => (x === state ? 'rbpscd'[i] : '-')).join('');
}

export type Tone = 'busy' | 'idle' | 'paused' | 'pass' | 'fail';

/** The state in words, with the tone of its indicator. */
export function describeState(row: DomainRow): { readonly text: string; readonly tone: Tone } {
  switch (row.state) {
    case 'running':
      return { text: 'running', tone: 'busy' };
    case 'blocked':
      return { text: 'blocked', tone: 'idle' };
    case 'paused':
      return { text: 'paused', tone: 'paused' };
    case 'dying':
      return { text: 'dying', tone: 'idle' };
    case 'crashed':
      return { text: `crashed${row.shutdown?.detail ? `: ${row.shutdown.detail}` : ''}`, tone: 'fail' };
    case 'shutdown': {
      const d = row.shutdown?.detail ?? '';
      if (d.startsWith('FAIL')) return { text: `shut down: ${d}`, tone: 'fail' };
      return { text: `shut down${d === 'PASS' ? ': PASS' : row.shutdown?.reason === 'reboot' ? ' (reboot)' : ''}`, tone: 'pass' };
    }
  }
}

/** CPU time in seconds, as xentop shows it (one decimal here: the lab's runs are short). */
export function cpuSeconds(ns: number): string {
  return one.format(ns / 1e9);
}

export function mib(kib: number): string {
  return `${count.format(Math.round(kib / 1024))} MiB`;
}
