/**
 * The translation tier of a running domain (docs/jit.md, core/xen/vcpu/jitControl.ts): a
 * switch (off / on / always) that each vCPU takes at its next slice, the share of the
 * domain's instructions run from translated code and its MIPS over the last minute (so the
 * switch shows in the graph), the tier's counters, and an inspector listing one vCPU's
 * hottest translations with the guest's disassembly beside the JavaScript made of it.
 */
import { useEffect, useRef, useState, type ReactElement } from 'react';
import type { DomainJitStats, JitDump } from '../../../web/protocol/hvProtocol';
import { count, one } from '../format';
import { domainColour } from './colors';
import { useLab, useLabState } from '../../labContext';
import { LineChart } from './LineChart';
import './jit.css';

const MODES = ['off', 'on', 'always'] as const;
const SPAN_MS = 60_000;
/** Rates over at least this much time, so a slice more or less does not make the line jump. */
const MIN_STEP_MS = 500;

interface Point {
  readonly t: number;
  readonly share: number;
  readonly mips: number;
}

/** The newest row of each domain, as `domid|seq|instret|mips|jit` strings the store can compare cheaply. */
function useDomainJit(domid: number | null): { instret: number; mips: number; jit: DomainJitStats | null; seq: number } | null {
  const key = useLabState((s) => {
    const d = s.domains.find((x) => x.domid === domid);
    return d ? JSON.stringify([d.row.seq, d.row.instret, d.row.mips, d.row.jit ?? null]) : '';
  });
  if (key === '') return null;
  const [seq, instret, mips, jit] = JSON.parse(key) as [number, number, number, DomainJitStats | null];
  return { seq, instret, mips, jit };
}

