/**
 * Helpers that many tests share, written once: waiting (`sleep`, `until`), a domain's
 * console (`consoleText`, `typeInto`, `waitForConsole`) and instruction words for
 * hand-assembled guests (`li`, `wordsToImage`).
 *
 * Test-only (and bench/, for seeded randomness): no product code imports this. The console helpers take the
 * few members they use (structural types), so they work for any domain-like object.
 */
import { assemble } from '../core/cpu/asm';
import { li as liInsns } from '../core/cpu/testing';

/** Resolve after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `cond` every `pollMs` until it holds; reject with "timed out" (and `what`, when
 * given) after `ms` milliseconds.
 */
export async function until(cond: () => boolean, ms = 60_000, what?: string, pollMs = 5): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(what === undefined ? 'timed out' : `timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** What a domain has printed on its console (one character per byte). */
export interface HasConsole {
  readonly console: readonly number[];
}

/** The console as text; with `lf`, "\r\n" line ends become "\n". */
export function consoleText(d: HasConsole, opts: { lf?: boolean } = {}): string {
  const text = String.fromCharCode(...d.console);
  return opts.lf ? text.replace(/\r\n/g, '\n') : text;
}

/** Type `s` (UTF-8) on a domain's console, as a user at its terminal would. */
export function typeInto(h: { consoleInput(domid: number, bytes: Uint8Array): unknown }, d: { readonly domid: number }, s: string): void {
  h.consoleInput(d.domid, new TextEncoder().encode(s));
}

export interface WaitForConsoleOptions {
  /** Look at the text from this offset on (an offset into consoleText, same `lf`). */
  from?: number;
  /** Give up after this many milliseconds (default 30 s). */
  ms?: number;
  /** Match against the text with "\r\n" turned into "\n". */
  lf?: boolean;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Wait until `pattern` (a string, found as is, or a RegExp) appears in what the domain
 * printed from `from` on; returns the match. On timeout the error shows the console.
 */
export async function waitForConsole(d: HasConsole, pattern: string | RegExp, opts: WaitForConsoleOptions = {}): Promise<RegExpMatchArray> {
  const { from = 0, ms = 30_000, lf = false } = opts;
  const re = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
  const end = Date.now() + ms;
  for (;;) {
    const text = consoleText(d, { lf }).slice(from);
    const m = text.match(re);
    if (m) return m;
    if (Date.now() > end) throw new Error(`timed out waiting for ${String(pattern)} in:\n${text}`);
    await sleep(10);
  }
}

/** `li rd, value` as two instruction words: lui + addi (the hart tests' li, encoded). */
export function li(rd: number, value: number): number[] {
  return liInsns(rd, value).map((i) => (typeof i === 'number' ? i : assemble(i[0], i[1])));
}

/** Instruction (or data) words as a little-endian flat image. */
export function wordsToImage(words: readonly number[]): Uint8Array {
  return new Uint8Array(Uint32Array.from(words, (w) => w >>> 0).buffer);
}

/** A seeded xorshift32 generator of numbers in [0, 1): reproducible random tests and benchmarks. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}
