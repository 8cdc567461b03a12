/**
 * Live graphs over the last minute: CPU %, MIPS, exits/s, hypercalls/s, event channel
 * sends/s, memory, and disk requests/s and bytes/s (blkback's counters, xentop's VBD_RD,
 * VBD_WR, VBD_RSECT, VBD_WSECT), one line per domain and a dashed one for the host; then, for one
 * domain, its exits by reason and its hypercalls by type. It re-renders with every
 * statistics report (about 10 a second), and only while it is shown.
 */
import { useState, type ReactElement } from 'react';
import { HISTORY_MS, type Metric, type Sample } from '../../../web/page/statsHistory';
import { count, one } from '../format';
import { domainColour, indexColour } from './colors';
import { useLabState } from '../../labContext';
import { LineChart, type ChartSeries } from './LineChart';
import { NetGraphs } from './NetGraphs';
import { useHistoryTick } from './useHistoryTick';

interface MetricInfo {
  readonly title: string;
  readonly floor: number;
  readonly format: (v: number) => string;
}

const int = (v: number): string => count.format(Math.round(v));

export const METRIC_INFO: Record<Metric, MetricInfo> = {
  cpu: { title: 'CPU (% of one pCPU)', floor: 100, format: (v) => `${one.format(v)}%` },
  mips: { title: 'MIPS', floor: 1, format: (v) => one.format(v) },
  exits: { title: 'Exits per second', floor: 10, format: int },
  hypercalls: { title: 'Hypercalls per second', floor: 10, format: int },
  evtchn: { title: 'Event channel sends per second', floor: 10, format: int },
  // Drawn in MiB (the samples are KiB), so the axis rounds to whole MiB.
  mem: { title: 'Memory', floor: 1, format: (v) => `${count.format(Math.round(v))} MiB` },
  disk: { title: 'Disk requests per second', floor: 10, format: int },
  // Drawn in KiB/s (the samples are bytes/s).
  diskBytes: { title: 'Disk throughput', floor: 64, format: (v) => `${count.format(Math.round(v))} KiB/s` },
};

const ORDER: readonly Metric[] = ['cpu', 'mips', 'exits', 'hypercalls', 'evtchn', 'mem', 'disk', 'diskBytes'];
/** The x axis spans the history there is, from 10 s up to HISTORY_MS, so a new page is not all empty axis. */
const MIN_SPAN_MS = 10_000;
/** Graphs of a minute are redrawn about four times a second (reports come ten times). */
const REDRAW_MS = 250;
/** Lines of a breakdown: the busiest reasons. */
const BREAKDOWN_LINES = 6;

function breakdown(samples: readonly Sample[], pick: (s: Sample) => Readonly<Record<string, number>>): ChartSeries[] {
  const total = new Map<string, number>();
  for (const s of samples) for (const [k, v] of Object.entries(pick(s))) total.set(k, (total.get(k) ?? 0) + v);
  const keys = [...total]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, BREAKDOWN_LINES)
    .map(([k]) => k)
    .sort();
  return keys.map((k, i) => ({ key: k, label: k, colour: indexColour(i), points: samples.map((s) => ({ t: s.t, v: pick(s)[k] ?? 0 })) }));
}

export function GraphsPanel(): ReactElement {
  const history = useHistoryTick(REDRAW_MS);
  // CPU % cannot pass 100 per pCPU (a rate over a short first window of samples can).
  const pcpus = useLabState((s) => s.host?.pcpus ?? 1);
  const [chosen, setChosen] = useState<number | null>(null);
  const domains = [...history.domains.values()].sort((a, b) => a.domid - b.domid);
  const focus = domains.find((d) => d.domid === chosen) ?? domains[0];
  const nowMs = history.nowMs;
  const oldest = history.host[0]?.t ?? nowMs;
  const spanMs = Math.min(HISTORY_MS, Math.max(MIN_SPAN_MS, Math.ceil((nowMs - oldest) / 1000) * 1000));
  const scale = (m: Metric): number => (m === 'mem' || m === 'diskBytes' ? 1 / 1024 : 1);

  const seriesOf = (m: Metric): ChartSeries[] => [
    ...domains.map((d) => ({
      key: `dom-${d.domid}`,
      label: `${d.name} (${d.domid})`,
      colour: domainColour(d.domid),
      points: d.samples.map((s) => ({ t: s.t, v: s[m] * scale(m) })),
    })),
    ...(domains.length > 0
      ? [
          {
            key: 'host',
            label: m === 'mem' ? 'host (in use)' : 'host (sum)',
            colour: 'var(--text)',
            dashed: true,
            points: history.host.map((s) => ({ t: s.t, v: s[m] * scale(m) })),
          },
        ]
      : []),
  ];

  return (
    <div className="graphs" data-testid="graphs-panel">
      <div className="row breakdown-row">
        <label htmlFor="breakdown-domain">Breakdown of</label>
        <select
          id="breakdown-domain"
          data-testid="breakdown-domain"
          value={focus?.domid ?? ''}
          onChange={(e) => setChosen(Number(e.target.value))}
          disabled={domains.length === 0}
        >
          {domains.map((d) => (
            <option key={d.domid} value={d.domid}>
              {d.name} ({d.domid})
            </option>
          ))}
        </select>
        <span className="muted">in the last two graphs: its exits by reason (hypercalls as one), and its hypercalls by type</span>
        <span className="muted span-note" data-testid="graphs-span">
          last {Math.round(spanMs / 1000)} s
        </span>
      </div>
      <div className="chart-grid">
        {ORDER.map((m) => {
          const info = METRIC_INFO[m];
          return (
            <LineChart
              key={m}
              testId={`graph-${m}`}
              title={info.title}
              series={seriesOf(m)}
              nowMs={nowMs}
              spanMs={spanMs}
              floor={info.floor}
              {...(m === 'cpu' ? { ceiling: pcpus * 100 } : {})}
              format={info.format}
            />
          );
        })}
        <NetGraphs nowMs={nowMs} spanMs={spanMs} />
        <LineChart
          testId="graph-exits-by"
          title={`Exits/s of ${focus?.name ?? '…'}, by reason`}
          series={focus ? breakdown(focus.samples, (s) => s.exitsBy) : []}
          nowMs={nowMs}
          spanMs={spanMs}
          floor={10}
          format={int}
        />
        <LineChart
          testId="graph-hypercalls-by"
          title={`Hypercalls/s of ${focus?.name ?? '…'}, by type`}
          series={focus ? breakdown(focus.samples, (s) => s.hypercallsBy) : []}
          nowMs={nowMs}
          spanMs={spanMs}
          floor={10}
          format={int}
        />
      </div>
    </div>
  );
}
