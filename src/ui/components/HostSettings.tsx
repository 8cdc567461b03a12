/**
 * The host's settings: how many physical CPUs the scheduler hands out (?pcpus=N) and the
 * translation tier every vCPU starts with (?jit=off|on|always, docs/jit.md). The hypervisor
 * is built with them, so changing one starts the lab again.
 */
import type { ReactElement } from 'react';
import { useLabState } from '../labContext';

const CHOICES = [1, 2, 3, 4, 6, 8];
const JIT_CHOICES = ['off', 'on', 'always'] as const;

/** Reload the page with one address parameter changed: the host is rebuilt with it. */
function restartWith(key: string, value: string): void {
  const url = new URL(window.location.href);
  url.searchParams.set(key, value);
  window.location.assign(url.href);
}

export function HostSettings(): ReactElement | null {
  const host = useLabState((s) => s.host);
  if (!host) return null;
  const choices = CHOICES.includes(host.pcpus) ? CHOICES : [...CHOICES, host.pcpus].sort((a, b) => a - b);
  return (
    <p className="host-settings">
      <label htmlFor="host-pcpus">pCPUs</label>{' '}
      <select
        id="host-pcpus"
        data-testid="host-pcpus"
        value={host.pcpus}
        title="Physical CPUs the scheduler hands out (one worker thread each at most). Changing it starts the lab again."
        onChange={(e) => restartWith('pcpus', e.target.value)}
      >
        {choices.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>{' '}
      <span className="muted">· {host.scheduler} scheduler ·</span> <label htmlFor="host-jit">translation</label>{' '}
      <select
        id="host-jit"
        data-testid="host-jit"
        value={host.jit ?? 'on'}
        title="The translation tier every vCPU starts with (off: the interpreter only; always: translate everything, for tests). Each domain can still be switched in Live > Translation. Changing it starts the lab again."
        onChange={(e) => restartWith('jit', e.target.value)}
      >
        {JIT_CHOICES.map((m) => (
          <option key={m} value={m}>
            {m}
          </option>
        ))}
      </select>
    </p>
  );
}
