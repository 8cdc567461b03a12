/**
 * The Migration panel: live-migrate a domain to another tab of this site (the tabs find
 * each other over a BroadcastChannel), and the migration view: for each migration this tab
 * took part in, the two names the domain has during the move (NAME--migratedaway here,
 * NAME--incoming there), the phases, every pre-copy round (pages sent, pages of zeros,
 * pages dirtied meanwhile, its time, the policy's decision and why), the downtime, and on
 * the receiving side the bytes and pages that arrived. The numbers are the core's own
 * (live/progress.ts), as `xl migrate` prints them. Under the rounds, a heat map per round of
 * the pages the guest dirtied during it, over the domain's frames (pfn 0 top left, a row of
 * HEAT_COLS cells after another): where in its memory the writes went, which the next round
 * sends again.
 */
import { useEffect, useMemo, useRef, useState, type ReactElement } from 'react';
import { useStore } from 'zustand';
import { useLab, useLabState } from '../labContext';
import type { MigrationNotice, MigrationPeer, MigrationStats, RoundStats } from '../../web/protocol/hvProtocol';
import { migrateChoice } from './MigrateButton';
import { sizeText } from './SnapshotsButtons';
import './disks.css';

/** The Node host's address, remembered. */
const HOST_KEY = 'hyperlab.migrate.host';

interface Session {
  readonly id: string;
  readonly side: 'send' | 'receive';
  readonly peer: string;
  names: string[];
  phase: string;
  message: string;
  rounds: RoundStats[];
  /** Each round's dirtied pfns, where the event carried them (by round number). */
  dirty: Map<number, readonly number[]>;
  received: { bytes: number; pages: number } | null;
  stats: MigrationStats | null;
  failed: string | null;
}

/** Fold the notices into one record per migration, newest first. */
function sessionsOf(notices: readonly MigrationNotice[]): Session[] {
  const byId = new Map<string, Session>();
  for (const n of notices) {
    const key = `${n.side}:${n.session}`;
    let s = byId.get(key);
    if (!s) {
      s = { id: key, side: n.side, peer: n.peer, names: [], phase: '', message: '', rounds: [], dirty: new Map(), received: null, stats: null, failed: null };
      byId.set(key, s);
    }
    const e = n.event;
    if (e.kind === 'phase') {
      s.phase = e.phase;
      s.message = e.message;
      // The names it has during the move: the event's, and the one a message names (`NAME--incoming built, paused`).
      for (const name of [e.name, /(\S+--(?:incoming|migratedaway))\b/.exec(e.message)?.[1]]) if (name && !s.names.includes(name)) s.names.push(name);
      if (e.phase === 'failed') s.failed = e.message;
    } else if (e.kind === 'round') {
      s.rounds.push(e.stats);
      if (e.dirtyPfns) s.dirty.set(e.stats.round, e.dirtyPfns);
    } else if (e.kind === 'received') s.received = { bytes: e.bytes, pages: e.pages };
    else if (e.kind === 'done') {
      s.stats = e.stats;
      s.phase = 'done';
    }
  }
  // In the order the domain wears them: NAME then NAME--migratedaway on the source, NAME--incoming then NAME on the target.
  for (const s of byId.values())
    s.names.sort((x, y) => (x.includes('--') === y.includes('--') ? 0 : (x.includes('--') ? 1 : -1) * (s.side === 'send' ? 1 : -1)));
  return [...byId.values()].reverse();
}

