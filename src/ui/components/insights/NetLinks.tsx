/**
 * Links of this page's xenbr0 to other hosts (docs/network.md, "Links between hosts"): a
 * switch that links it to the other tabs of this origin (BroadcastChannel), a field for a
 * Node host's `hyperlab host --listen-ws` address, and one row per link with its peers and
 * counters. The link ports are bridge ports too: the interface table above lists them.
 */
import { useCallback, useEffect, useState, type ReactElement } from 'react';
import type { NetLinksView } from '../../../web/protocol/netTypes';
import { useLab } from '../../labContext';
import { count } from '../format';

const POLL_MS = 1000;

export function NetLinks(): ReactElement {
  const lab = useLab();
  const [view, setView] = useState<NetLinksView | null>(null);
  const [url, setUrl] = useState('ws://127.0.0.1:8003');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async (): Promise<void> => {
    const r = await lab.net({ op: 'links' });
    if (r.ok) setView(r.value);
  }, [lab]);
  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(t);
  }, [refresh]);

  const tabs = view?.links.find((l) => l.remote.startsWith('BroadcastChannel') && l.bridge === 'xenbr0');
  const act = async (f: () => Promise<{ ok: boolean; error?: string }>): Promise<void> => {
    setBusy(true);
    setError(null);
    const r = await f();
    if (!r.ok) setError(r.error ?? 'failed');
    setBusy(false);
    await refresh();
  };

  return (
    <section className="inspect-section" aria-labelledby="net-links-title" data-testid="net-links">
      <h3 id="net-links-title">
        Links to other hosts{' '}
        <span className="muted">
          (this host {view?.host ?? '…'}, Domain-0 in slot {view?.slot ?? '…'})
        </span>
      </h3>
      <label className="net-link-switch">
        <input
          type="checkbox"
          role="switch"
          data-testid="net-link-tabs"
          checked={tabs !== undefined}
          disabled={busy}
          onChange={() => void act(() => (tabs ? lab.net({ op: 'unlink', name: tabs.name }) : lab.net({ op: 'link', bridge: 'xenbr0', to: 'tabs' })))}
        />{' '}
        Link xenbr0 to the other tabs
      </label>{' '}
      <input aria-label="Node host's --listen-ws address" className="mono" value={url} onChange={(e) => setUrl(e.target.value)} size={24} />{' '}
      <button type="button" data-testid="net-link-ws" disabled={busy} onClick={() => void act(() => lab.net({ op: 'link', bridge: 'xenbr0', to: url }))}>
        Link to a Node host
      </button>
      {error !== null ? (
        <p className="notice fail" role="alert" data-testid="net-link-error">
          {error}
        </p>
      ) : null}
      {(view?.links.length ?? 0) === 0 ? (
        <p className="muted">No link: the guests here reach only this tab&apos;s xenbr0.</p>
      ) : (
        <table className="data" data-testid="net-link-rows">
          <thead>
            <tr>
              <th scope="col">Port</th>
              <th scope="col">State</th>
              <th scope="col">Peers (host/slot)</th>
              <th scope="col" className="num">
                Out (frames)
              </th>
              <th scope="col" className="num">
                In (frames)
              </th>
              <th scope="col" className="num" title="malformed PDUs, frames kept from looping, frames the link could not take">
                Dropped
              </th>
              <th scope="col">To</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {view!.links.map((l) => (
              <tr key={l.name} data-testid={`net-link-${l.name}`} data-state={l.state} data-peers={l.peers.length}>
                <th scope="row" className="mono">
                  {l.name}
                </th>
                <td>{l.state}</td>
                <td className="mono">{l.peers.map((p) => `${p.host}/${p.slot}`).join(' ') || '—'}</td>
                <td className="num">{count.format(l.counters.txFrames)}</td>
                <td className="num">{count.format(l.counters.rxFrames)}</td>
                <td className="num">{count.format(l.bad + l.looped + l.counters.txDrops + l.counters.rxDrops)}</td>
                <td className="mono">{l.remote}</td>
                <td>
                  <button type="button" data-testid={`net-unlink-${l.name}`} onClick={() => void act(() => lab.net({ op: 'unlink', name: l.name }))}>
                    Unlink
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(view?.events.length ?? 0) > 0 ? (
        <pre className="mono muted net-link-events" data-testid="net-link-events">
          {view!.events.slice(-6).join('\n')}
        </pre>
      ) : null}
    </section>
  );
}
