/**
 * An xterm.js terminal in an element, the way every console of the page uses it: the
 * page's palette (light or dark), the fit addon, what was printed before it opened, and
 * keys to `onData`. Tab and Shift+Tab move focus on, as everywhere on the page (a
 * console is no keyboard trap); Ctrl+I sends a tab, as on any terminal.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { colorScheme, onColorSchemeChange, TERMINAL_THEMES } from '../theme';

const FONT_FAMILY = 'ui-monospace, "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace';

export interface TerminalOptions {
  /** Accessible name of the terminal's input. */
  readonly label: string;
  /** What the terminal shows before it follows live output. */
  readonly replay: readonly (Uint8Array | string)[];
  /** Start following output; returns the unsubscribe. */
  readonly follow: (write: (data: Uint8Array | string) => void) => () => void;
  readonly onData: (data: string) => void;
  /** Pixels; default 13. */
  readonly fontSize?: number;
}

export interface OpenTerminal {
  readonly term: Terminal;
  dispose(): void;
}

export function openTerminal(element: HTMLElement, o: TerminalOptions): OpenTerminal {
  const term = new Terminal({
    fontFamily: FONT_FAMILY,
    fontSize: o.fontSize ?? 13,
    scrollback: 5000,
    cursorBlink: false,
    cursorInactiveStyle: 'outline',
    convertEol: false,
    theme: TERMINAL_THEMES[colorScheme()],
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(element);
  term.textarea?.setAttribute('aria-label', o.label);
  term.attachCustomKeyEventHandler((e) => e.key !== 'Tab');
  fit.fit();
  for (const chunk of o.replay) term.write(chunk);
  const unfollow = o.follow((data) => term.write(data));
  const unscheme = onColorSchemeChange((scheme) => {
    term.options.theme = TERMINAL_THEMES[scheme];
  });
  const input = term.onData(o.onData);
  const resize = new ResizeObserver(() => {
    if (element.clientWidth > 0 && element.clientHeight > 0) fit.fit();
  });
  resize.observe(element);
  return {
    term,
    dispose() {
      resize.disconnect();
      input.dispose();
      unscheme();
      unfollow();
      term.dispose();
    },
  };
}
