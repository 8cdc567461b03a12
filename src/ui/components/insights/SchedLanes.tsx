/**
 * The scheduler view: one lane per pCPU, and on it every slice a vCPU ran there in the
 * last few seconds, coloured by domain (the hypervisor's slice trace, shipped with the
 * statistics reports). Drawn on a canvas: a busy host makes thousands of slices in ten
 * seconds, too many SVG elements to rebuild ten times a second. What is drawn is also in
 * data attributes (slices and domains per lane, busy %), and pointing at a slice says
 * which vCPU it was, how long it ran and why it ended.
 */
import { useEffect, useRef, useState, type MouseEvent, type ReactElement } from 'react';
import type { SliceRecord } from '../../../web/protocol/hvProtocol';
import { useLabState } from '../../labContext';
import { one } from '../format';
import { domainColour, resolveColour } from './colors';
import { useHistoryTick } from './useHistoryTick';

/** vcpuControl.ts's SliceEnd, in words. */
export const SLICE_END: Record<number, string> = {
  1: 'budget used up',
  2: 'WFI (idle)',
  3: 'shut down',
  4: 'crashed',
  5: 'preempted',
  6: 'blocked (SCHEDOP_block)',
  7: 'stopped',
};

/** The lanes move with time: redrawn at every other report or so. */
const REDRAW_MS = 150;
const LANE_H = 28;
const GAP = 6;

interface Lane {
  readonly pcpu: number;
  readonly slices: SliceRecord[];
  readonly busyNs: number;
}

function lanesOf(slices: readonly SliceRecord[], pcpus: number, fromNs: number): Lane[] {
  const lanes: Lane[] = Array.from({ length: pcpus }, (_, pcpu) => ({ pcpu, slices: [], busyNs: 0 }));
  for (const s of slices) {
    if (s.endNs < fromNs || s.pcpu >= pcpus) continue;
    const lane = lanes[s.pcpu]!;
    lane.slices.push(s);
    (lane as { busyNs: number }).busyNs += s.endNs - Math.max(s.startNs, fromNs);
  }
  return lanes;
}

export function SchedLanes({ windowMs }: { readonly windowMs: number }): ReactElement {
  const history = useHistoryTick(REDRAW_MS);
  const pcpus = useLabState((s) => s.host?.pcpus ?? 0);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string | null>(null);
  const nowNs = history.nowMs * 1e6;
  const windowNs = windowMs * 1e6;
  const fromNs = nowNs - windowNs;
  const lanes = lanesOf(history.slices, pcpus, fromNs);
  const height = pcpus * (LANE_H + GAP);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(height * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(height * dpr);
    }
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, height);
    const colours = new Map<number, string>();
    const colour = (domid: number): string => {
      let v = colours.get(domid);
      if (!v) colours.set(domid, (v = resolveColour(c, domainColour(domid))));
      return v;
    };
    g.fillStyle = resolveColour(c, 'var(--surface-2)');
    for (const lane of lanes) g.fillRect(0, lane.pcpu * (LANE_H + GAP), w, LANE_H);
    // Paint by whole pixel columns: a column shows the domain of the last slice that touches
    // it, and a run of equal columns is one rectangle. Thousands of sub-pixel rectangles
    // cost a software canvas more than the rest of the page.
    const cols = Math.max(1, Math.floor(w));
    const owner = new Int32Array(cols);
    for (const lane of lanes) {
      const y = lane.pcpu * (LANE_H + GAP);
      owner.fill(-1);
      for (const s of lane.slices) {
        const x0 = Math.max(0, Math.floor(((Math.max(s.startNs, fromNs) - fromNs) / windowNs) * cols));
        const x1 = Math.min(cols, Math.max(x0 + 1, Math.ceil(((s.endNs - fromNs) / windowNs) * cols))); // a 0.1 ms wake-up still shows
        owner.fill(s.domid, x0, x1);
      }
      for (let x = 0; x < cols;) {
        const d = owner[x]!;
        let end = x + 1;
        while (end < cols && owner[end] === d) end++;
        if (d >= 0) {
          g.fillStyle = colour(d);
          g.fillRect(x, y + 2, end - x, LANE_H - 4);
        }
        x = end;
      }
    }
  });

  const onMove = (e: MouseEvent<HTMLCanvasElement>): void => {
    const rect = e.currentTarget.getBoundingClientRect();
    const lane = lanes[Math.floor((e.clientY - rect.top) / (LANE_H + GAP))];
    const t = fromNs + ((e.clientX - rect.left) / rect.width) * windowNs;
    const slop = (2 / rect.width) * windowNs;
    const s = lane?.slices.find((x) => x.startNs - slop <= t && t <= x.endNs + slop);
    setHover(
      s
        ? `pCPU ${s.pcpu}: domain ${s.domid} vCPU ${s.vcpuId}, ${one.format((s.endNs - s.startNs) / 1e6)} ms, ${((s.endNs - nowNs) / 1e9).toFixed(2)} s ago: ${SLICE_END[s.reason] ?? `reason ${s.reason}`}`
        : null,
    );
  };

  return (
    <div className="sched-lanes" data-testid="sched-lanes">
      <div className="lane-labels" aria-hidden="true">
        {lanes.map((l) => (
          <div key={l.pcpu} className="lane-label" style={{ height: LANE_H, marginBottom: GAP }}>
            pCPU {l.pcpu} <span className="muted">{Math.round((l.busyNs / windowNs) * 100)}%</span>
          </div>
        ))}
      </div>
      <div className="lane-canvas">
        <canvas
          ref={canvas}
          style={{ height }}
          onMouseMove={onMove}
          onMouseLeave={() => setHover(null)}
          role="img"
          aria-label={`Which vCPU ran on each of ${pcpus} pCPUs over the last ${windowMs / 1000} seconds`}
        />
        {lanes.map((l) => (
          <span
            key={l.pcpu}
            hidden
            data-testid={`lane-${l.pcpu}`}
            data-slices={l.slices.length}
            data-domids={[...new Set(l.slices.map((s) => s.domid))].sort((a, b) => a - b).join(',')}
            data-busy={((l.busyNs / windowNs) * 100).toFixed(1)}
          />
        ))}
        <div className="lane-axis muted" aria-hidden="true">
          <span>−{windowMs / 1000} s</span>
          <span>now</span>
        </div>
        <p className="lane-hover" data-testid="lane-hover" aria-live="polite">
          {hover ?? 'Point at a slice to see which vCPU ran and why its slice ended.'}
        </p>
      </div>
    </div>
  );
}
