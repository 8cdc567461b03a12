/**
 * The host's setting the scheduler depends on: how many physical CPUs it hands out. The
 * hypervisor is built with it, so changing it starts the lab again (?pcpus=N).
 */
import type { ReactElement } from 'react';
import { useLabState } from '../labContext';

const CHOICES = [1, 2, 3, 4, 6, 8];

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
        onChange={(e) => {
          const url = new URL(window.location.href);
          url.searchParams.set('pcpus', e.target.value);
          window.location.assign(url.href);
        }}
      >
        {choices.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>{' '}
      <span className="muted">· {host.scheduler} scheduler</span>
    </p>
  );
}
