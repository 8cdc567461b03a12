/** The scheduler tab: the pCPU lanes, a window selector, and the scheduler's controls. */
import { useState, type ReactElement } from 'react';
import { useLabState } from '../../labContext';
import { domainColour } from './colors';
import { SchedControls } from './SchedControls';
import { SchedLanes } from './SchedLanes';

const WINDOWS = [2000, 5000, 10_000];

export function SchedulerPanel(): ReactElement {
  const [windowMs, setWindowMs] = useState(5000);
  const domains = useLabState((s) => s.domains);
  const scheduler = useLabState((s) => s.host?.scheduler ?? '');
  return (
    <div className="scheduler" data-testid="scheduler-panel">
      <div className="row">
        <label htmlFor="sched-window">Last</label>
        <select id="sched-window" data-testid="sched-window" value={windowMs} onChange={(e) => setWindowMs(Number(e.target.value))}>
          {WINDOWS.map((w) => (
            <option key={w} value={w}>
              {w / 1000} seconds
            </option>
          ))}
        </select>
        <span className="muted">{scheduler} scheduler: each bar is a slice a vCPU ran on that pCPU</span>
        <ul className="legend inline">
          {domains.map((d) => (
            <li key={d.domid}>
              <span className="swatch solid" style={{ borderColor: domainColour(d.domid), background: domainColour(d.domid) }} aria-hidden="true" />
              {d.name} ({d.domid})
            </li>
          ))}
        </ul>
      </div>
      <SchedLanes windowMs={windowMs} />
      <SchedControls />
    </div>
  );
}
