/**
 * The instrument a lab points at, beside its text: the Live panel's own views (graphs,
 * scheduler lanes, inspectors, memory map), for the lab's domain. While the lab runs it is
 * outlined and scrolled into view. The inspectors' data is polled through window.hyperlab
 * every second, as the Inspect tab does.
 */
import { useEffect, useRef, useState, type ReactElement } from 'react';
import type { DomainInspection, MemoryMapView, VbdInspection } from '../../../web/protocol/automationTypes';
import type { Instrument } from '../../../labs/types';
import { DomainTable } from '../DomainTable';
import { GraphsPanel } from '../insights/GraphsPanel';
import { EvtchnTable, GrantTables } from '../insights/InspectTables';
import { MemoryMap } from '../insights/MemoryMap';
import { SchedulerPanel } from '../insights/SchedulerPanel';
import { VbdInspector } from '../insights/VbdInspector';
import { XenstoreTree } from '../insights/XenstoreTree';
import '../insights/insights.css';

const TITLES: Record<Instrument, string> = {
  scheduler: 'Scheduler: who ran on which pCPU',
  graphs: 'Graphs: the last minute',
  evtchn: 'Inspector: event channels',
  grants: 'Inspector: grant table and mappings',
  xenstore: 'Inspector: xenstore',
  vbd: 'Inspector: virtual disk (blkfront ↔ blkback)',
  memory: 'Memory map: the owner of every machine frame',
  console: 'Consoles',
  domains: 'Domains: xl list (CPU time, names)',
};

type Polled = { kind: 'inspect'; value: DomainInspection } | { kind: 'vbd'; value: VbdInspection[] } | { kind: 'memory'; value: MemoryMapView };

/** Poll what an inspector shows, every second while mounted. */
function usePolled(kind: Instrument, domid: number | null): { data: Polled | null; error: string | null } {
  const [data, setData] = useState<Polled | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const api = window.hyperlab;
    if (!api) return;
    let live = true;
    const poll = async (): Promise<void> => {
      try {
        let next: Polled | null = null;
        if (kind === 'memory') next = { kind: 'memory', value: await api.memoryMap() };
        else if (domid !== null && kind === 'vbd') next = { kind: 'vbd', value: await api.vbds(domid) };
        else if (domid !== null && (kind === 'evtchn' || kind === 'grants' || kind === 'xenstore')) next = { kind: 'inspect', value: await api.inspect(domid) };
        if (live) {
          setData(next);
          setError(null);
        }
      } catch (e) {
        if (live) setError(e instanceof Error ? e.message : String(e));
      }
    };
    if (kind === 'scheduler' || kind === 'graphs' || kind === 'console' || kind === 'domains') return;
    void poll();
    const t = setInterval(() => void poll(), 1000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [kind, domid]);
  return { data, error };
}

function Body({ kind, domid, data }: { readonly kind: Instrument; readonly domid: number | null; readonly data: Polled | null }): ReactElement | null {
  if (kind === 'scheduler') return <SchedulerPanel />;
  if (kind === 'graphs') return <GraphsPanel />;
  if (kind === 'console') return null;
  if (kind === 'domains') return <DomainTable />;
  if (domid === null && kind !== 'memory') return <p className="muted">It shows the lab’s domain once the run has created it.</p>;
  if (data?.kind === 'memory') return <MemoryMap map={data.value} />;
  if (data?.kind === 'vbd' && domid !== null) return <VbdInspector domid={domid} vbds={data.value} />;
  if (data?.kind === 'inspect') {
    if (kind === 'evtchn') return <EvtchnTable info={data.value} />;
    if (kind === 'grants') return <GrantTables info={data.value} />;
    return <XenstoreTree tree={data.value.xenstore} />;
  }
  return <p className="muted">reading…</p>;
}

export function LabInstrument({ kind, domid, active }: { readonly kind: Instrument; readonly domid: number | null; readonly active: boolean }): ReactElement {
  const box = useRef<HTMLElement>(null);
  const { data, error } = usePolled(kind, domid);
  // Bring the instrument into view when a run opens it (or switches to another one).
  useEffect(() => {
    if (active) box.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [active, kind, domid]);
  return (
    <section
      ref={box}
      className={`panel lab-instrument${active ? ' highlighted' : ''}`}
      data-testid="lab-instrument"
      data-instrument={kind}
      data-domid={domid ?? ''}
      data-active={active}
      aria-label={TITLES[kind]}
    >
      <header className="panel-header">
        <h2>{TITLES[kind]}</h2>
        {domid !== null ? <p className="panel-facts">domain {domid}</p> : null}
      </header>
      <div className="lab-instrument-body insights-body">
        {error ? (
          <p className="error-line" role="alert">
            {error}
          </p>
        ) : null}
        <Body kind={kind} domid={domid} data={data} />
      </div>
    </section>
  );
}
