/**
 * The virtio-blk inspector: each disk of an hvm domain as the device model sees it
 * (VirtualDisks.inspectVirtio in src/core/tools/vbd.ts): its virtio-mmio slot, register
 * window and PLIC source, the device status bits (virtio 1.x section 2.1), the features the
 * driver accepted, queue 0's indices (the driver's avail idx read from guest memory, the
 * device's last avail and used idx; in flight = avail idx - last avail), and the counters.
 */
import type { ReactElement } from 'react';
import type { VirtioInspection } from '../../../web/protocol/hvProtocol';

const hex = (n: number): string => `0x${n.toString(16)}`;

export function VirtioDiskInspector({ disks }: { readonly disks: readonly VirtioInspection[] }): ReactElement {
  return (
    <section className="inspect-section" aria-labelledby="virtio-title" data-testid="virtio-inspector">
      <h3 id="virtio-title">
        Virtual disks <span className="muted">(virtio-blk over virtio-mmio, {disks.length} attached)</span>
      </h3>
      {disks.length === 0 ? (
        <p className="muted" data-testid="virtio-empty">
          No virtio-blk disks. Give the domain one with xl.cfg <code>disk = [...]</code>.
        </p>
      ) : null}
      {disks.map((v) => {
        const q = v.queue;
        const inFlight = q.availIdx === undefined ? undefined : (q.availIdx - q.lastAvail) & 0xffff;
        const refused = Object.values(v.stats.refused).reduce((a, b) => a + b, 0);
        return (
          <div key={v.devid} className="vbd" data-testid={`virtio-${v.vdev}`} data-status={v.statusNames.join(' ')} data-in-flight={inFlight ?? ''}>
            <p className="vbd-head">
              <strong className="mono">{v.vdev}</strong> <span className="muted">slot {v.slot}</span> · {hex(v.address)} · PLIC source {v.irq} · {v.sectors}{' '}
              sectors{v.readOnly ? ' · read-only' : ''} · <span className="mono">{v.spec}</span>
            </p>
            <table className="data">
              <tbody>
                <tr>
                  <th scope="row">Status</th>
                  <td data-testid={`virtio-status-${v.vdev}`}>
                    {hex(v.status)} {v.statusNames.join(' | ') || '(reset)'}
                    {v.lastError ? <span className="fail-text"> · last reset: {v.lastError}</span> : null}
                  </td>
                </tr>
                <tr>
                  <th scope="row">Driver features</th>
                  <td className="mono">
                    {hex(v.driverFeatures[1])}:{hex(v.driverFeatures[0])}
                    {q.eventIdx ? ' · EVENT_IDX' : ''}
                    {q.indirect ? ' · INDIRECT_DESC' : ''}
                  </td>
                </tr>
                <tr>
                  <th scope="row">Queue 0</th>
                  <td data-testid={`virtio-queue-${v.vdev}`}>
                    {q.ready
                      ? `size ${q.num} · avail idx ${q.availIdx ?? '?'} · last avail ${q.lastAvail} · used idx ${q.usedIdx} · in flight ${inFlight ?? '?'}`
                      : 'not ready'}
                  </td>
                </tr>
                <tr>
                  <th scope="row">Requests</th>
                  <td data-testid={`virtio-stats-${v.vdev}`}>
                    read {v.stats.rdReq} ({v.stats.rdSect} sectors) · write {v.stats.wrReq} ({v.stats.wrSect} sectors) · flush {v.stats.flReq} · refused{' '}
                    {refused}
                  </td>
                </tr>
              </tbody>
            </table>
          </div>
        );
      })}
    </section>
  );
}
