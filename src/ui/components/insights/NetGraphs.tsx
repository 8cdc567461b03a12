/**
 * The graphs' network lines: frames per second and bytes per second per interface (each a
 * bridge port: a guest's vifD.N or vifD.N-emu, and Domain-0's own), both ways summed, over
 * the graphs' span. Data: src/ui/netStore.ts over the port counters of every report.
 */
import { useEffect, useState, type ReactElement } from 'react';
import { count } from '../format';
import { useLab } from '../../labContext';
import { netHistoryOf, type NetHistory, type NetRatePoint } from '../../netStore';
import { domainColour, indexColour } from './colors';
import { LineChart, type ChartSeries } from './LineChart';

const int = (v: number): string => count.format(Math.round(v));

/** Re-render with the network history at most every `minMs` (the last report always drawn). */
export function useNetHistory(minMs: number): NetHistory {
  const history = netHistoryOf(useLab());
  const [, setVersion] = useState(0);
  useEffect(() => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const draw = (): void => {
      timer = undefined;
      last = performance.now();
      setVersion(history.version);
    };
    const unsubscribe = history.subscribe(() => {
      if (timer !== undefined) return;
      const wait = last + minMs - performance.now();
      if (wait <= 0) draw();
      else timer = setTimeout(draw, wait);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, [history, minMs]);
  return history;
}

/** A port's label: "vif1.0 (dom 1)", "xenbr0 (Domain-0)". */
export function interfaceLabel(name: string, domid: number | null): string {
  return domid === 0 ? `${name} (Domain-0)` : domid !== null ? `${name} (dom ${domid})` : name;
}

export function NetGraphs({ nowMs, spanMs }: { readonly nowMs: number; readonly spanMs: number }): ReactElement {
  const history = useNetHistory(250);
  const ifaces = [...history.interfaces.values()].sort((a, b) => (a.domid ?? 1e9) - (b.domid ?? 1e9) || a.name.localeCompare(b.name));
  const series = (pick: (p: NetRatePoint) => number, scale = 1): ChartSeries[] =>
    ifaces.map((h, i) => ({
      key: h.name,
      label: interfaceLabel(h.name, h.domid),
      colour: h.domid !== null && h.domid > 0 ? domainColour(h.domid) : indexColour(i + 5),
      dashed: h.domid === 0,
      points: h.points.map((p) => ({ t: p.t, v: pick(p) * scale })),
    }));
  return (
    <>
      <LineChart
        testId="graph-net-frames"
        title="Frames/s per interface (in + out)"
        series={series((p) => p.rxFps + p.txFps)}
        nowMs={nowMs}
        spanMs={spanMs}
        floor={10}
        format={int}
      />
      <LineChart
        testId="graph-net-bytes"
        title="Network throughput per interface"
        series={series((p) => p.rxBps + p.txBps, 1 / 1024)}
        nowMs={nowMs}
        spanMs={spanMs}
        floor={4}
        format={(v) => `${count.format(Math.round(v))} KiB/s`}
      />
    </>
  );
}
