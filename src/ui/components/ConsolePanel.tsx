/** One domain's console, under a header with its name, id, type and state. */
import type { ReactElement } from 'react';
import { useLabState } from '../labContext';
import { ConsoleView } from './ConsoleView';
import { describeState } from './format';

export function ConsolePanel({ domid }: { readonly domid: number }): ReactElement | null {
  const domain = useLabState((s) => s.domains.find((d) => d.domid === domid));
  const focus = useLabState((s) => (s.focus?.domid === domid ? s.focus.nonce : 0));
  if (!domain) return null;
  const { name, type, row } = domain;
  const { text, tone } = describeState(row);
  const titleId = `console-title-${domid}`;
  return (
    <section className="panel" data-testid={`console-panel-${domid}`} data-domid={domid} data-name={name} aria-labelledby={titleId}>
      <header className="panel-header">
        <h2 id={titleId}>
          <span className="domain-name" title={name}>
            {name}
          </span>{' '}
          <span className="domid">dom{domid}</span> <span className={`type-badge ${type}`}>{type}</span>
        </h2>
        <p className="panel-facts">
          <span className={`state-dot tone-${tone}`} aria-hidden="true" /> <span data-testid={`console-state-${domid}`}>{text}</span>
        </p>
      </header>
      <div className="console-frame">
        <ConsoleView domid={domid} name={name} focusNonce={focus} />
      </div>
    </section>
  );
}
