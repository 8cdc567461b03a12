/**
 * What bench/browser.ts runs inside the page, through page.evaluate. The benchmarks
 * type-check without the DOM library (tsconfig.json), so the few page globals they touch
 * are declared here by shape, and every function reaches them through `globalThis`
 * (page.evaluate sends a function's source, not its closure: each one stands alone).
 */
import type { Page } from '@playwright/test';

/** The members of window.hyperlab (src/web/protocol/automationTypes.ts) the benchmarks use. */
export interface PageHyperlab {
  ready(): Promise<void>;
  presets(): readonly string[];
  domains(): { readonly id: number; readonly name: string }[];
  create(spec: string | { readonly preset?: string; readonly name?: string }): Promise<number>;
  destroy(id: number): Promise<void>;
  waitForText(id: number, text: string, timeoutMs?: number): Promise<string>;
  waitForPowerOff(id: number, timeoutMs?: number): Promise<{ readonly kind: string; readonly code: number }>;
  sendInput(id: number, text: string): Promise<void>;
  consoleText(id: number): string;
  stats(id: number): {
    readonly state: string;
    readonly avgMips: number;
    readonly mips: number;
    readonly cpuPct: number;
    readonly instret: number;
    readonly runMs: number;
  };
  host(): { readonly pcpus: number } | null;
}

interface PageElement {
  readonly textContent: string | null;
}

export interface PageGlobals {
  hyperlab?: PageHyperlab;
  performance: { now(): number };
  requestAnimationFrame(callback: (t: number) => void): number;
  addEventListener(type: 'keydown', listener: (e: { readonly timeStamp: number; readonly key: string }) => void, capture: boolean): void;
  document: { querySelector(selector: string): PageElement | null };
  MutationObserver: new (callback: () => void) => {
    observe(target: PageElement, options: { subtree: boolean; childList: boolean; characterData: boolean }): void;
    disconnect(): void;
  };
  /** The echo probe's state between page.evaluate calls. */
  __echoProbe?: { key: number; done: Promise<number> };
}

export async function waitForLab(page: Page): Promise<void> {
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).hyperlab !== undefined);
  await page.evaluate(() => (globalThis as unknown as PageGlobals).hyperlab!.ready());
}

/** requestAnimationFrame callbacks per second, one figure per whole second, for `seconds` seconds. */
export function frameRates(page: Page, seconds: number): Promise<number[]> {
  return page.evaluate((seconds) => {
    const g = globalThis as unknown as PageGlobals;
    return new Promise<number[]>((resolve) => {
      const rates: number[] = [];
      let frames = 0;
      let start = -1;
      const tick = (t: number): void => {
        if (start < 0) start = t;
        else frames++;
        if (t - start >= 1000) {
          rates.push((frames * 1000) / (t - start));
          frames = 0;
          start = t;
        }
        if (rates.length < seconds) g.requestAnimationFrame(tick);
        else resolve(rates);
      };
      g.requestAnimationFrame(tick);
    });
  }, seconds);
}

/**
 * Arm the echo probe on a console: the next key press (its keydown's timestamp) starts
 * the clock, the first change of the terminal's rows that shows one more `ch` stops it.
 * `echoLatency` then gives the ms, or -1 when nothing came within `timeoutMs`.
 */
export function armEcho(page: Page, consoleTestId: string, ch: string, timeoutMs: number): Promise<void> {
  return page.evaluate(
    ([testId, ch, timeoutMs]) => {
      const g = globalThis as unknown as PageGlobals;
      const rows = g.document.querySelector(`[data-testid="${testId}"] .xterm-rows`);
      if (!rows) throw new Error(`no terminal rows in ${testId}`);
      const count = (): number => (rows.textContent ?? '').split(ch).length;
      const before = count();
      const probe: { key: number; done: Promise<number> } = { key: -1, done: Promise.resolve(-1) };
      g.addEventListener(
        'keydown',
        (e) => {
          if (probe.key < 0 && e.key === ch) probe.key = e.timeStamp;
        },
        true,
      );
      probe.done = new Promise<number>((resolve) => {
        const observer = new g.MutationObserver(() => {
          if (probe.key >= 0 && count() > before) {
            observer.disconnect();
            resolve(g.performance.now() - probe.key);
          }
        });
        observer.observe(rows, { subtree: true, childList: true, characterData: true });
        setTimeout(() => {
          observer.disconnect();
          resolve(-1);
        }, timeoutMs);
      });
      g.__echoProbe = probe;
    },
    [consoleTestId, ch, timeoutMs] as const,
  );
}

export function echoLatency(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).__echoProbe!.done);
}
