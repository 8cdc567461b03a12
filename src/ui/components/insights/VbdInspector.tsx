/**
 * The vbd inspector: each virtual disk of a pv domain as blkback sees it (VirtualDisks.inspect
 * in src/core/tools/vbd.ts): the XenbusState of both ends, the shared ring's indices (the
 * frontend's req_prod, the backend's req_cons and rsp_prod; requests in flight =
 * req_prod - req_cons, as io/ring.h counts them), the counters xentop's VBD columns
 * come from, and both xenstore areas, node by node.
 */
import type { ReactElement } from 'react';
import type { VbdInspection } from '../../../web/protocol/hvProtocol';

function Nodes({ title, path, nodes, testId }: { title: string; path: string; nodes: Record<string, string>; testId: string }): ReactElement {
  return (
    <div className="vbd-nodes">
      <h4>
        {title} <span className="muted mono">{path}</span>
      </h4>
      <table className="data" data-testid={testId}>
        <tbody>
          {Object.entries(nodes)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => (
              <tr key={k} data-node={k}>
                <th scope="row" className="mono">
                  {k}
                </th>
                <td className="mono">{v}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  );
}

export function VbdInspector({ domid, vbds }: { readonly domid: number; readonly vbds: readonly VbdInspection[] }): ReactElement {
  return (
    <section className="inspect-section" aria-labelledby="vbd-title" data-testid="vbd-inspector">
      <h3 id="vbd-title">
        Virtual disks <span className="muted">(vbd: blkfront ⇄ blkback, {vbds.length} attached)</span>
      </h3>
      {vbds.length === 0 ? (
        <p className="muted" data-testid="vbd-empty">
          No pv disks. Give the domain one with xl.cfg <code>disk = [...]</code>, <code>xl block-attach</code> or the Disks panel.
        </p>
      ) : null}
      {vbds.map((v) => {
        const r = v.ring;
        const refused = Object.values(v.stats.refused).reduce((a, b) => a + b, 0) + v.stats.badRing;
        return (
          <div
            key={v.devid}
            className="vbd"
            data-testid={`vbd-${v.vdev}`}
            data-backend-state={v.backendStateName}
            data-frontend-state={v.frontendStateName}
            data-in-flight={r?.inFlight ?? ''}
            data-req-prod={r?.reqProd ?? ''}
            data-rsp-prod={r?.rspProd ?? ''}
          >
            <p className="vbd-head">
              <strong className="mono">{v.vdev}</strong> <span className="muted">device {v.devid}</span> · {v.sectors} sectors
              {v.readOnly ? ' · read-only' : ''} · <span className="mono">{v.spec}</span>
            </p>
            <table className="data">
              <tbody>
                <tr>
                  <th scope="row">Handshake (XenbusState)</th>
                  <td data-testid={`vbd-states-${v.vdev}`}>
                    backend {v.backendStateName} ({v.backendState}) · frontend {v.frontendStateName} ({v.frontendState})
                  </td>
                </tr>
                <tr>
                  <th scope="row">Ring</th>
                  <td data-testid={`vbd-ring-${v.vdev}`}>
                    {r
                      ? `ring-ref ${v.ringRef} · event channel ${v.evtchn} · req_prod ${r.reqProd} · req_cons ${r.reqCons} · rsp_prod ${r.rspProd} · in flight ${r.inFlight}`
                      : 'not connected (no ring mapped)'}
                  </td>
                </tr>
                <tr>
                  <th scope="row">Requests</th>
                  <td data-testid={`vbd-stats-${v.vdev}`}>
                    read {v.stats.rdReq} ({v.stats.rdSect} sectors) · write {v.stats.wrReq} ({v.stats.wrSect} sectors) · flush {v.stats.flReq} · refused{' '}
                    {refused} · notifications in {v.stats.notifyIn}, out {v.stats.notifyOut}
                  </td>
                </tr>
              </tbody>
            </table>
            <div className="vbd-grid">
              <Nodes title="Backend" path={`/local/domain/0/backend/vbd/${domid}/${v.devid}`} nodes={v.backendNodes} testId={`vbd-backend-${v.vdev}`} />
              <Nodes title="Frontend" path={`/local/domain/${domid}/device/vbd/${v.devid}`} nodes={v.frontendNodes} testId={`vbd-frontend-${v.vdev}`} />
            </div>
          </div>
        );
      })}
    </section>
  );
}
