/**
 * The domain list: xentop's columns (name, id, state, CPU time, CPU %, memory, maximum
 * memory, vCPUs) plus the instruction rate, and the xl controls of each domain. Numbers
 * are also in data-value attributes, for tests and scripts.
 */
import type { ReactElement, ReactNode } from 'react';
import type { DomainView } from '../../web/page/lab';
import { useLabState } from '../labContext';
import { count, cpuSeconds, describeState, mib, one, stateFlags } from './format';
import { LifecycleMenu } from './LifecycleMenu';

/**
 * A button that is unavailable in some states. It says so with aria-disabled rather than
 * `disabled`, so that it keeps the focus when pressing it makes it unavailable (Pause,
 * then Tab to Unpause), and its title says why.
 */
function Control(props: {
  readonly testId: string;
  readonly enabled: boolean;
  readonly why?: string;
  readonly danger?: boolean;
  readonly onClick: () => void;
  readonly children: ReactNode;
}): ReactElement {
  return (
    <button
      type="button"
      className={props.danger ? 'danger' : undefined}
      data-testid={props.testId}
      aria-disabled={!props.enabled}
      title={props.why}
      onClick={props.enabled ? props.onClick : undefined}
    >
      {props.children}
    </button>
  );
}

function DomainRowView({ domain }: { readonly domain: DomainView }): ReactElement {
  const actions = useLabState((s) => s.actions);
  const { domid, name, type, row } = domain;
  const { text, tone } = describeState(row);
  const live = row.state === 'running' || row.state === 'blocked';
  const down = row.state === 'shutdown' || row.state === 'crashed';
  return (
    <tr data-testid={`row-${domid}`} data-domid={domid} data-name={name} data-state={row.state} data-seq={row.seq}>
      <th scope="row">
        <span className="domain-name" data-testid={`name-${domid}`} title={name}>
          {name}
        </span>{' '}
        <span className={`type-badge ${type}`}>{type}</span>
      </th>
      <td className="num">{domid}</td>
      <td data-testid={`state-${domid}`} data-value={row.state} title={row.shutdown?.detail || undefined}>
        <span className={`state-dot tone-${tone}`} aria-hidden="true" /> <code className="flags">{stateFlags(row.state)}</code> {text}
      </td>
      <td className="num" data-testid={`cpu-${domid}`} data-value={row.cpuNs}>
        {cpuSeconds(row.cpuNs)}
      </td>
      <td className="num" data-testid={`cpupct-${domid}`} data-value={row.cpuPct.toFixed(1)}>
        {one.format(row.cpuPct)}
      </td>
      <td className="num" data-testid={`mem-${domid}`} data-value={row.memKiB}>
        {mib(row.memKiB)}
      </td>
      <td className="num" data-testid={`maxmem-${domid}`} data-value={row.maxMemKiB}>
        {mib(row.maxMemKiB)}
      </td>
      <td className="num" data-testid={`vcpus-${domid}`}>
        {row.vcpus.length}
      </td>
      <td className="num" data-testid={`mips-${domid}`} data-value={row.mips.toFixed(2)} title={`${count.format(row.instret)} instructions retired`}>
        {one.format(row.mips)}
      </td>
      <td>
        <div className="controls" role="group" aria-label={`Controls of ${name}`}>
          <Control testId={`pause-${domid}`} enabled={live} onClick={() => actions.pause(domid)}>
            Pause
          </Control>
          <Control testId={`unpause-${domid}`} enabled={row.state === 'paused'} onClick={() => actions.unpause(domid)}>
            Unpause
          </Control>
          <Control
            testId={`shutdown-${domid}`}
            enabled={type === 'pv' && !down}
            why={type === 'pv' ? 'Ask the guest to power off (control/shutdown in xenstore)' : 'An hvm guest has no PV channel to be asked: use Destroy'}
            onClick={() => actions.shutdown(domid)}
          >
            Shutdown
          </Control>
          <Control
            testId={`reboot-${domid}`}
            enabled={row.state !== 'dying'}
            why={
              type === 'pv' && !down
                ? 'Ask the guest to reboot (control/shutdown in xenstore)'
                : 'Hard reset: build the domain again from its config and images'
            }
            onClick={() => actions.reboot(domid)}
          >
            Reboot
          </Control>
          <Control
            testId={`destroy-${domid}`}
            enabled
            danger
            why="Stop the domain at once and free its memory (xl destroy)"
            onClick={() => actions.destroy(domid)}
          >
            Destroy
          </Control>
          <Control testId={`show-console-${domid}`} enabled why="Go to this domain's console" onClick={() => actions.focusConsole(domid)}>
            Console
          </Control>
          <LifecycleMenu
            domid={domid}
            name={name}
            enabled={!down && row.state !== 'dying'}
            migratable={!down && row.state !== 'dying' && !name.includes('--')}
          />
        </div>
      </td>
    </tr>
  );
}

export function DomainTable(): ReactElement {
  const domains = useLabState((s) => s.domains);
  const host = useLabState((s) => s.host);
  const controlMessage = useLabState((s) => s.controlMessage);
  const actions = useLabState((s) => s.actions);
  return (
    <section className="panel domain-list" aria-labelledby="domains-title">
      <header className="panel-header">
        <h2 id="domains-title">Domains</h2>
        {host ? (
          <p className="panel-facts" data-testid="host-facts">
            {host.pcpus} pCPUs · {host.scheduler} scheduler · {mib(host.totalKiB)} of machine memory, {mib(host.freeKiB)} free
          </p>
        ) : null}
      </header>
      <div className="table-scroll">
        <table data-testid="domain-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="num">
                ID
              </th>
              <th scope="col">State</th>
              <th scope="col" className="num" title="CPU time, seconds">
                CPU(s)
              </th>
              <th scope="col" className="num" title="CPU time over the last second, % of one pCPU">
                CPU(%)
              </th>
              <th scope="col" className="num">
                Memory
              </th>
              <th scope="col" className="num">
                Max memory
              </th>
              <th scope="col" className="num">
                vCPUs
              </th>
              <th scope="col" className="num" title="Million instructions per second, over the last second">
                MIPS
              </th>
              <th scope="col">Controls</th>
            </tr>
          </thead>
          <tbody>
            <tr data-testid="row-0" data-domid={0} data-name="Domain-0" data-state="running">
              <th scope="row">Domain-0</th>
              <td className="num">0</td>
              <td>
                <span className="state-dot tone-busy" aria-hidden="true" /> <code className="flags">r-----</code> toolstack
              </td>
              <td className="num" data-testid="dom0-cpu" title="Domain-0's CPU time: its backends and device models, seconds">
                {((host?.dom0CpuNs ?? 0) / 1e9).toFixed(1)}
              </td>
              <td className="num muted" colSpan={5}>
                the hypervisor worker: xl, xenstored, backends
              </td>
              <td>
                <div className="controls">
                  <Control testId="show-console-0" enabled why="Go to Domain-0's console" onClick={() => actions.focusConsole(0)}>
                    Console
                  </Control>
                </div>
              </td>
            </tr>
            {domains.map((d) => (
              <DomainRowView key={d.domid} domain={d} />
            ))}
          </tbody>
        </table>
      </div>
      {controlMessage ? (
        <p
          className={controlMessage.error ? 'error-line' : 'info-line'}
          role={controlMessage.error ? 'alert' : 'status'}
          data-testid={controlMessage.error ? 'control-error' : 'control-message'}
        >
          domain {controlMessage.domid}: {controlMessage.message}
        </p>
      ) : null}
    </section>
  );
}
