/**
 * Helpers for the e2e suite. Tests drive the page through its controls (data-testid)
 * and through window.hyperlab, never through internals.
 *
 * Loading the page costs about a second of CPU (compiling React and xterm.js, starting
 * the hypervisor worker), so most tests share one page per Playwright worker (`labTest`'s
 * `lab` fixture, with no startup domains), create domains of their own and find them by
 * the domid they got; every domain is destroyed after each test. Tests about page load
 * itself use a fresh `page` and `openLab`.
 */
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import type { DomainStats } from '../src/web/protocol/automationTypes';
import '../src/web/protocol/automationTypes'; // declares window.hyperlab

/** Open the lab (`query` like '?boot=hello') and wait for window.hyperlab.ready(). */
export async function openLab(page: Page, query = ''): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(query);
  await page.waitForFunction(() => window.hyperlab !== undefined);
  await page.evaluate(() => window.hyperlab!.ready());
  expect(errors, 'uncaught errors in the page').toEqual([]);
}

/** A test whose `lab` is a page shared by the tests of one worker, with no guest domains at the start. */
export const labTest = base.extend<{ lab: Page }, { sharedLab: Page }>({
  sharedLab: [
    async ({ browser }, use) => {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await openLab(page, '?boot=');
      await use(page);
      await page.close();
    },
    { scope: 'worker' },
  ],
  lab: async ({ sharedLab }, use) => {
    await use(sharedLab);
    await sharedLab.evaluate(async () => {
      for (const d of window.hyperlab!.domains()) await window.hyperlab!.destroy(d.id);
    });
  },
});

export function stats(page: Page, id: number): Promise<DomainStats> {
  return page.evaluate((id) => window.hyperlab!.stats(id), id);
}

/** The CPU time (ns) the domain list shows for a domain. */
export async function shownCpuNs(page: Page, id: number): Promise<number> {
  return Number(await page.getByTestId(`cpu-${id}`).getAttribute('data-value'));
}

/**
 * The text xterm.js rendered for a console (its DOM renderer keeps one element per row).
 * xterm.js stops rendering a terminal that is out of view (an IntersectionObserver), so the
 * console is scrolled into view first: what a user would do to read it.
 */
export async function consoleScreen(page: Page, id: number): Promise<Locator> {
  const consoleElement = page.getByTestId(`console-${id}`);
  await consoleElement.scrollIntoViewIfNeeded();
  return consoleElement.locator('.xterm-rows');
}

/** Boot raw bytes as an hvm domain through window.hyperlab; resolves with the domid. */
export function bootBytes(page: Page, bytes: Uint8Array, name: string): Promise<number> {
  return page.evaluate(([b, name]) => window.hyperlab!.boot(b, { name, memSize: 16 << 20 }), [Array.from(bytes), name] as const);
}

/** Create a domain from a preset through window.hyperlab; resolves with the domid. */
export function createPreset(page: Page, name: string): Promise<number> {
  return page.evaluate((name) => window.hyperlab!.create(name), name);
}

/** The domid of the domain list's row named `name` once it appears. */
export async function domainNamed(page: Page, name: string): Promise<number> {
  const row = page.locator(`[data-testid^="row-"][data-name="${name}"]`);
  await expect(row).toHaveCount(1);
  return Number(await row.getAttribute('data-domid'));
}

/** Open a tab of the live panel under the domain list ('graphs', 'scheduler', 'inspect'). */
export async function openInsights(page: Page, tab: 'graphs' | 'scheduler' | 'inspect'): Promise<Locator> {
  const button = page.getByTestId(`insights-tab-${tab}`);
  await button.click();
  await expect(button).toHaveAttribute('aria-selected', 'true');
  const panel = page.getByTestId(tab === 'graphs' ? 'graphs-panel' : tab === 'scheduler' ? 'scheduler-panel' : 'inspect-panel');
  await expect(panel).toBeVisible();
  return panel;
}

/** Create a teaching-OS domain from its preset and wait for its shell prompt; resolves with the domid. */
export async function teachingOs(page: Page, type: 'pv' | 'hvm'): Promise<number> {
  const id = await createPreset(page, `teaching-os-${type}`);
  await page.evaluate((id) => window.hyperlab!.waitForText(id, '$ ', 40_000), id);
  return id;
}

/** Type a line into a domain's console (through window.hyperlab). */
export function typeLine(page: Page, id: number, line: string): Promise<void> {
  return page.evaluate(([id, line]) => window.hyperlab!.sendInput(id, `${line}\n`), [id, line] as const);
}

/** A number from a data attribute of the element with that test id. */
export async function numberAttr(page: Page, testId: string, attr: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute(attr));
}
