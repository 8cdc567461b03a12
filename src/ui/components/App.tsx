/** The lab's page: header, boot bar, and the machines side by side. */
import type { ReactElement } from 'react';
import { useLabState } from '../labContext';
import { BootBar } from './BootBar';
import { IsolationBadge, IsolationNotice } from './IsolationNotice';
import { MachinePanel } from './MachinePanel';

export function App(): ReactElement {
  const ids = useLabState((s) => s.machines.map((m) => m.id).join(','));
  const machineIds = ids === '' ? [] : ids.split(',').map(Number);
  const pending = useLabState((s) => s.boot.pending);
  return (
    <>
      <header className="page-header">
        <h1>
          hyperlab <span className="tagline">RISC-V virtualization lab</span>
        </h1>
        <IsolationBadge />
      </header>
      <main>
        <IsolationNotice />
        <BootBar />
        {machineIds.length === 0 && pending === 0 ? (
          <p className="empty" data-testid="no-machines">
            No machines. Boot a guest image above.
          </p>
        ) : null}
        <div className="machines" data-testid="machines">
          {machineIds.map((id) => (
            <MachinePanel key={id} id={id} />
          ))}
        </div>
      </main>
    </>
  );
}
