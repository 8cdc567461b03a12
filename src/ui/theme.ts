/**
 * Light and dark: the page follows prefers-color-scheme through CSS (styles.css); the
 * terminals, which paint on a canvas of their own, follow it through these palettes.
 */
import type { ITheme } from '@xterm/xterm';

export type ColorScheme = 'light' | 'dark';

const DARK_QUERY = '(prefers-color-scheme: dark)';

export function colorScheme(): ColorScheme {
  return window.matchMedia(DARK_QUERY).matches ? 'dark' : 'light';
}

/** Call `listener` whenever the system switches between light and dark; returns the unsubscribe. */
export function onColorSchemeChange(listener: (scheme: ColorScheme) => void): () => void {
  const query = window.matchMedia(DARK_QUERY);
  const handler = (): void => listener(query.matches ? 'dark' : 'light');
  query.addEventListener('change', handler);
  return () => query.removeEventListener('change', handler);
}

/** Terminal palettes with text contrast of at least 7:1 against their background. */
export const TERMINAL_THEMES: Record<ColorScheme, ITheme> = {
  dark: {
    background: '#0f1419',
    foreground: '#e6e1cf',
    cursor: '#f29718',
    cursorAccent: '#0f1419',
    selectionBackground: '#3a4a5c',
    black: '#1c2128',
    red: '#ff6b68',
    green: '#7fd962',
    yellow: '#ffcc66',
    blue: '#73b8ff',
    magenta: '#d2a6ff',
    cyan: '#5ccfe6',
    white: '#e6e1cf',
    brightBlack: '#8b949e',
    brightWhite: '#ffffff',
  },
  light: {
    background: '#fbfbf8',
    foreground: '#1f2328',
    cursor: '#0b5cad',
    cursorAccent: '#fbfbf8',
    selectionBackground: '#c8ddf5',
    black: '#1f2328',
    red: '#b3261e',
    green: '#1a7f37',
    yellow: '#8a6100',
    blue: '#0b5cad',
    magenta: '#8250df',
    cyan: '#0e7490',
    white: '#6e7781',
    brightBlack: '#57606a',
    brightWhite: '#1f2328',
  },
};