export function MigratePanel(): ReactElement {
  const lab = useLab();
  const choice = useStore(migrateChoice);
  const running = useLabState((s) => s.phase.phase === 'running');
  const ids = useLabState((s) =>
    s.domains
      .filter((d) => d.row.shutdown === null && !d.name.endsWith('--migratedaway') && !d.name.endsWith('--incoming'))
      .map((d) => `${d.domid}:${d.name}`)
      .join('\n'),
  );
  const domains = ids === '' ? [] : ids.split('\n').map((x) => ({ domid: Number(x.split(':')[0]), name: x.slice(x.indexOf(':') + 1) }));
  const [notices, setNotices] = useState<readonly MigrationNotice[]>(() => [...lab.migrations]);
  const [peers, setPeers] = useState<readonly MigrationPeer[] | null>(null);
  const [peer, setPeer] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [hostUrl, setHostUrl] = useState(() => {
    try {
      return localStorage.getItem(HOST_KEY) ?? 'ws://127.0.0.1:8790';
    } catch {
      return 'ws://127.0.0.1:8790';
    }
  });
  const [pullName, setPullName] = useState('');
  const open = choice.open;

  useEffect(
    () =>
      lab.on('migration', ({ notice }) => {
        setNotices([...lab.migrations]);
        // A domain arriving opens the view, so the user sees where it came from.
        if (notice.side === 'receive' && !migrateChoice.getState().open) migrateChoice.setState({ open: true });
      }),
    [lab],
  );
  const find = async (): Promise<void> => {
    setError(null);
    const r = await lab.migrationPeers().catch((e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }));
    if (r.ok) {
      setPeers(r.value);
      if (!r.value.some((p) => p.id === peer)) setPeer(r.value[0]?.id ?? '');
    } else setError(r.error);
  };
  useEffect(() => {
    if (open && running) void find();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- look again when opened or asked (choice.nonce), not on every pick
  }, [open, running, choice.nonce]);

  const chosen = choice.domid !== null && domains.some((d) => d.domid === choice.domid) ? choice.domid : domains[0]?.domid;
  const migrate = async (): Promise<void> => {
    if (chosen === undefined || peer === '') return;
    setBusy(true);
    setError(null);
    setDone(null);
    const r = await lab.migrateDomain(chosen, peer).catch((e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }));
    setBusy(false);
    if (r.ok)
      setDone(
        `Migrated ${r.value.name} to ${peers?.find((p) => p.id === peer)?.label ?? peer}: ${r.value.rounds.length} rounds, downtime ${r.value.downtimeMs.toFixed(1)} ms`,
      );
    else setError(r.error);
  };
  const remember = (url: string): void => {
    try {
      localStorage.setItem(HOST_KEY, url);
    } catch {
      /* private mode */
    }
  };
  const toHost = async (): Promise<void> => {
    if (chosen === undefined) return;
    remember(hostUrl);
    setBusy(true);
    setError(null);
    setDone(null);
    const r = await lab
      .migrateToHost(chosen, hostUrl.trim())
      .catch((e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }));
    setBusy(false);
    if (r.ok) setDone(`Migrated ${r.value.name} to ${hostUrl.trim()}: ${r.value.rounds.length} rounds, downtime ${r.value.downtimeMs.toFixed(1)} ms`);
    else setError(r.error);
  };
  const fromHost = async (): Promise<void> => {
    remember(hostUrl);
    setBusy(true);
    setError(null);
    setDone(null);
    const r = await lab
      .migrateFromHost(hostUrl.trim(), pullName.trim())
      .catch((e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }));
    setBusy(false);
    if (r.ok) setDone(`${r.value.name} migrated in from ${hostUrl.trim()} as domain ${r.value.domid}`);
    else setError(r.error);
  };
  const sessions = sessionsOf(notices);

  return (
    <section className="panel disks migration" aria-labelledby="migration-title" data-testid="migration-panel" data-open={open}>
      <header className="panel-header">
        <h2 id="migration-title">Migration</h2>
        <p className="panel-facts">live migration to another tab of this site or a Node host: log-dirty pre-copy rounds, then stop-and-copy</p>
        <button type="button" className="fold" data-testid="migration-toggle" aria-expanded={open} onClick={() => migrateChoice.setState({ open: !open })}>
          {open ? 'Hide' : 'Show'}
        </button>
      </header>
      {open ? (
        <div>
          <div className="row">
            <label htmlFor="migrate-domain">Migrate</label>
            <select
              id="migrate-domain"
              data-testid="migrate-domain"
              value={chosen ?? ''}
              disabled={domains.length === 0}
              onChange={(e) => migrateChoice.setState({ domid: Number(e.target.value) })}
            >
              {domains.map((d) => (
                <option key={d.domid} value={d.domid}>
                  {d.name} ({d.domid})
                </option>
              ))}
            </select>
            <label htmlFor="migrate-peer" className="inline">
              to
            </label>
            <select id="migrate-peer" data-testid="migrate-peer" value={peer} disabled={!peers || peers.length === 0} onChange={(e) => setPeer(e.target.value)}>
              {(peers ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label} ({p.domains} domain{p.domains === 1 ? '' : 's'})
                </option>
              ))}
            </select>
            <button type="button" data-testid="migrate-find" onClick={() => void find()} title="Ask the other tabs of this site over a BroadcastChannel">
              Find tabs
            </button>
            <button type="button" data-testid="migrate-go" disabled={busy || chosen === undefined || peer === ''} onClick={() => void migrate()}>
              {busy ? 'Migrating…' : 'Migrate'}
            </button>
            {peers && peers.length === 0 ? (
              <span className="muted" data-testid="migrate-no-peers">
                no other tab of this site runs the lab: open one
              </span>
            ) : null}
          </div>
          <div className="row">
            <label htmlFor="migrate-host">Node host</label>
            <input
              id="migrate-host"
              data-testid="migrate-host"
              value={hostUrl}
              spellCheck={false}
              style={{ width: '14rem', fontFamily: 'var(--mono)' }}
              onChange={(e) => setHostUrl(e.target.value)}
              title="A hyperlab host started with --listen-ws PORT"
            />
            <button type="button" data-testid="migrate-to-host" disabled={busy || chosen === undefined} onClick={() => void toHost()}>
              Send there
            </button>
            <input
              aria-label="Domain to fetch from the Node host"
              data-testid="migrate-pull-name"
              placeholder="its domain (name or id)"
              value={pullName}
              spellCheck={false}
              onChange={(e) => setPullName(e.target.value)}
            />
            <button type="button" data-testid="migrate-from-host" disabled={busy || pullName.trim() === ''} onClick={() => void fromHost()}>
              Fetch here
            </button>
            <span className="muted">
              <code>hyperlab host --listen-ws 8790</code>
            </span>
          </div>
          {error ? (
            <p className="error-line" role="alert" data-testid="migrate-error">
              {error}
            </p>
          ) : null}
          {done ? (
            <p className="info-line" role="status" data-testid="migrate-message">
              {done}
            </p>
          ) : null}
          {sessions.length === 0 ? (
            <p className="muted row">No migration yet in this tab.</p>
          ) : (
            sessions.slice(0, 5).map((s) => <SessionView key={s.id} s={s} />)
          )}
        </div>
      ) : null}
    </section>
  );
}

