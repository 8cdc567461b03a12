/**
 * Whether the page may have shared memory. Isolated: a quiet badge in the header. Not
 * isolated: a visible notice that says why, since the hypervisor cannot run without it.
 */
import type { ReactElement } from 'react';
import type { IsolationStatus } from '../../web/page/isolation';
import { useLabState } from '../labContext';

const VIA: Record<IsolationStatus['via'], string> = {
  headers: 'COOP/COEP headers',
  'service-worker': 'isolation service worker',
  none: 'not isolated',
};

export function IsolationBadge(): ReactElement {
  const isolation = useLabState((s) => s.isolation);
  return (
    <p
      className={`isolation-badge ${isolation.isolated ? 'ok' : 'warn'}`}
      data-testid="isolation-status"
      data-isolation={isolation.via}
      title={isolation.reason ?? 'SharedArrayBuffer is available: machine memory is shared between the hypervisor and the vCPU workers'}
    >
      <span aria-hidden="true">{isolation.isolated ? '●' : '▲'}</span>{' '}
      {isolation.isolated ? `cross-origin isolated (${VIA[isolation.via]})` : 'not cross-origin isolated'}
    </p>
  );
}

export function IsolationNotice(): ReactElement | null {
  const isolation = useLabState((s) => s.isolation);
  if (isolation.isolated) return null;
  return (
    <div className="notice warn" role="alert" data-testid="isolation-notice">
      <strong>No shared memory: this page is not cross-origin isolated.</strong>
      <p>{isolation.reason}</p>
      <p>
        The hypervisor keeps machine memory and every vCPU's control block in SharedArrayBuffers, which browsers only give to isolated pages: no domain can run
        here. See docs/browser.md.
      </p>
    </div>
  );
}
