/** One machine: its name, controls, status line and console. */
import type { ReactElement, ReactNode } from 'react';
import type { MachineId } from '../../web/lab';
import { useLabState } from '../labContext';
import { ConsoleView } from './ConsoleView';
import { StatusLine } from './StatusLine';

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function mebibytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}

/**
 * A button that is unavailable in some states. It says so with aria-disabled rather
 * than `disabled`, so that it keeps the focus when pressing it makes it unavailable
 * (Pause, then Tab to Resume).
 */
function ControlButton(props: {
  readonly testId: string;
  readonly enabled: boolean;
  readonly onClick: () => void;
  readonly children: ReactNode;
}): ReactElement {
  return (
    <button
      type="button"
      data-testid={props.testId}
      aria-disabled={!props.enabled}
      onClick={props.enabled ? props.onClick : undefined}
    >
      {props.children}
    </button>
  );
}

export function MachinePanel({ id }: { readonly id: MachineId }): ReactElement | null {
  const machine = useLabState((s) => s.machines.find((m) => m.id === id));
  const actions = useLabState((s) => s.actions);
  if (!machine) return null;
  const { name, stats, info } = machine;
  const active = stats.state === 'running' || stats.state === 'waiting';
  const headingId = `machine-title-${id}`;
  return (
    <section
      className="machine"
      data-testid={`machine-${id}`}
      data-machine-id={id}
      data-machine-name={name}
      aria-labelledby={headingId}
    >
      <header className="machine-header">
        <h2 id={headingId}>
          <span className="machine-name">{name}</span>
          <span className="machine-id">dom{id}</span>
        </h2>
        <p className="machine-facts">
          hvm · RV32IMA · {mebibytes(info.memSize)} · entry {hex(info.entry)}
          {info.sharedMemory ? ' · shared RAM' : ''}
        </p>
        <div className="controls" role="toolbar" aria-label={`Controls of ${name}`}>
          <ControlButton testId={`pause-${id}`} enabled={active} onClick={() => actions.pause(id)}>
            Pause
          </ControlButton>
          <ControlButton testId={`resume-${id}`} enabled={stats.state === 'paused'} onClick={() => actions.resume(id)}>
            Resume
          </ControlButton>
          <button type="button" data-testid={`reset-${id}`} onClick={() => actions.reset(id)} title="Reboot from the same image with fresh RAM">
            Reset
          </button>
          <button
            type="button"
            className="danger"
            data-testid={`destroy-${id}`}
            onClick={() => actions.destroy(id)}
            title="Power off and remove this machine (xl destroy)"
          >
            Destroy
          </button>
        </div>
      </header>
      <StatusLine id={id} stats={stats} />
      <ConsoleView id={id} name={name} />
    </section>
  );
}
