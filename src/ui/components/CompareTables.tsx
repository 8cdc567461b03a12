/**
 * The comparison's summary: the ratios with bars on a linear scale (so a factor of 80
 * looks like one), the exits of both sides by reason, and the runs so far.
 */
import type { ReactElement } from 'react';
import type { SideFigures, Verdict } from '../../web/page/compareMeter';
import type { CompletedRun } from '../../web/page/compareSession';
import * as f from './compareFormat';

function BarPair(props: {
  readonly id: string;
  readonly label: string;
  readonly pv: number;
  readonly hvm: number;
  readonly text: (n: number) => string;
  readonly ratio: string;
}): ReactElement {
  const max = Math.max(props.pv, props.hvm, Number.MIN_VALUE);
  const bar = (side: 'pv' | 'hvm', v: number): ReactElement => (
    <div className="bar-line">
      <span className={`type-badge ${side}`}>{side}</span>
      <div className="bar-track">
        <div className={`bar ${side}`} style={{ width: `${(v / max) * 100}%` }} />
      </div>
      <span className="bar-value" data-testid={`compare-bar-${props.id}-${side}`} data-value={v}>
        {props.text(v)}
      </span>
    </div>
  );
  return (
    <figure className="bar-pair" data-testid={`compare-bars-${props.id}`}>
      <figcaption>
        {props.label} <strong>{props.ratio}</strong>
      </figcaption>
      {bar('pv', props.pv)}
      {bar('hvm', props.hvm)}
    </figure>
  );
}

export function CompareVerdict(props: {
  readonly pv: SideFigures;
  readonly hvm: SideFigures;
  readonly verdict: Verdict;
  readonly final: boolean;
}): ReactElement {
  const { pv, hvm, verdict: v, final } = props;
  const cpuWork = pv.bytes < 4096 && hvm.bytes < 4096;
  return (
    <section
      className="panel compare-verdict"
      data-testid="compare-verdict"
      data-final={final}
      data-throughput-ratio={v.throughputRatio ?? ''}
      data-exits-ratio={v.exitsPerKiBRatio ?? ''}
      data-elapsed-ratio={v.elapsedRatio ?? ''}
      data-ips-ratio={v.ipsRatio ?? ''}
      aria-labelledby="compare-verdict-title"
    >
      <header className="panel-header">
        <h2 id="compare-verdict-title">{final ? 'Result' : 'So far'}</h2>
        <p className="panel-facts">linear scales; every figure is measured on this page, now</p>
      </header>
      <div className="bar-grid">
        {cpuWork ? (
          <BarPair
            id="ips"
            label="Instructions per second: pv / hvm"
            pv={pv.instructionsPerSecond}
            hvm={hvm.instructionsPerSecond}
            text={f.mips}
            ratio={f.times(v.ipsRatio)}
          />
        ) : (
          <BarPair
            id="throughput"
            label="Console throughput: pv / hvm"
            pv={pv.bytesPerSecond}
            hvm={hvm.bytesPerSecond}
            text={f.rate}
            ratio={f.times(v.throughputRatio)}
          />
        )}
        <BarPair
          id="exits-per-kib"
          label="Exits per KiB of output: hvm / pv"
          pv={pv.exitsPerKiB ?? 0}
          hvm={hvm.exitsPerKiB ?? 0}
          text={f.perKiB}
          ratio={f.times(v.exitsPerKiBRatio)}
        />
        <BarPair id="elapsed" label="Elapsed: hvm / pv" pv={pv.elapsedMs} hvm={hvm.elapsedMs} text={f.seconds} ratio={f.times(v.elapsedRatio)} />
      </div>
    </section>
  );
}

export function ExitsTable(props: { readonly pv: SideFigures; readonly hvm: SideFigures }): ReactElement {
  const { pv, hvm } = props;
  const reasons = [...new Set([...Object.keys(pv.exitsByReason), ...Object.keys(hvm.exitsByReason)])].sort(
    (a, b) =>
      Math.max(hvm.exitsByReason[b] ?? 0, pv.exitsByReason[b] ?? 0) - Math.max(hvm.exitsByReason[a] ?? 0, pv.exitsByReason[a] ?? 0) || a.localeCompare(b),
  );
  return (
    <section className="panel compare-table" aria-labelledby="compare-exits-title">
      <header className="panel-header">
        <h2 id="compare-exits-title">Exits by reason</h2>
        <p className="panel-facts">since the command (the idle timer's ticks at either end included)</p>
      </header>
      <div className="table-scroll">
        <table data-testid="compare-exits">
          <thead>
            <tr>
              <th scope="col">reason</th>
              <th scope="col" className="num">
                pv
              </th>
              <th scope="col" className="num">
                hvm
              </th>
            </tr>
          </thead>
          <tbody>
            {reasons.length === 0 ? (
              <tr>
                <td colSpan={3} className="muted">
                  none yet
                </td>
              </tr>
            ) : null}
            {reasons.map((r) => (
              <tr key={r} data-testid={`compare-exit-${r}`} data-reason={r}>
                <th scope="row">
                  <code>{r}</code>
                </th>
                <td className="num" data-testid={`compare-exit-${r}-pv`} data-value={pv.exitsByReason[r] ?? 0}>
                  {f.count(pv.exitsByReason[r] ?? 0)}
                </td>
                <td className="num" data-testid={`compare-exit-${r}-hvm`} data-value={hvm.exitsByReason[r] ?? 0}>
                  {f.count(hvm.exitsByReason[r] ?? 0)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function HistoryTable({ runs }: { readonly runs: readonly CompletedRun[] }): ReactElement | null {
  if (runs.length === 0) return null;
  return (
    <section className="panel compare-table" aria-labelledby="compare-history-title">
      <header className="panel-header">
        <h2 id="compare-history-title">Runs</h2>
        <p className="panel-facts">newest first</p>
      </header>
      <div className="table-scroll">
        <table data-testid="compare-history">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">workload</th>
              <th scope="col" className="num">
                pv elapsed
              </th>
              <th scope="col" className="num">
                hvm elapsed
              </th>
              <th scope="col" className="num">
                pv bytes/s
              </th>
              <th scope="col" className="num">
                hvm bytes/s
              </th>
              <th scope="col" className="num">
                pv exits/KiB
              </th>
              <th scope="col" className="num">
                hvm exits/KiB
              </th>
              <th scope="col" className="num">
                pv MIPS
              </th>
              <th scope="col" className="num">
                hvm MIPS
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.n} data-testid={`compare-run-${r.n}`}>
                <td className="num">{r.n}</td>
                <td>{f.workloadLabel(r.workload)}</td>
                <td className="num">{f.seconds(r.pv.elapsedMs)}</td>
                <td className="num">{f.seconds(r.hvm.elapsedMs)}</td>
                <td className="num">{f.rate(r.pv.bytesPerSecond)}</td>
                <td className="num">{f.rate(r.hvm.bytesPerSecond)}</td>
                <td className="num">{f.perKiB(r.pv.exitsPerKiB)}</td>
                <td className="num">{f.perKiB(r.hvm.exitsPerKiB)}</td>
                <td className="num">{f.mips(r.pv.instructionsPerSecond)}</td>
                <td className="num">{f.mips(r.hvm.instructionsPerSecond)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
