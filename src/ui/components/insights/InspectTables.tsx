/** The event channel, grant table and maptrack tables of the inspector. */
import type { ReactElement } from 'react';
import type { DomainInspection, EvtchnInfo } from '../../../core/tools/inspect';

const yesNo = (b: boolean | null): string => (b === null ? '–' : b ? 'yes' : 'no');

function peer(e: EvtchnInfo): string {
  switch (e.state) {
    case 'interdomain':
      return `domain ${e.remoteDomid} port ${e.remotePort}`;
    case 'unbound':
      return `waiting for domain ${e.remoteDomid}`;
    case 'virq':
      return `VIRQ_${e.virqName} (${e.virq})`;
    case 'ipi':
      return 'IPI';
  }
}

export function EvtchnTable({ info }: { readonly info: DomainInspection }): ReactElement {
  return (
    <section className="inspect-section" aria-labelledby="evtchn-title">
      <h3 id="evtchn-title">
        Event channels <span className="muted">({info.evtchn.length} ports bound)</span>
      </h3>
      {info.evtchn.length === 0 ? (
        <p className="muted" data-testid="evtchn-empty">
          {info.type === 'hvm' ? 'An hvm domain has no event channels: its devices are emulated (UART, CLINT, PLIC).' : 'No ports bound.'}
        </p>
      ) : (
        <table className="data" data-testid="evtchn-table">
          <thead>
            <tr>
              <th scope="col" className="num">
                Port
              </th>
              <th scope="col">State</th>
              <th scope="col">Peer / VIRQ</th>
              <th scope="col">For</th>
              <th scope="col" className="num">
                vCPU
              </th>
              <th scope="col" title="Bit of evtchn_pending in shared_info">
                Pending
              </th>
              <th scope="col" title="Bit of evtchn_mask in shared_info">
                Masked
              </th>
            </tr>
          </thead>
          <tbody>
            {info.evtchn.map((e) => (
              <tr
                key={e.port}
                data-testid={`evtchn-row-${e.port}`}
                data-state={e.state}
                data-remote-domid={e.remoteDomid ?? ''}
                data-remote-port={e.remotePort ?? ''}
                data-role={e.role ?? ''}
                data-pending={String(e.pending)}
                data-masked={String(e.masked)}
              >
                <td className="num">{e.port}</td>
                <td>{e.state}</td>
                <td>{peer(e)}</td>
                <td>{e.role ?? ''}</td>
                <td className="num">{e.vcpu}</td>
                <td className={e.pending ? 'hot' : undefined}>{yesNo(e.pending)}</td>
                <td>{yesNo(e.masked)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {info.type === 'dom0' ? (
        <p className="muted">
          Domain-0 is the toolstack in JavaScript: it has no shared_info, so its ports have no pending or mask bits (an event calls its backend).
        </p>
      ) : null}
      {info.vcpuInfo.map((v) => (
        <p key={v.vcpuId} className="muted mono" data-testid={`vcpu-info-${v.vcpuId}`}>
          vcpu_info[{v.vcpuId}]: evtchn_upcall_pending={v.upcallPending} evtchn_upcall_mask={v.upcallMask} evtchn_pending_sel=0x{v.pendingSel.toString(16)}
        </p>
      ))}
    </section>
  );
}

export function GrantTables({ info }: { readonly info: DomainInspection }): ReactElement | null {
  if (info.type !== 'pv') return null;
  return (
    <section className="inspect-section" aria-labelledby="gnttab-title">
      <h3 id="gnttab-title">
        Grant table{' '}
        <span className="muted">
          ({info.grants.length} of {info.grantEntries} entries in use)
        </span>
      </h3>
      {info.grants.length === 0 ? (
        <p className="muted" data-testid="gnttab-empty">
          No grants. In the teaching OS, <code>share DOMID</code> grants a page and <code>peek DOMID</code> maps one.
        </p>
      ) : (
        <table className="data" data-testid="gnttab-table">
          <thead>
            <tr>
              <th scope="col" className="num">
                Ref
              </th>
              <th scope="col" className="num">
                To domain
              </th>
              <th scope="col" className="num" title="Guest frame number granted (address >> 12)">
                Frame
              </th>
              <th scope="col">Flags</th>
              <th scope="col">Mapped by</th>
            </tr>
          </thead>
          <tbody>
            {info.grants.map((g) => (
              <tr
                key={g.ref}
                data-testid={`grant-row-${g.ref}`}
                data-domid={g.domid}
                data-frame={g.frame}
                data-flags={g.flags}
                data-mapped={g.mappedBy.length > 0}
              >
                <td className="num">{g.ref}</td>
                <td className="num">{g.domid}</td>
                <td className="num mono">0x{g.frame.toString(16)}</td>
                <td className="mono">{g.flagNames.join(' | ')}</td>
                <td>{g.mappedBy.length > 0 ? g.mappedBy.map((d) => `domain ${d}`).join(', ') : 'not mapped'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>
        Grants it has mapped <span className="muted">(maptrack)</span>
      </h3>
      {info.mapped.length === 0 ? (
        <p className="muted" data-testid="maptrack-empty">
          None.
        </p>
      ) : (
        <table className="data" data-testid="maptrack-table">
          <thead>
            <tr>
              <th scope="col" className="num">
                Handle
              </th>
              <th scope="col">Grant</th>
              <th scope="col" className="num">
                At gfn
              </th>
              <th scope="col" className="num">
                Machine frame
              </th>
              <th scope="col">Access</th>
            </tr>
          </thead>
          <tbody>
            {info.mapped.map((m) => (
              <tr key={m.handle} data-testid={`maptrack-row-${m.handle}`}>
                <td className="num">{m.handle}</td>
                <td>
                  ref {m.ref} of domain {m.granter}
                </td>
                <td className="num mono">0x{m.gfn.toString(16)}</td>
                <td className="num mono">0x{m.mfn.toString(16)}</td>
                <td>{m.readonly ? 'read-only' : 'read/write'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
