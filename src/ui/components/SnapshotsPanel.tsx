/**
 * The Snapshots panel: save files kept in the browser (OPFS snapshots/ in the hypervisor
 * worker), so a backup survives a reload: name, domain, size, date; restore, download,
 * delete. Take one of a running domain (`xl save -c`: it runs on), and restore a save file
 * from your computer (made here, or by `xl save` on a Node host: the same bytes). Domain-0's
 * `xl save DOM NAME` and `xl restore NAME` use the same files. Everything here is also
 * window.hyperlab.snapshots (docs/automation.md).
 */
import { useEffect, useState, type ReactElement } from 'react';
import { useStore } from 'zustand';
import { useLab, useLabState } from '../labContext';
import { snapshotStoreOf } from '../snapshotStore';
import type { SnapshotRow } from '../../web/protocol/hvProtocol';
import { downloadBytes, sizeText } from './SnapshotsButtons';
import './disks.css';

/** A save file is the domain's non-zero memory: refuse what no domain of this host could be before reading it. */
const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
const REFRESH_MS = 5000;
const OPEN_KEY = 'hyperlab.snapshots.open';

function loadOpen(): boolean {
  try {
    return localStorage.getItem(OPEN_KEY) === 'true';
  } catch {
    return false;
  }
}

function when(ms: number): string {
  if (ms === 0) return 'unknown';
  const d = new Date(ms);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`;
}

export function SnapshotsPanel(): ReactElement {
  const lab = useLab();
  const store = snapshotStoreOf(lab);
  const { list, error, message, busy, actions } = useStore(store);
  const running = useLabState((s) => s.phase.phase === 'running');
  const ids = useLabState((s) =>
    s.domains
      .filter((d) => d.row.shutdown === null)
      .map((d) => `${d.domid}:${d.name}`)
      .join('\n'),
  );
  const domains = ids === '' ? [] : ids.split('\n').map((x) => ({ domid: Number(x.split(':')[0]), name: x.slice(x.indexOf(':') + 1) }));
  const [open, setOpen] = useState(loadOpen);
  const [target, setTarget] = useState<number | ''>('');
  const [name, setName] = useState('');
  const fold = (next: boolean): void => {
    setOpen(next);
    try {
      localStorage.setItem(OPEN_KEY, JSON.stringify(next));
    } catch {
      /* private mode: not remembered */
    }
  };
  useEffect(() => {
    if (!running) return;
    void actions.refresh();
    if (!open) return;
    const t = setInterval(() => void actions.refresh(), REFRESH_MS);
    return () => clearInterval(t);
  }, [running, actions, open]);

  const rows = list?.snapshots ?? [];
  const chosen = target !== '' && domains.some((d) => d.domid === target) ? target : domains[0]?.domid;
  return (
    <section className="panel disks snapshots" aria-labelledby="snapshots-title" data-testid="snapshots-panel" data-open={open}>
      <header className="panel-header">
        <h2 id="snapshots-title">Snapshots</h2>
        <p className="panel-facts" data-testid="snapshots-facts">
          {list
            ? `${rows.length} save file${rows.length === 1 ? '' : 's'} in ${list.where} · ${sizeText(list.usage)} used of ${sizeText(list.quota)}`
            : 'save files kept in the browser’s storage'}
        </p>
        <button
          type="button"
          className="fold"
          data-testid="snapshots-toggle"
          aria-expanded={open}
          aria-controls={open ? 'snapshots-body' : undefined}
          onClick={() => fold(!open)}
        >
          {open ? 'Hide' : 'Show'}
        </button>
      </header>
      {/* Outside the fold: the domain table's Save and Snapshot buttons report here too. */}
      {error ? (
        <p className="error-line" role="alert" data-testid="snapshots-error">
          {error}
        </p>
      ) : null}
      {message ? (
        <p className="info-line" role="status" data-testid="snapshots-message">
          {message}
        </p>
      ) : null}
      {open ? (
        <div id="snapshots-body">
          {rows.length === 0 ? (
            <p className="muted row" data-testid="snapshots-empty">
              No snapshots yet: take one below or with a domain’s Snapshot button, or type <code>xl save -c DOM NAME</code> in Domain-0.
            </p>
          ) : (
            <div className="table-scroll">
              <table className="data disk-table" data-testid="snapshots-table">
                <thead>
                  <tr>
                    <th scope="col">Snapshot</th>
                    <th scope="col">Domain</th>
                    <th scope="col" className="num">
                      Size
                    </th>
                    <th scope="col">Taken</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <SnapshotRowView key={r.name} row={r} busy={busy || !running} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="row">
            <label htmlFor="snapshot-domain">Snapshot of</label>
            <select
              id="snapshot-domain"
              data-testid="snapshot-domain"
              value={chosen ?? ''}
              disabled={domains.length === 0}
              onChange={(e) => setTarget(Number(e.target.value))}
            >
              {domains.map((d) => (
                <option key={d.domid} value={d.domid}>
                  {d.name} ({d.domid})
                </option>
              ))}
            </select>
            <input
              aria-label="Snapshot name"
              data-testid="snapshot-name"
              style={{ width: '15rem' }}
              placeholder="name (default: domain-date)"
              value={name}
              spellCheck={false}
              onChange={(e) => setName(e.target.value)}
            />
            <button
              type="button"
              data-testid="snapshot-take"
              disabled={busy || chosen === undefined}
              title="xl save -c: the domain runs on"
              onClick={() => {
                if (chosen === undefined) return;
                void actions.take(chosen, name.trim() === '' ? undefined : name.trim()).then((ok) => ok && setName(''));
              }}
            >
              Take snapshot
            </button>
          </div>
          <div className="row">
            <label htmlFor="snapshot-upload">Restore a file</label>
            <input
              id="snapshot-upload"
              type="file"
              data-testid="snapshot-upload"
              disabled={busy || !running}
              onChange={(e) => {
                void (async () => {
                  const file = e.target.files?.[0];
                  e.target.value = '';
                  if (!file) return;
                  if (file.size > MAX_UPLOAD_BYTES) return actions.refuse(`${file.name}: ${sizeText(file.size)} is more than a save file of this lab can be`);
                  await actions.restoreFile(file.name, new Uint8Array(await file.arrayBuffer()));
                })();
              }}
            />
            <span className="muted">an xl save file (from Save here, or `xl save` on a Node host); checked whole before anything is built</span>
          </div>
        </div>
      ) : null}
    </section>
  );
}

function SnapshotRowView({ row, busy }: { readonly row: SnapshotRow; readonly busy: boolean }): ReactElement {
  const actions = snapshotStoreOf(useLab()).getState().actions;
  return (
    <tr data-testid={`snapshot-row-${row.name}`} data-name={row.name} data-domain={row.domain} data-size={row.size}>
      <td className="mono">{row.name}</td>
      <td>
        {row.error ? (
          <span className="fail-text" title={row.error}>
            not a save file
          </span>
        ) : (
          <>
            {row.domain} <span className={`type-badge ${row.type}`}>{row.type}</span>
          </>
        )}
      </td>
      <td className="num" title={`${row.size} bytes`}>
        {sizeText(row.size)}
      </td>
      <td title={row.from ? `of ${row.from}` : undefined}>{when(row.date)}</td>
      <td className="disk-actions">
        <button
          type="button"
          data-testid={`snapshot-restore-${row.name}`}
          disabled={busy || row.error !== null}
          title="xl restore: a new domain (NAME-2 if the name is taken)"
          onClick={() => void actions.restore(row.name)}
        >
          Restore
        </button>
        <button
          type="button"
          data-testid={`snapshot-download-${row.name}`}
          disabled={busy}
          onClick={() => {
            void (async () => {
              const data = await actions.download(row.name);
              if (data) downloadBytes(`${row.name}${/\.[a-z]+$/.test(row.name) ? '' : '.save'}`, data);
            })();
          }}
        >
          Download
        </button>
        <button type="button" data-testid={`snapshot-delete-${row.name}`} disabled={busy} onClick={() => void actions.remove(row.name)}>
          Delete
        </button>
      </td>
    </tr>
  );
}
