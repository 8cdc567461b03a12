/**
 * The packet list of one interface, as Wireshark's list pane and tcpdump's lines: number,
 * time, the port and which way, source, destination, protocol, length, and what tcpdump
 * prints for the frame (core/net/summary.ts, in the worker). The worker keeps the last
 * frames in a ring only while this list polls it (netMonitor.ts); the list keeps the last
 * KEEP rows, follows the newest unless paused, and says how many frames it missed.
 */
import { useEffect, useRef, useState, type ReactElement } from 'react';
import type { PacketRow } from '../../../web/protocol/netTypes';
import { useLab } from '../../labContext';

const POLL_MS = 400;

/** tcpdump's time stamp, HH:MM:SS.uuuuuu in UTC (core/net/summary.ts's tcpdumpTime; the page does not load core code). */
export function packetTime(epochMs: number): string {
  const d = new Date(Math.floor(epochMs));
  const us = Math.floor((epochMs * 1000) % 1_000_000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(us).padStart(6, '0')}`;
}
const KEEP = 500;

export function PacketList({ iface }: { readonly iface: string }): ReactElement {
  const lab = useLab();
  const [rows, setRows] = useState<readonly PacketRow[]>([]);
  const [lost, setLost] = useState(0);
  const [gone, setGone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState('');
  const body = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setRows([]);
    setLost(0);
    setGone(false);
    setError(null);
    let after = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const r = await lab.net({ op: 'packets', iface, after });
        if (stopped) return;
        if (!r.ok) {
          setError(r.error);
        } else {
          after = r.value.next;
          const fresh = r.value.packets;
          if (fresh.length > 0) setRows((old) => [...old, ...fresh].slice(-KEEP));
          if (r.value.lost > 0) setLost((n) => n + r.value.lost);
          setGone(r.value.gone);
          setError(null);
        }
      } catch (e) {
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      void lab.net({ op: 'unwatch', iface }).catch(() => {});
    };
  }, [lab, iface]);

  useEffect(() => {
    const el = body.current;
    if (el && !paused) el.scrollTop = el.scrollHeight;
  }, [rows, paused]);

  // A display filter as plain text (not tcpdump's expressions): rows whose protocol, addresses or line contain it.
  const wanted = filter.trim().toLowerCase();
  const shown = wanted === '' ? rows : rows.filter((p) => `${p.protocol} ${p.source} ${p.destination} ${p.info}`.toLowerCase().includes(wanted));

  return (
    <section className="inspect-section packet-list" aria-labelledby="packet-list-title" data-testid="packet-list" data-iface={iface} data-count={rows.length}>
      <h3 id="packet-list-title">
        Packets on <span className="mono">{iface}</span>{' '}
        <span className="muted">
          (the last {KEEP}, newest last{lost > 0 ? `; ${lost} went by between looks` : ''}
          {gone ? '; the interface is gone' : ''})
        </span>
      </h3>
      <div className="row">
        <label className="check">
          <input type="checkbox" checked={!paused} onChange={(e) => setPaused(!e.target.checked)} data-testid="packet-follow" /> follow the newest
        </label>
        <label>
          Show only{' '}
          <input
            type="search"
            value={filter}
            placeholder="ICMP, 10.0.0.12, echo reply…"
            onChange={(e) => setFilter(e.target.value)}
            data-testid="packet-filter"
            aria-label="show only the frames whose protocol, addresses or line contain this text"
          />
        </label>
        {wanted !== '' ? <span className="muted" data-testid="packet-shown">{`${shown.length} of ${rows.length}`}</span> : null}
        <button type="button" onClick={() => setRows([])} data-testid="packet-clear">
          Clear
        </button>
      </div>
      {error !== null ? (
        <p className="notice fail" role="alert" data-testid="packet-error">
          {error}
        </p>
      ) : null}
      <div className="packet-scroll" ref={body} tabIndex={0} aria-label={`packets on ${iface}`}>
        <table className="data">
          <thead>
            <tr>
              <th scope="col" className="num">
                No.
              </th>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Port</th>
              <th scope="col">Source</th>
              <th scope="col">Destination</th>
              <th scope="col">Protocol</th>
              <th scope="col" className="num">
                Length
              </th>
              <th scope="col">Info (as tcpdump prints it)</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={p.seq} data-testid={`packet-row-${p.seq}`} data-protocol={p.protocol} data-dir={p.dir} data-info={p.info}>
                <td className="num mono">{p.seq}</td>
                <td className="mono">{packetTime(p.timeMs)}</td>
                <td className="mono" title={p.dir === 'in' ? 'from the guest into the bridge' : 'from the bridge to the guest'}>
                  {p.port} {p.dir === 'in' ? '→' : '←'}
                </td>
                <td className="mono">{p.source}</td>
                <td className="mono">{p.destination}</td>
                <td>{p.protocol}</td>
                <td className="num mono">{p.length}</td>
                <td className="mono packet-info">{p.info}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 ? <p className="muted">No frames yet: try ping at a guest's prompt or at Domain-0's.</p> : null}
      </div>
    </section>
  );
}
