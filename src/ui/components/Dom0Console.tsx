/**
 * Domain-0's console: a terminal over the page's Dom0Shell (src/web/page/dom0Shell.ts), where
 * `xl` commands run against the hypervisor worker, as at `hyperlab host`'s prompt.
 */
import { useEffect, useRef, type ReactElement } from 'react';
import { useDom0Shell, useLabState } from '../labContext';
import { openTerminal, type OpenTerminal } from './terminal';

export function Dom0Console(): ReactElement {
  const shell = useDom0Shell();
  const host = useRef<HTMLDivElement>(null);
  const terminal = useRef<OpenTerminal | null>(null);
  const focus = useLabState((s) => (s.focus?.domid === 0 ? s.focus.nonce : 0));

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const t = openTerminal(element, {
      label: 'Domain-0 console: type xl commands, then Enter',
      replay: shell.log.replay(),
      follow: (write) => shell.onOutput(write),
      onData: (data) => shell.input(data),
      fontSize: 12, // `xl list` is 80 columns: they fit in half a laptop's width
    });
    terminal.current = t;
    return () => {
      terminal.current = null;
      t.dispose();
    };
  }, [shell]);

  useEffect(() => {
    if (focus === 0) return;
    host.current?.scrollIntoView({ block: 'nearest' });
    terminal.current?.term.focus();
  }, [focus]);

  return (
    <section className="panel dom0" aria-labelledby="dom0-title" data-testid="dom0-panel">
      <header className="panel-header">
        <h2 id="dom0-title">
          Domain-0 <span className="domid">dom0</span>
        </h2>
        <p className="panel-facts">
          xl toolstack · try <code>xl list</code>, <code>xl help</code>, <code>ls</code>
        </p>
      </header>
      <div className="console-frame">
        <div ref={host} className="console" data-testid="console-0" role="group" aria-label="Domain-0 console" />
      </div>
    </section>
  );
}
