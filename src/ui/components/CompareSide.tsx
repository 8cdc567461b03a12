/**
 * One side of the comparison: the domain, how far its run has got, and its figures. Each
 * figure is a <dd> with data-testid `compare-<side>-<figure>` and the raw number in
 * data-value (ms, bytes, bytes/s, counts, instructions/s, ns), for tests and scripts.
 */
import type { ReactElement } from 'react';
import type { SideFigures } from '../../web/page/compareMeter';
import type { Side } from '../../web/page/compareSession';
import { useLabState } from '../labContext';
import * as f from './compareFormat';

interface Figure {
  readonly key: string;
  readonly label: string;
  readonly title: string;
  readonly value: (s: SideFigures) => number | null;
  readonly text: (s: SideFigures) => string;
}

const FIGURES: readonly Figure[] = [
  {
    key: 'elapsed',
    label: 'Elapsed',
    title: 'Page time from sending the command to the prompt coming back',
    value: (s) => s.elapsedMs,
    text: (s) => f.seconds(s.elapsedMs),
  },
  {
    key: 'bytes',
    label: 'Console output',
    title: 'Bytes the domain sent to its console since the command',
    value: (s) => s.bytes,
    text: (s) => f.bytes(s.bytes),
  },
  {
    key: 'throughput',
    label: 'Throughput',
    title: 'Console bytes per second of elapsed time',
    value: (s) => s.bytesPerSecond,
    text: (s) => f.rate(s.bytesPerSecond),
  },
  {
    key: 'exits',
    label: 'Exits',
    title: 'Exits to the hypervisor (device model accesses, hypercalls, WFI, block) since the command',
    value: (s) => s.exits,
    text: (s) => f.count(s.exits),
  },
  { key: 'exits-per-kib', label: 'Exits per KiB', title: 'Exits per KiB of console output', value: (s) => s.exitsPerKiB, text: (s) => f.perKiB(s.exitsPerKiB) },
  {
    key: 'hypercalls',
    label: 'Hypercalls',
    title: 'Exits that were hypercalls (pv only: an hvm guest makes none)',
    value: (s) => s.hypercalls,
    text: (s) => f.count(s.hypercalls),
  },
  {
    key: 'instructions',
    label: 'Instructions',
    title: 'Instructions the guest retired since the command',
    value: (s) => s.instructions,
    text: (s) => f.count(s.instructions),
  },
  {
    key: 'ips',
    label: 'Instructions/s',
    title: "Instructions over the domain's own clock",
    value: (s) => s.instructionsPerSecond,
    text: (s) => f.mips(s.instructionsPerSecond),
  },
  { key: 'cpu', label: 'CPU time', title: "CPU time the domain's vCPU had since the command", value: (s) => s.cpuNs, text: (s) => f.seconds(s.cpuNs / 1e6) },
];

const PHASE_WORDS: Readonly<Record<SideFigures['phase'], string>> = {
  running: 'running',
  settling: 'prompt is back; waiting for the next statistics report',
  done: 'done',
  failed: 'failed',
};

export function CompareSide(props: { readonly side: Side; readonly domid: number | null; readonly figures: SideFigures | null }): ReactElement {
  const { side, domid, figures: s } = props;
  const domain = useLabState((st) => st.domains.find((d) => d.domid === domid));
  const phase = s?.phase ?? 'idle';
  const pct = s ? Math.round(s.progress * 100) : 0;
  return (
    <section
      className={`panel compare-side ${side}`}
      data-testid={`compare-side-${side}`}
      data-domid={domid ?? ''}
      data-phase={phase}
      aria-labelledby={`compare-title-${side}`}
    >
      <header className="panel-header">
        <h2 id={`compare-title-${side}`}>
          <span className={`type-badge ${side}`}>{side}</span> {domain ? domain.name : side === 'pv' ? 'paravirtualized' : 'fully virtualized'}
          {domid !== null ? <span className="domid">dom{domid}</span> : null}
        </h2>
        <p className="panel-facts" data-testid={`compare-${side}-phase`}>
          {s ? PHASE_WORDS[s.phase] : 'not started'}
        </p>
      </header>
      <p className="compare-how muted">
        {side === 'pv'
          ? 'Console: a shared ring page and an event channel; the guest notifies once per 512 bytes.'
          : 'Console: an emulated 16550A UART; every byte is an LSR read and a THR write, each an exit to the device model.'}
      </p>
      <div
        className="compare-progress"
        role="progressbar"
        aria-label={`${side} progress`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        data-testid={`compare-${side}-progress`}
        data-value={s?.progress ?? 0}
      >
        <div style={{ width: `${pct}%` }} />
      </div>
      {s?.error ? (
        <p className="error-line" role="alert" data-testid={`compare-${side}-error`}>
          {s.error}
        </p>
      ) : null}
      <dl className="compare-figures">
        {FIGURES.map((fig) => {
          const v = s ? fig.value(s) : null;
          return (
            <div key={fig.key} title={fig.title}>
              <dt>{fig.label}</dt>
              <dd data-testid={`compare-${side}-${fig.key}`} data-value={v ?? ''}>
                {s ? fig.text(s) : '–'}
              </dd>
            </div>
          );
        })}
        <div title="What the guest measured itself, with its own clock (docs/teaching-os.md)">
          <dt>Guest says</dt>
          <dd data-testid={`compare-${side}-guest-timing`} data-value={s?.guestSeconds ?? ''} className="guest-timing">
            {s?.guestTiming ?? '–'}
          </dd>
        </div>
      </dl>
    </section>
  );
}
