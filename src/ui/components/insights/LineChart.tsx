/**
 * A line chart in plain SVG for the live graphs: time on x (the last `spanMs` up to
 * `nowMs`), one polyline per series, the y axis from 0 to a rounded maximum. The SVG is
 * stretched to its box (preserveAspectRatio none) with non-scaling strokes, so it fills
 * any width without a resize observer. Each polyline carries its point count, latest and
 * largest value in data attributes, for tests and scripts.
 */
import { memo, type ReactElement } from 'react';

export interface ChartPoint {
  readonly t: number;
  readonly v: number;
}

export interface ChartSeries {
  readonly key: string;
  readonly label: string;
  readonly colour: string;
  readonly dashed?: boolean;
  readonly points: readonly ChartPoint[];
}

export interface LineChartProps {
  readonly testId: string;
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly nowMs: number;
  readonly spanMs: number;
  /** The y axis reaches at least this far, and at most `ceiling` (values above it are clipped). */
  readonly floor: number;
  readonly ceiling?: number;
  readonly format: (v: number) => string;
}

const W = 600;
const H = 120;

/** 1, 2 or 5 times a power of ten, at least v. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** At most this many vertices a line: about one per 2 px of a chart on a wide screen. */
const MAX_VERTICES = 300;

function polyline(points: readonly ChartPoint[], from: number, spanMs: number, yMax: number): string {
  let out = '';
  // Thin a long history evenly (keeping the newest point): the chart has fewer pixels than samples.
  const step = Math.ceil(points.length / MAX_VERTICES);
  for (let i = (points.length - 1) % step; i < points.length; i += step) {
    const p = points[i]!;
    const x = ((p.t - from) / spanMs) * W;
    const y = H - (Math.min(p.v, yMax) / yMax) * H;
    out += `${x.toFixed(1)},${y.toFixed(1)} `;
  }
  return out;
}

function LineChartView(props: LineChartProps): ReactElement {
  const { series, nowMs, spanMs } = props;
  const from = nowMs - spanMs;
  let max = props.floor;
  for (const s of series) for (const p of s.points) if (p.v > max) max = p.v;
  const yMax = Math.min(niceCeil(max), props.ceiling ?? Infinity);
  const latest = (s: ChartSeries): number => s.points.at(-1)?.v ?? 0;
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>
        <span className="chart-title">{props.title}</span>
        <span className="chart-scale" title="top of the y axis">
          {props.format(yMax)}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`${props.title}, last ${Math.round(spanMs / 1000)} seconds`}>
        {[0.25, 0.5, 0.75].map((f) => (
          <line key={f} className="grid" x1={0} x2={W} y1={H * f} y2={H * f} vectorEffect="non-scaling-stroke" />
        ))}
        {series.map((s) => (
          <polyline
            key={s.key}
            data-testid={`${props.testId}-${s.key}`}
            data-points={s.points.length}
            data-latest={latest(s).toFixed(2)}
            data-max={s.points.reduce((m, p) => Math.max(m, p.v), 0).toFixed(2)}
            points={polyline(s.points, from, spanMs, yMax)}
            fill="none"
            stroke={s.colour}
            strokeWidth={s.dashed ? 1.5 : 2}
            strokeDasharray={s.dashed ? '5 4' : undefined}
            vectorEffect="non-scaling-stroke"
          />
        ))}
      </svg>
      <ul className="legend">
        {series.map((s) => (
          <li key={s.key}>
            <span className={`swatch${s.dashed ? ' dashed' : ''}`} style={{ borderColor: s.colour }} aria-hidden="true" />
            {s.label} <span className="legend-value">{props.format(latest(s))}</span>
          </li>
        ))}
        {series.length === 0 ? <li className="muted">no data yet</li> : null}
      </ul>
    </figure>
  );
}

export const LineChart = memo(LineChartView);
