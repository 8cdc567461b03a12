/**
 * The machine memory map: every 4 KiB machine frame as a cell, coloured by the domain
 * that owns it (MachineMemory.owner), with the frames that cross domains marked: pages an
 * active grant offers, pages another domain has mapped, and pv domains' special pages
 * (start_info, shared_info, the console and xenstore rings, the grant table). Frame
 * numbers run left to right, top to bottom; pointing at a cell names its frame.
 */
import { useEffect, useRef, useState, type MouseEvent, type ReactElement } from 'react';
import type { MemoryMapView } from '../../../core/tools/inspect';
import { count } from '../format';
import { domainColour, resolveColour } from './colors';

const MAX_HEIGHT = 280;

interface Layout {
  readonly cols: number;
  readonly cell: number;
}

function layoutOf(width: number, frames: number): Layout {
  // Whole pixels: fractional cells leave hairlines between rows.
  const cell = Math.max(1, Math.min(12, Math.floor(Math.sqrt((width * MAX_HEIGHT) / Math.max(1, frames)))));
  return { cols: Math.max(1, Math.floor(width / cell)), cell };
}

export function MemoryMap({ map }: { readonly map: MemoryMapView }): ReactElement {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string | null>(null);
  const [width, setWidth] = useState(600);
  const { cols, cell } = layoutOf(width, map.nrFrames);
  const rows = Math.ceil(map.nrFrames / cols);
  const height = Math.ceil(rows * cell);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const observer = new ResizeObserver(() => setWidth(Math.max(200, c.parentElement?.clientWidth ?? 600)));
    observer.observe(c.parentElement ?? c);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const c = canvas.current;
    const g = c?.getContext('2d');
    if (!c || !g) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(cols * cell * dpr),
      h = Math.round(height * dpr);
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    g.clearRect(0, 0, c.width, c.height);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const colours = new Map<number, string>();
    const colour = (owner: number): string => {
      let v = colours.get(owner);
      if (!v) colours.set(owner, (v = resolveColour(c, owner < 0 ? 'var(--frame-free)' : domainColour(owner))));
      return v;
    };
    // One rectangle per run of frames with the same owner within a row.
    for (let r = 0; r < rows; r++) {
      let start = r * cols;
      const end = Math.min(map.nrFrames, start + cols);
      while (start < end) {
        const owner = map.owner[start]!;
        let stop = start + 1;
        while (stop < end && map.owner[stop] === owner) stop++;
        g.fillStyle = colour(owner);
        g.fillRect((start - r * cols) * cell, r * cell, (stop - start) * cell, cell);
        start = stop;
      }
    }
    const mark = (mfn: number, css: string): void => {
      g.fillStyle = resolveColour(c, css);
      // At least 3 px, so a single frame shows on a map of 2 px cells.
      const size = Math.max(cell, 3);
      g.fillRect((mfn % cols) * cell - (size - cell) / 2, Math.floor(mfn / cols) * cell - (size - cell) / 2, size, size);
    };
    for (const s of map.special) mark(s.mfn, 'var(--frame-special)');
    for (const s of map.granted) mark(s.mfn, 'var(--frame-granted)');
    for (const s of map.mapped) mark(s.mfn, 'var(--frame-mapped)');
  }, [map, cols, cell, rows, height]);

  const names = new Map(map.domains.map((d) => [d.domid, d.name]));
  const onMove = (e: MouseEvent<HTMLCanvasElement>): void => {
    const rect = e.currentTarget.getBoundingClientRect();
    const mfn = Math.floor((e.clientY - rect.top) / cell) * cols + Math.floor((e.clientX - rect.left) / cell);
    if (mfn < 0 || mfn >= map.nrFrames) return setHover(null);
    const owner = map.owner[mfn]!;
    const what = [
      ...map.special.filter((s) => s.mfn === mfn).map((s) => s.what),
      ...map.granted.filter((s) => s.mfn === mfn).map((s) => `granted to domain ${s.to} as ref ${s.ref}`),
      ...map.mapped.filter((s) => s.mfn === mfn).map((s) => `mapped by domain ${s.by}`),
    ];
    setHover(
      `machine frame 0x${mfn.toString(16)}: ${owner < 0 ? 'free' : `${names.get(owner) ?? 'domain'} (${owner})`}${what.length ? `, ${what.join(', ')}` : ''}`,
    );
  };

  return (
    <section className="inspect-section memory-map" aria-labelledby="memmap-title" data-testid="memory-map">
      <h3 id="memmap-title">
        Machine memory <span className="muted">{count.format(map.nrFrames)} frames of 4 KiB, one cell each</span>
      </h3>
      <div className="memmap-frame">
        <canvas
          ref={canvas}
          style={{ width: cols * cell, height }}
          onMouseMove={onMove}
          onMouseLeave={() => setHover(null)}
          role="img"
          aria-label="Owner of every machine frame"
        />
      </div>
      <p className="lane-hover" data-testid="memmap-hover" aria-live="polite">
        {hover ?? 'Point at a frame to see whose it is.'}
      </p>
      <ul className="legend" data-testid="memmap-legend">
        {map.domains.map((d) => (
          <li key={d.domid} data-testid={`memmap-dom-${d.domid}`} data-frames={d.frames}>
            <span className="swatch solid" style={{ borderColor: domainColour(d.domid), background: domainColour(d.domid) }} aria-hidden="true" />
            {d.name} ({d.domid}){' '}
            <span className="legend-value">
              {count.format(d.frames)} frames, {count.format(d.frames * 4)} KiB
            </span>
          </li>
        ))}
        <li data-testid="memmap-free" data-frames={map.free}>
          <span className="swatch solid" style={{ borderColor: 'var(--frame-free)', background: 'var(--frame-free)' }} aria-hidden="true" />
          free <span className="legend-value">{count.format(map.free)} frames</span>
        </li>
        <li data-testid="memmap-special" data-count={map.special.length}>
          <span className="swatch solid" style={{ borderColor: 'var(--frame-special)', background: 'var(--frame-special)' }} aria-hidden="true" />
          pv special pages <span className="legend-value">{map.special.length}</span>
        </li>
        <li data-testid="memmap-granted" data-count={map.granted.length}>
          <span className="swatch solid" style={{ borderColor: 'var(--frame-granted)', background: 'var(--frame-granted)' }} aria-hidden="true" />
          granted <span className="legend-value">{map.granted.length}</span>
        </li>
        <li data-testid="memmap-mapped" data-count={map.mapped.length}>
          <span className="swatch solid" style={{ borderColor: 'var(--frame-mapped)', background: 'var(--frame-mapped)' }} aria-hidden="true" />
          mapped by another domain <span className="legend-value">{map.mapped.length}</span>
        </li>
      </ul>
    </section>
  );
}
