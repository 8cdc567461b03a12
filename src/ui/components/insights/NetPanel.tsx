/**
 * The Network tab: Domain-0's virtual network live. Per interface (each bridge, then every
 * guest's vif) its rates and counters, a Packets button that opens its packet list below,
 * and a Capture button that starts a capture in the worker and, pressed again, downloads
 * the pcap file (LINKTYPE_ETHERNET: tcpdump -r and Wireshark open it). Then each bridge
 * (ports, counters, drops, MAC table with ages), Domain-0's DHCP leases, and the capture
 * files `xl network-capture` wrote in the browser's storage (OPFS captures/). It reads the
 * worker once a second while shown (netMonitor.ts); the rates come with every report.
 */
import { useCallback, useEffect, useState, type ReactElement } from 'react';
import type { CaptureFileRow, NetView } from '../../../web/protocol/netTypes';
import { useLab, useLabState } from '../../labContext';
import { count } from '../format';
import { BridgeView } from './BridgeView';
import { interfaceLabel, useNetHistory } from './NetGraphs';
import { NetLinks } from './NetLinks';
import { PacketList } from './PacketList';
import './NetPanel.css';

const VIEW_MS = 1000;
const FILES_MS = 5000;

function saveAs(name: string, data: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([data as Uint8Array<ArrayBuffer>], { type: 'application/vnd.tcpdump.pcap' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** 20261203T230110: a file name's time stamp (UTC). */
const stamp = (): string => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
const rate = (v: number | undefined): string => (v === undefined ? '…' : count.format(Math.round(v)));

export function NetPanel(): ReactElement {
  const lab = useLab();
  const history = useNetHistory(500);
  const names = useLabState((s) => s.domains);
  const [view, setView] = useState<NetView | null>(null);
  const [files, setFiles] = useState<readonly CaptureFileRow[]>([]);
  const [chosen, setChosen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const refresh = useCallback(async (): Promise<void> => {
    const r = await lab.net({ op: 'view' });
    if (r.ok) setView(r.value);
    else setError(r.error);
  }, [lab]);
  const refreshFiles = useCallback(async (): Promise<void> => {
    const r = await lab.net({ op: 'files' });
    setFiles(r.ok ? r.value : []);
  }, [lab]);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const tick = async (): Promise<void> => {
      await refresh().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
      if (!stopped) timer = setTimeout(() => void tick(), VIEW_MS);
    };
    void tick();
    void refreshFiles().catch(() => {});
    const files = setInterval(() => void refreshFiles().catch(() => {}), FILES_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(files);
    };
  }, [refresh, refreshFiles]);

  const domainName = (domid: number | null): string =>
    domid === null ? '' : domid === 0 ? 'Domain-0' : (names.find((d) => d.domid === domid)?.name ?? `domain ${domid}`);

  const capture = async (iface: string): Promise<void> => {
    setError(null);
    setMessage(null);
    const running = view?.captures.find((c) => c.iface === iface);
    if (!running) {
      const r = await lab.net({ op: 'captureStart', iface });
      if (r.ok) setMessage(`capturing ${iface}: press Stop to download the pcap file`);
      else setError(r.error);
    } else {
      const r = await lab.net({ op: 'captureStop', id: running.id });
      if (r.ok) {
        const name = `${iface}-${stamp()}.pcap`;
        saveAs(name, r.value.bytes);
        setMessage(
          `${name}: ${r.value.row.frames} frames, ${r.value.bytes.length} bytes${r.value.row.dropped > 0 ? ` (${r.value.row.dropped} left out at the size limit)` : ''}`,
        );
      } else setError(r.error);
    }
    await refresh();
  };

  const download = async (name: string): Promise<void> => {
    const r = await lab.net({ op: 'file', name });
    if (r.ok) saveAs(name, r.value);
    else setError(r.error);
  };
  const remove = async (name: string): Promise<void> => {
    const r = await lab.net({ op: 'deleteFile', name });
    if (!r.ok) setError(r.error);
    await refreshFiles();
  };

  const bridges = view?.bridges ?? [];
  const rows = [
    ...bridges.map((b) => ({ iface: b.name, label: `${b.name} (whole bridge)`, domid: null as number | null, mac: '', port: undefined })),
    ...bridges.flatMap((b) =>
      b.ports
        .filter((p) => p.kind !== 'dom0')
        .map((p) => ({ iface: p.name, label: interfaceLabel(p.name, p.domid), domid: p.domid, mac: p.mac ?? '', port: p })),
    ),
  ];

  return (
    <div className="inspect net-panel" data-testid="net-panel">
      <p className="muted">
        Domain-0 {view ? <span className="mono">{view.dom0.ip}</span> : null} on <span className="mono">xenbr0</span>: every guest interface is a port of the
        bridge (pv: netfront ⇄ netback, hvm: virtio-net). In = from the guest into the bridge, out = to the guest.
      </p>
      {error !== null ? (
        <p className="notice fail" role="alert" data-testid="net-error">
          {error}
        </p>
      ) : null}
      {message !== null ? (
        <p className="muted" role="status" data-testid="net-message">
          {message}
        </p>
      ) : null}
      <div className="net-table">
        <table className="data" data-testid="net-interfaces">
          <thead>
            <tr>
              <th scope="col">Interface</th>
              <th scope="col">Domain</th>
              <th scope="col">MAC</th>
              <th scope="col" className="num">
                In/s
              </th>
              <th scope="col" className="num">
                Out/s
              </th>
              <th scope="col" className="num">
                In (frames)
              </th>
              <th scope="col" className="num">
                Out (frames)
              </th>
              <th scope="col" className="num" title="in drops + spoofed + out drops, and netback's refusals">
                Dropped
              </th>
              <th scope="col">Look</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const p = r.port;
              const latest = history.latest(r.iface);
              const dropped = p
                ? p.counters.rxDrops +
                  p.counters.spoofed +
                  p.counters.txDrops +
                  (p.counters.floodDrops ?? 0) +
                  (p.backend ? p.backend.refused + p.backend.rxDropped : 0)
                : 0;
              const cap = view?.captures.find((c) => c.iface === r.iface);
              return (
                <tr
                  key={r.iface}
                  data-testid={`net-iface-${r.iface}`}
                  data-rx-frames={p?.counters.rxFrames ?? ''}
                  data-tx-frames={p?.counters.txFrames ?? ''}
                  data-rx-fps={latest ? latest.rxFps.toFixed(1) : ''}
                  data-tx-fps={latest ? latest.txFps.toFixed(1) : ''}
                >
                  <th scope="row" className="mono">
                    {r.label}
                  </th>
                  <td>{domainName(r.domid)}</td>
                  <td className="mono">{r.mac}</td>
                  <td className="num">{p ? rate(latest?.rxFps) : ''}</td>
                  <td className="num">{p ? rate(latest?.txFps) : ''}</td>
                  <td className="num">{p ? count.format(p.counters.rxFrames) : ''}</td>
                  <td className="num">{p ? count.format(p.counters.txFrames) : ''}</td>
                  <td className={`num${dropped > 0 ? ' hot' : ''}`}>{p ? count.format(dropped) : ''}</td>
                  <td className="net-actions">
                    <button
                      type="button"
                      aria-pressed={chosen === r.iface}
                      data-testid={`net-packets-${r.iface}`}
                      onClick={() => setChosen(chosen === r.iface ? null : r.iface)}
                    >
                      Packets
                    </button>
                    <button type="button" data-testid={`net-capture-${r.iface}`} data-capturing={cap !== undefined} onClick={() => void capture(r.iface)}>
                      {cap ? `Stop (${cap.frames}) & download` : 'Capture'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {rows.length <= bridges.length ? (
        <p className="muted" data-testid="net-no-vifs">
          No guest has an interface yet: create <code>teaching-os-pv-net1</code> and <code>teaching-os-pv-net2</code>, or give a domain{' '}
          <code>vif = [ &apos;&apos; ]</code>.
        </p>
      ) : null}
      {chosen !== null ? <PacketList iface={chosen} /> : null}
      <NetLinks />
      <div className="inspect-grid">
        {bridges.map((b) => (
          <BridgeView key={b.name} bridge={b} />
        ))}
        <section className="inspect-section" aria-labelledby="net-leases-title">
          <h3 id="net-leases-title">
            DHCP leases <span className="muted">(Domain-0, as dnsmasq)</span>
          </h3>
          {(view?.leases.length ?? 0) === 0 ? (
            <p className="muted">None yet: type ifconfig dhcp in a guest.</p>
          ) : (
            <table className="data" data-testid="net-leases">
              <tbody>
                {view!.leases.map((l) => (
                  <tr key={l.mac}>
                    <td className="mono">{l.ip}</td>
                    <td className="mono">{l.mac}</td>
                    <td>{l.expiresInS === 'static' ? 'reserved (ip=)' : `${l.expiresInS} s left`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3 id="net-files-title">
            Capture files <span className="muted">(OPFS captures/, from xl network-capture DOM DEVID FILE)</span>
          </h3>
          {files.length === 0 ? (
            <p className="muted" data-testid="net-files-empty">
              None: at Domain-0&apos;s prompt try <code>xl network-capture -t 5 xenbr0 ping.pcap</code>.
            </p>
          ) : (
            <table className="data" data-testid="net-files">
              <tbody>
                {files.map((f) => (
                  <tr key={f.name} data-testid={`net-file-${f.name}`} data-size={f.size}>
                    <td className="mono">{f.name}</td>
                    <td className="num">{count.format(f.size)} B</td>
                    <td className="net-actions">
                      <button type="button" data-testid={`net-file-download-${f.name}`} onClick={() => void download(f.name)}>
                        Download
                      </button>
                      <button type="button" data-testid={`net-file-delete-${f.name}`} onClick={() => void remove(f.name)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </div>
  );
}
