/**
 * A domain's console: an xterm.js terminal that only speaks the Lab's events (v86's
 * SerialAdapterXtermJS is the model). Output: the domain's 'console' events, after what
 * it printed before the view opened. Input: every key typed goes to the domain (its UART
 * for hvm, its console ring for pv).
 */
import { useEffect, useRef, type ReactElement } from 'react';
import { useLab } from '../labContext';
import { openTerminal, type OpenTerminal } from './terminal';

export interface ConsoleViewProps {
  readonly domid: number;
  readonly name: string;
  /** Changes when the console should take the keyboard (`xl console`, the list's Console button). */
  readonly focusNonce: number;
}

export function ConsoleView({ domid, name, focusNonce }: ConsoleViewProps): ReactElement {
  const lab = useLab();
  const host = useRef<HTMLDivElement>(null);
  const terminal = useRef<OpenTerminal | null>(null);

  useEffect(() => {
    const element = host.current;
    if (!element || !lab.has(domid)) return;
    const t = openTerminal(element, {
      label: `Console of ${name} (domain ${domid}): keys you type go to the guest`,
      replay: lab.console(domid).replay(),
      follow: (write) => lab.on('console', (e) => e.domid === domid && write(e.bytes)),
      onData: (data) => {
        if (lab.has(domid)) lab.sendInput(domid, data).catch(() => {});
      },
    });
    terminal.current = t;
    return () => {
      terminal.current = null;
      t.dispose();
    };
  }, [lab, domid, name]);

  useEffect(() => {
    if (focusNonce === 0) return;
    host.current?.scrollIntoView({ block: 'nearest' });
    terminal.current?.term.focus();
  }, [focusNonce]);

  return <div ref={host} className="console" data-testid={`console-${domid}`} role="group" aria-label={`Console of ${name}`} />;
}
