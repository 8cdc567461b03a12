/** The lab's page: header with the host, the domain list, creating domains, the disk images, and the consoles. */
import type { ReactElement } from 'react';
import { useLabState } from '../labContext';
import { ComparePage } from './ComparePage';
import { useView, ViewTabs } from './CompareRoute';
import { ConsolePanel } from './ConsolePanel';
import { CreatePanel } from './CreatePanel';
import { Dom0Console } from './Dom0Console';
import { DisksPanel } from './DisksPanel';
import { DomainTable } from './DomainTable';
import { SnapshotsPanel } from './SnapshotsPanel';
import { MigratePanel } from './MigratePanel';
import { HostSettings } from './HostSettings';
import { IsolationBadge, IsolationNotice } from './IsolationNotice';
import { Insights } from './insights/Insights';
import { LabsView } from './labs/LabsView';

export function App(): ReactElement {
  const ids = useLabState((s) => s.domains.map((d) => d.domid).join(','));
  const domids = ids === '' ? [] : ids.split(',').map(Number);
  const phase = useLabState((s) => s.phase);
  const view = useView();
  return (
    <>
      <header className="page-header">
        <h1>
          hyperlab <span className="tagline">Xen-style virtualization lab · RISC-V</span>
        </h1>
        <ViewTabs view={view} />
        <HostSettings />
        <IsolationBadge />
      </header>
      {view === 'compare' ? (
        <main>
          <ComparePage />
        </main>
      ) : null}
      {view === 'labs' ? (
        <main>
          <LabsView />
        </main>
      ) : null}
      {/* The lab stays mounted under another view: its terminals keep their state. */}
      <main hidden={view !== 'lab'}>
        <IsolationNotice />
        {phase.phase === 'failed' ? (
          <div className="notice fail" role="alert" data-testid="hypervisor-error">
            <strong>The hypervisor is not running.</strong>
            <p>{phase.error}</p>
          </div>
        ) : null}
        {phase.phase === 'starting' ? (
          <p className="muted" data-testid="hypervisor-starting">
            starting the hypervisor…
          </p>
        ) : null}
        <DomainTable />
        <Insights />
        <div className="top-grid">
          <CreatePanel />
          <Dom0Console />
        </div>
        {domids.length === 0 && phase.phase === 'running' ? (
          <p className="empty" data-testid="no-domains">
            No guest domains. Create one above, or type <code>xl create hello.cfg</code> in Domain-0.
          </p>
        ) : null}
        <div className="consoles" data-testid="consoles">
          {domids.map((domid) => (
            <ConsolePanel key={domid} domid={domid} />
          ))}
        </div>
        {/* Below the consoles, so that the guests' screens are in view when the page opens. */}
        <DisksPanel />
        <SnapshotsPanel />
        <MigratePanel />
      </main>
    </>
  );
}