export function JitPanel(): ReactElement {
  const lab = useLab();
  const ids = useLabState((s) => s.domains.map((d) => `${d.domid}:${d.name}`).join('\n'));
  const domains = ids === '' ? [] : ids.split('\n').map((x) => ({ domid: Number(x.split(':')[0]), name: x.slice(x.indexOf(':') + 1) }));
  const [chosen, setChosen] = useState<number | null>(null);
  const domid = chosen !== null && domains.some((d) => d.domid === chosen) ? chosen : (domains[0]?.domid ?? null);
  const now = useDomainJit(domid);
  const [points, setPoints] = useState<readonly Point[]>([]);
  const last = useRef<{ domid: number; t: number; instret: number; translated: number } | null>(null);
  const [dump, setDump] = useState<JitDump | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // A point per half second or so: the share of instructions run translated since the last one.
  useEffect(() => {
    if (now === null || domid === null || now.jit === null) return;
    const t = performance.now();
    const prev = last.current;
    if (prev === null || prev.domid !== domid) {
      last.current = { domid, t, instret: now.instret, translated: now.jit.translated };
      setPoints([]);
      return;
    }
    if (t - prev.t < MIN_STEP_MS) return;
    const ran = now.instret - prev.instret;
    const translated = (now.jit.translated - prev.translated + 0x1_0000_0000) % 0x1_0000_0000;
    const share = ran > 0 ? Math.min(100, (translated / ran) * 100) : 0;
    last.current = { domid, t, instret: now.instret, translated: now.jit.translated };
    setPoints((ps) => [...ps.filter((p) => p.t > t - SPAN_MS), { t, share, mips: now.mips }]);
  }, [now, domid]);

  const setMode = async (mode: (typeof MODES)[number]): Promise<void> => {
    if (domid === null) return;
    const r = await lab.jit(domid, mode);
    setError(r.ok ? null : r.error);
  };
  const inspect = async (): Promise<void> => {
    if (domid === null) return;
    setBusy(true);
    try {
      const r = await lab.jitTranslations(domid);
      if (r.ok) {
        setDump(r.value);
        setError(null);
      } else setError(r.error);
    } finally {
      setBusy(false);
    }
  };

  const jit = now?.jit ?? null;
  const nowMs = performance.now();
  const colour = domid === null ? '#888' : domainColour(domid);
  return (
    <div className="jit-panel" data-testid="jit-panel">
      <div className="row">
        <label>
          Domain{' '}
          <select data-testid="jit-domain" value={domid ?? ''} onChange={(e) => setChosen(Number(e.target.value))}>
            {domains.map((d) => (
              <option key={d.domid} value={d.domid}>
                {d.name} ({d.domid})
              </option>
            ))}
          </select>
        </label>
        <span role="radiogroup" aria-label="Translation tier" className="jit-modes">
          {MODES.map((m) => (
            <button
              key={m}
              type="button"
              role="radio"
              aria-checked={jit?.mode === m}
              data-testid={`jit-mode-${m}`}
              disabled={domid === null}
              title={
                m === 'off'
                  ? 'The interpreter runs every instruction'
                  : m === 'on'
                    ? 'Hot code (pages past 100 000 instructions, entries past 4096 runs) is translated to JavaScript'
                    : 'Every instruction that can be translated is, on its first run (the mode the tests use)'
              }
              onClick={() => void setMode(m)}
            >
              {m}
            </button>
          ))}
        </span>
        <button type="button" data-testid="jit-inspect" disabled={domid === null || busy} onClick={() => void inspect()}>
          {busy ? 'Asking…' : 'Hottest translations'}
        </button>
      </div>
      {error ? (
        <p className="error-line" role="alert" data-testid="jit-error">
          {error}
        </p>
      ) : null}
      {domid === null ? <p className="muted">No domain runs. Start one to see its code translated.</p> : null}
      {jit ? (
        <table className="data" data-testid="jit-stats" data-mode={jit.mode} data-translations={jit.translations}>
          <tbody>
            <tr>
              <th scope="row">Mode</th>
              <td data-testid="jit-stats-mode">{jit.mode}</td>
              <th scope="row">Translations made</th>
              <td data-testid="jit-stats-translations">{count.format(jit.translations)}</td>
              <th scope="row">Invalidated</th>
              <td data-testid="jit-stats-invalidations">{count.format(jit.invalidations)}</td>
              <th scope="row">Cached</th>
              <td data-testid="jit-stats-cached">
                {count.format(jit.cached)} ({count.format(jit.codeKiB)} KiB of JavaScript)
              </td>
            </tr>
          </tbody>
        </table>
      ) : null}
      <div className="chart-grid">
        <LineChart
          testId="graph-jit-share"
          title="Instructions run translated (%)"
          series={[{ key: 'share', label: 'translated', colour, points: points.map((p) => ({ t: p.t, v: p.share })) }]}
          nowMs={nowMs}
          spanMs={SPAN_MS}
          floor={100}
          ceiling={100}
          format={(v) => `${one.format(v)}%`}
        />
        <LineChart
          testId="graph-jit-mips"
          title="MIPS"
          series={[{ key: 'mips', label: 'MIPS', colour, points: points.map((p) => ({ t: p.t, v: p.mips })) }]}
          nowMs={nowMs}
          spanMs={SPAN_MS}
          floor={1}
          format={(v) => one.format(v)}
        />
      </div>
      {dump ? <JitTranslations dump={dump} /> : null}
    </div>
  );
}

function JitTranslations({ dump }: { readonly dump: JitDump }): ReactElement {
  return (
    <section className="inspect-section" aria-labelledby="jit-hot-title" data-testid="jit-translations">
      <h3 id="jit-hot-title">
        Hottest translations of vCPU {dump.vcpuId} <span className="muted">(mode {dump.mode}, keyed by machine address: one serves every virtual mapping)</span>
      </h3>
      {dump.hottest.length === 0 ? <p className="muted">None cached (the tier is off, or nothing was hot yet).</p> : null}
      {dump.hottest.map((t) => (
        <details key={t.off} className="jit-translation" data-testid="jit-translation">
          <summary>
            <span className="mono">0x{(t.off >>> 0).toString(16)}</span> · entered {count.format(t.uses)} times · {t.insns} guest instructions
          </summary>
          <div className="jit-side-by-side">
            <pre className="mono" aria-label="Guest instructions">
              {t.guest.map((g) => `${g.at.toString(16).padStart(3, '0')}  ${g.text}`).join('\n')}
            </pre>
            <pre className="mono" aria-label="Generated JavaScript">
              {t.code}
            </pre>
          </div>
        </details>
      ))}
    </section>
  );
}
