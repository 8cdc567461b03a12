/**
 * The pv-vs-hvm page: choose a workload of the teaching OS (console output with `write`,
 * or CPU with `burn`), press Start, and watch the same command run in a pv and an hvm
 * domain at once. The measuring is CompareSession's (src/web/page/compareSession.ts); this is
 * the view. Its state survives switching views: a run goes on in the background.
 */
import { useEffect, useRef, useState, useSyncExternalStore, type ReactElement } from 'react';
import type { Workload } from '../../web/page/compareMeter';
import { compareSessionFor, SIDES, type Side } from '../../web/page/compareSession';
import { useLab, useLabState } from '../labContext';
import { CompareSide } from './CompareSide';
import { CompareVerdict, ExitsTable, HistoryTable } from './CompareTables';
import { openTerminal } from './terminal';
import * as f from './compareFormat';
import './compare.css';

const WRITE_SIZES = [16 << 10, 32 << 10, 64 << 10, 256 << 10, 1 << 20];
const BURN_SIZES = [5, 20, 50];

function workloadFrom(kind: 'write' | 'burn', size: number): Workload {
  return kind === 'write' ? { kind, bytes: size } : { kind, millions: size };
}

/** A small read-only view of a domain's console (keys typed here go to the domain too). */
function CompareConsole({ side, domid }: { readonly side: Side; readonly domid: number | null }): ReactElement {
  const lab = useLab();
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element || domid === null || !lab.has(domid)) return;
    const t = openTerminal(element, {
      label: `Console of the ${side} domain (domain ${domid})`,
      replay: lab.console(domid).replay(),
      follow: (write) => lab.on('console', (e) => e.domid === domid && write(e.bytes)),
      onData: (data) => {
        if (lab.has(domid)) lab.sendInput(domid, data).catch(() => {});
      },
      fontSize: 11,
    });
    return () => t.dispose();
  }, [lab, side, domid]);
  return (
    <section className="panel" aria-label={`Console of the ${side} domain`}>
      <header className="panel-header">
        <h2>
          <span className={`type-badge ${side}`}>{side}</span> console{domid !== null ? <span className="domid">dom{domid}</span> : null}
        </h2>
      </header>
      <div className="console-frame">
        {domid === null ? <p className="muted compare-console-empty">The {side} domain's console appears here once a run starts.</p> : null}
        <div
          ref={host}
          key={domid ?? 'none'}
          className="console compare-console"
          data-testid={`compare-console-${side}`}
          role="group"
          aria-label={`Console of the ${side} domain`}
        />
      </div>
    </section>
  );
}

export function ComparePage(): ReactElement {
  const lab = useLab();
  const session = compareSessionFor(lab);
  const state = useSyncExternalStore(session.subscribe, session.snapshot);
  const running = useLabState((s) => s.phase.phase === 'running');
  const [kind, setKind] = useState<'write' | 'burn'>(state.workload?.kind ?? 'write');
  const [size, setSize] = useState<number>(state.workload ? (state.workload.kind === 'write' ? state.workload.bytes : state.workload.millions) : 64 << 10);
  const sizes = kind === 'write' ? WRITE_SIZES : BURN_SIZES;
  const busy = state.status === 'preparing' || state.status === 'running';
  const canStart = running && !busy;
  const why = !running ? 'the hypervisor is not running' : busy ? 'a comparison is running' : undefined;
  const start = (): void => {
    if (canStart) session.run(workloadFrom(kind, size)).catch(() => {});
  };

  return (
    <div className="compare-page" data-testid="compare-page" data-status={state.status}>
      <section className="panel compare-controls" aria-labelledby="compare-title">
        <header className="panel-header">
          <h2 id="compare-title">pv vs hvm: the same workload, both ways</h2>
          <p className="panel-facts">teaching OS · presets teaching-os-pv and teaching-os-hvm</p>
        </header>
        <div className="row">
          <label htmlFor="compare-workload">Workload</label>
          <select
            id="compare-workload"
            data-testid="compare-workload"
            value={kind}
            disabled={busy}
            onChange={(e) => {
              const k = e.target.value === 'burn' ? 'burn' : 'write';
              setKind(k);
              setSize(k === 'write' ? 64 << 10 : 20);
            }}
          >
            <option value="write">console output (write N bytes)</option>
            <option value="burn">CPU (burn N million xorshift steps)</option>
          </select>
          <label htmlFor="compare-size">Size</label>
          <select id="compare-size" data-testid="compare-size" value={size} disabled={busy} onChange={(e) => setSize(Number(e.target.value))}>
            {sizes.map((n) => (
              <option key={n} value={n}>
                {kind === 'write' ? f.bytes(n) : `${n} million`}
              </option>
            ))}
          </select>
          <button type="button" className="primary" data-testid="compare-start" aria-disabled={!canStart} title={why} onClick={start}>
            Start both
          </button>
          <code className="compare-command" data-testid="compare-command">
            {kind === 'write' ? `write ${size}` : `burn ${size}`}
          </code>
        </div>
        <p className={state.status === 'failed' ? 'error-line' : 'info-line'} data-testid="compare-status" data-status={state.status} role="status">
          {state.status === 'idle'
            ? 'Press Start: an idle pv and hvm domain of the teaching OS are reused, or created.'
            : state.status === 'done'
              ? 'Done. Both prompts are back.'
              : state.message}
        </p>
      </section>
      <div className="compare-sides">
        {SIDES.map((side) => (
          <CompareSide key={side} side={side} domid={state.domains[side]} figures={state[side]} />
        ))}
      </div>
      {state.pv && state.hvm && state.verdict ? (
        <div className="compare-summary">
          <CompareVerdict pv={state.pv} hvm={state.hvm} verdict={state.verdict} final={state.status === 'done'} />
          <ExitsTable pv={state.pv} hvm={state.hvm} />
        </div>
      ) : null}
      <div className="compare-consoles">
        {SIDES.map((side) => (
          <CompareConsole key={side} side={side} domid={state.domains[side]} />
        ))}
      </div>
      <HistoryTable runs={state.history} />
    </div>
  );
}
