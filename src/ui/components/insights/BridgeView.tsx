/**
 * A bridge as `brctl show` and `brctl showmacs` show it, with the counters `ip -s link`
 * would give per port: each port (Domain-0's own interface, every guest's vif) with frames
 * and bytes each way and its drops, then the MAC table the bridge learned, with ages
 * (entries go after the ageing time without a frame: IEEE 802.1D, 300 s by default).
 */
import type { ReactElement } from 'react';
import type { NetBridgeView } from '../../../web/protocol/netTypes';
import { count } from '../format';

const n = (v: number): string => count.format(v);

export function BridgeView({ bridge }: { readonly bridge: NetBridgeView }): ReactElement {
  return (
    <section className="inspect-section" aria-labelledby={`bridge-${bridge.name}-title`} data-testid={`bridge-${bridge.name}`} data-ports={bridge.ports.length}>
      <h3 id={`bridge-${bridge.name}-title`}>
        Bridge <span className="mono">{bridge.name}</span>{' '}
        <span className="muted">
          ({bridge.ports.length} ports, learning, ageing {Math.round(bridge.ageingMs / 1000)} s, no STP)
        </span>
      </h3>
      <table className="data" data-testid={`bridge-ports-${bridge.name}`}>
        <thead>
          <tr>
            <th scope="col">Port</th>
            <th scope="col" className="num" title="frames the port sent into the bridge (from its guest)">
              In (frames)
            </th>
            <th scope="col" className="num">
              In (bytes)
            </th>
            <th scope="col" className="num" title="frames the bridge handed to the port (to its guest)">
              Out (frames)
            </th>
            <th scope="col" className="num">
              Out (bytes)
            </th>
            <th scope="col" className="num" title="malformed or group-source frames from the port">
              In drops
            </th>
            <th scope="col" className="num" title="frames whose source MAC was not the vif's (the vif-bridge script's rule)">
              Spoofed
            </th>
            <th scope="col" className="num" title="broadcasts and floods over the port's allowance (storm control)">
              Flood drops
            </th>
            <th scope="col" className="num" title="frames the port's device could not take (no receive buffer posted)">
              Out drops
            </th>
          </tr>
        </thead>
        <tbody>
          {bridge.ports.map((p) => (
            <tr key={p.name} data-testid={`bridge-port-${p.name}`} data-rx-frames={p.counters.rxFrames} data-tx-frames={p.counters.txFrames}>
              <th scope="row" className="mono">
                {p.name} {p.kind === 'dom0' ? <span className="muted">(Domain-0)</span> : null}
              </th>
              <td className="num">{n(p.counters.rxFrames)}</td>
              <td className="num">{n(p.counters.rxBytes)}</td>
              <td className="num">{n(p.counters.txFrames)}</td>
              <td className="num">{n(p.counters.txBytes)}</td>
              <td className={`num${p.counters.rxDrops > 0 ? ' hot' : ''}`}>{n(p.counters.rxDrops)}</td>
              <td className={`num${p.counters.spoofed > 0 ? ' hot' : ''}`}>{n(p.counters.spoofed)}</td>
              <td className={`num${(p.counters.floodDrops ?? 0) > 0 ? ' hot' : ''}`}>{n(p.counters.floodDrops ?? 0)}</td>
              <td className={`num${p.counters.txDrops > 0 ? ' hot' : ''}`}>{n(p.counters.txDrops)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>
        MAC table <span className="muted">(brctl showmacs {bridge.name})</span>
      </h4>
      {bridge.fdb.length === 0 ? (
        <p className="muted" data-testid={`fdb-empty-${bridge.name}`}>
          Nothing learned yet: the bridge learns a MAC from the first frame it sends.
        </p>
      ) : (
        <table className="data" data-testid={`fdb-${bridge.name}`}>
          <thead>
            <tr>
              <th scope="col">MAC</th>
              <th scope="col">Port</th>
              <th scope="col" className="num">
                Age (s)
              </th>
            </tr>
          </thead>
          <tbody>
            {bridge.fdb.map((e) => (
              <tr key={e.mac} data-testid={`fdb-row-${e.mac}`} data-port={e.port} data-age-ms={e.ageMs}>
                <td className="mono">{e.mac}</td>
                <td className="mono">{e.port}</td>
                <td className="num">{(e.ageMs / 1000).toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
