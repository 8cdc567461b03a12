/**
 * A machine's serial console: an xterm.js terminal that only speaks the Lab's events
 * (v86's SerialAdapterXtermJS is the model). Output: 'console' and 'reboot' events.
 * Input: every key typed goes to the guest's UART.
 *
 * Keyboard: Tab and Shift+Tab move focus out, as everywhere on the page, so the console
 * is no keyboard trap; Ctrl+I sends a tab character to the guest, as on any terminal.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef, type ReactElement } from 'react';
import type { MachineId } from '../../web/lab';
import { useLab } from '../labContext';
import { colorScheme, onColorSchemeChange, TERMINAL_THEMES } from '../theme';

export interface ConsoleViewProps {
  readonly id: MachineId;
  readonly name: string;
}

const FONT_FAMILY = 'ui-monospace, "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace';

export function ConsoleView({ id, name }: ConsoleViewProps): ReactElement {
  const lab = useLab();
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const term = new Terminal({
      fontFamily: FONT_FAMILY,
      fontSize: 13,
      scrollback: 5000,
      cursorBlink: false,
      cursorInactiveStyle: 'outline',
      theme: TERMINAL_THEMES[colorScheme()],
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    term.textarea?.setAttribute('aria-label', `Console of ${name}: keys you type go to the guest`);
    term.attachCustomKeyEventHandler((e) => e.key !== 'Tab');
    fit.fit();

    // Catch up with what the guest printed before this view existed, then follow it.
    for (const chunk of lab.machine(id).console.replay()) term.write(chunk);
    const encoder = new TextEncoder();
    const disposers = [
      lab.on('console', (e) => e.id === id && term.write(e.bytes)),
      lab.on('reboot', (e) => e.id === id && term.write(e.marker)),
      onColorSchemeChange((scheme) => {
        term.options.theme = TERMINAL_THEMES[scheme];
      }),
    ];
    const input = term.onData((data) => {
      lab.sendInput(id, encoder.encode(data)).catch(() => {});
    });
    const resize = new ResizeObserver(() => {
      if (element.clientWidth > 0 && element.clientHeight > 0) fit.fit();
    });
    resize.observe(element);

    return () => {
      resize.disconnect();
      input.dispose();
      for (const dispose of disposers) dispose();
      term.dispose();
    };
  }, [lab, id, name]);

  return (
    <div className="console-frame">
      <div ref={host} className="console" data-testid={`console-${id}`} role="group" aria-label={`Serial console of ${name}`} />
      <p className="hint" id={`console-hint-${id}`}>
        Click the console to type to the guest. Tab moves on; Ctrl+I sends a tab.
      </p>
    </div>
  );
}