function SessionView({ s }: { readonly s: Session }): ReactElement {
  const max = Math.max(1, ...s.rounds.map((r) => Math.max(r.pagesSent, r.pagesDirtied)));
  return (
    <div className="migration-session row" data-testid={`migration-${s.side}`} data-phase={s.phase} style={{ display: 'block' }}>
      <p>
        <strong>{s.side === 'send' ? `sent to ${s.peer}` : `received from ${s.peer}`}</strong> · {s.names.join(' → ') || '…'} ·{' '}
        <span className={s.failed ? 'fail-text' : undefined} data-testid="migration-phase">
          {s.phase}
        </span>
        {s.message ? <span className="muted"> — {s.message}</span> : null}
      </p>
      {s.rounds.length > 0 ? (
        <table className="data disk-table" data-testid="migration-rounds">
          <thead>
            <tr>
              <th scope="col" className="num">
                Round
              </th>
              <th scope="col" className="num">
                Pages sent
              </th>
              <th scope="col" className="num" title="Pages of zeros: a pfn each, no data">
                Zero
              </th>
              <th scope="col" className="num" title="Pages the guest wrote during the round: the next round sends them">
                Dirtied
              </th>
              <th scope="col">Sent / dirtied</th>
              <th scope="col" className="num">
                Bytes
              </th>
              <th scope="col" className="num">
                ms
              </th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody>
            {s.rounds.map((r) => (
              <tr key={r.round} data-testid="migration-round">
                <td className="num">{r.round}</td>
                <td className="num">{r.pagesSent}</td>
                <td className="num">{r.zeroPages}</td>
                <td className="num">{r.pagesDirtied}</td>
                <td style={{ minWidth: '10rem' }}>
                  <div
                    style={{ height: '0.45rem', width: `${(100 * r.pagesSent) / max}%`, background: 'var(--accent, #2563eb)' }}
                    title={`${r.pagesSent} sent`}
                  />
                  <div
                    style={{ height: '0.45rem', width: `${(100 * r.pagesDirtied) / max}%`, background: 'var(--warn, #d97706)' }}
                    title={`${r.pagesDirtied} dirtied`}
                  />
                </td>
                <td className="num">{sizeText(r.bytes)}</td>
                <td className="num">{r.ms.toFixed(1)}</td>
                <td title={r.reason}>
                  {r.decision}
                  <span className="muted"> {r.reason}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {s.dirty.size > 0 ? (
        <div className="migration-heatmaps" style={{ display: 'flex', flexWrap: 'wrap', gap: '0.75rem' }}>
          {[...s.dirty].slice(-6).map(([round, pfns]) => (
            <DirtyHeatMap key={round} round={round} pfns={pfns} total={Math.max(s.rounds[0]?.pagesSent ?? 0, ...pfns.map((p) => p + 1))} />
          ))}
        </div>
      ) : null}
      {s.stats ? (
        <p data-testid="migration-summary">
          {s.stats.rounds.length} rounds · {s.stats.pagesSent} pages ({sizeText(s.stats.bytes)}) in {s.stats.totalMs.toFixed(0)} ms ·{' '}
          <strong data-testid="migration-downtime" data-value={s.stats.downtimeMs}>
            downtime {s.stats.downtimeMs.toFixed(1)} ms
          </strong>{' '}
          · {s.stats.bandwidthMBps.toFixed(1)} MB/s
        </p>
      ) : null}
      {s.received ? (
        <p className="muted">
          received {sizeText(s.received.bytes)}, {s.received.pages} pages
        </p>
      ) : null}
    </div>
  );
}

/** Cells per row of the heat map; at most HEAT_ROWS rows (a large domain gives several pages to a cell). */
export const HEAT_COLS = 128;
export const HEAT_ROWS = 32;

/** The heat map's grid: how many of `pfns` fall in each cell of a domain of `total` frames, and how many frames a cell covers. */
export function heatGrid(pfns: readonly number[], total: number): { rows: number; perCell: number; cells: Uint16Array } {
  const frames = Math.max(1, total);
  const perCell = Math.max(1, Math.ceil(frames / (HEAT_COLS * HEAT_ROWS)));
  const rows = Math.max(1, Math.ceil(frames / perCell / HEAT_COLS));
  const cells = new Uint16Array(rows * HEAT_COLS);
  for (const p of pfns) {
    const c = Math.floor(p / perCell);
    if (p >= 0 && c < cells.length) cells[c]!++;
  }
  return { rows, perCell, cells };
}

function DirtyHeatMap({ round, pfns, total }: { readonly round: number; readonly pfns: readonly number[]; readonly total: number }): ReactElement {
  const ref = useRef<HTMLCanvasElement>(null);
  const grid = useMemo(() => heatGrid(pfns, total), [pfns, total]);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(HEAT_COLS, grid.rows);
    const inDomain = Math.ceil(total / grid.perCell);
    for (let i = 0; i < grid.cells.length; i++) {
      const heat = grid.cells[i]! / grid.perCell; // 0..1: the share of the cell's frames dirtied
      const o = i * 4;
      if (i >= inDomain) img.data.set([255, 255, 255, 0], o);
      else if (heat === 0) img.data.set([226, 232, 240, 255], o);
      else img.data.set([217, Math.round(160 - 100 * heat), Math.round(60 - 50 * heat), 255], o);
    }
    ctx.putImageData(img, 0, 0);
  }, [grid, total]);
  return (
    <figure data-testid="migration-heatmap" data-round={round} data-dirty={pfns.length} data-per-cell={grid.perCell} style={{ margin: 0 }}>
      <canvas
        ref={ref}
        width={HEAT_COLS}
        height={grid.rows}
        style={{ width: `${HEAT_COLS * 2}px`, height: `${grid.rows * 2}px`, imageRendering: 'pixelated', border: '1px solid var(--border, #cbd5e1)' }}
        aria-label={`pages dirtied during round ${round}`}
      />
      <figcaption className="muted">
        round {round}: {pfns.length} pages dirtied{grid.perCell > 1 ? ` (a cell is ${grid.perCell} pages)` : ''}
      </figcaption>
    </figure>
  );
}
