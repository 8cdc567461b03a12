/**
 * The lab's live panel under the domain list: graphs, the scheduler view and the
 * inspectors, as tabs (WAI-ARIA tabs: arrow keys move between them, Tab enters the panel).
 * Only the shown tab is mounted, so the graphs cost nothing while the inspector is open.
 * It starts folded (its tabs in one line), so the guests' consoles are in view when the
 * page opens; a tab opens it, and the page remembers the tab and the fold.
 */
import { useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import './insights.css';
import { GraphsPanel } from './GraphsPanel';
import { InspectPanel } from './InspectPanel';
import { JitPanel } from './JitPanel';
import { NetPanel } from './NetPanel';
import { SchedulerPanel } from './SchedulerPanel';

type Tab = 'graphs' | 'scheduler' | 'inspect' | 'network' | 'jit';
const TABS: readonly { readonly id: Tab; readonly label: string; readonly title: string }[] = [
  { id: 'graphs', label: 'Graphs', title: 'CPU, MIPS, exits, hypercalls, event channel sends, memory and disk I/O over the last minute' },
  { id: 'scheduler', label: 'Scheduler', title: 'Which vCPU ran on which pCPU when; weight, cap and pinning' },
  { id: 'inspect', label: 'Inspect', title: 'Event channels, grant table, xenstore, virtual disks (vbd) and the machine memory map' },
  { id: 'network', label: 'Network', title: 'Interfaces, packet lists, captures (pcap), the bridge and its MAC table' },
  { id: 'jit', label: 'Translation', title: 'Guest code compiled to JavaScript: its share of instructions, the switch, the hottest translations' },
];
const KEY = 'hyperlab.insights';

function load(): { tab: Tab; open: boolean } {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as { tab?: string; open?: boolean };
    return { tab: TABS.some((t) => t.id === v.tab) ? (v.tab as Tab) : 'graphs', open: v.open === true };
  } catch {
    return { tab: 'graphs', open: false };
  }
}

export function Insights(): ReactElement {
  const [state, setState] = useState(load);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const save = (next: { tab: Tab; open: boolean }): void => {
    setState(next);
    try {
      localStorage.setItem(KEY, JSON.stringify(next));
    } catch {
      /* private mode: not remembered */
    }
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    const i = TABS.findIndex((t) => t.id === state.tab);
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    const to = e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : step ? (i + step + TABS.length) % TABS.length : -1;
    if (to < 0) return;
    e.preventDefault();
    save({ tab: TABS[to]!.id, open: true });
    tabs.current[to]?.focus();
  };
  return (
    <section className="panel insights" aria-labelledby="insights-title" data-testid="insights" data-tab={state.tab} data-open={state.open}>
      <header className="panel-header">
        <h2 id="insights-title">Live</h2>
        <div className="insight-tabs" role="tablist" aria-label="Live views" onKeyDown={onKey}>
          {TABS.map((t, i) => (
            <button
              key={t.id}
              ref={(el) => {
                tabs.current[i] = el;
              }}
              type="button"
              role="tab"
              id={`insights-tab-${t.id}`}
              data-testid={`insights-tab-${t.id}`}
              aria-selected={state.open && state.tab === t.id}
              aria-controls={state.open ? 'insights-body' : undefined}
              tabIndex={state.tab === t.id ? 0 : -1}
              title={t.title}
              onClick={() => save({ tab: t.id, open: true })}
            >
              {t.label}
            </button>
          ))}
        </div>
        {state.open ? null : (
          <span className="muted fold-hint">CPU, exits and hypercalls over time · who ran where · event channels, grants, xenstore, memory map</span>
        )}
        <button
          type="button"
          className="fold"
          data-testid="insights-toggle"
          aria-expanded={state.open}
          aria-controls={state.open ? 'insights-body' : undefined}
          onClick={() => save({ ...state, open: !state.open })}
        >
          {state.open ? 'Hide' : 'Show'}
        </button>
      </header>
      {state.open ? (
        <div id="insights-body" role="tabpanel" aria-labelledby={`insights-tab-${state.tab}`} className="insights-body">
          {state.tab === 'graphs' ? (
            <GraphsPanel />
          ) : state.tab === 'scheduler' ? (
            <SchedulerPanel />
          ) : state.tab === 'network' ? (
            <NetPanel />
          ) : state.tab === 'jit' ? (
            <JitPanel />
          ) : (
            <InspectPanel />
          )}
        </div>
      ) : null}
    </section>
  );
}
