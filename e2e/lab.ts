/**
 * Helpers for the e2e suite. Tests drive the page through its controls (data-testid)
 * and through window.hyperlab, never through internals.
 *
 * Loading the page costs about a second of CPU (compiling React and xterm.js), so most
 * tests share one page per Playwright worker (`labTest`'s `lab` fixture), boot machines
 * of their own and find them by the id they got; every machine is destroyed after each
 * test. Tests about page load itself use a fresh `page` and `openLab`.
 */
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import type { MachineStats } from '../src/web/protocol';
import '../src/web/automation'; // declares window.hyperlab

/** Open the lab (`query` like '?boot=hello') and wait for window.hyperlab.ready(). */
export async function openLab(page: Page, query = ''): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(query);
  await page.waitForFunction(() => window.hyperlab !== undefined);
  await page.evaluate(() => window.hyperlab!.ready());
  expect(errors, 'uncaught errors in the page').toEqual([]);
}

/** A test whose `lab` is a page shared by the tests of one worker, with no machines at the start. */
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
    await sharedLab.evaluate(() => {
      for (const m of window.hyperlab!.machines()) window.hyperlab!.destroy(m.id);
    });
  },
});

export function stats(page: Page, id: number): Promise<MachineStats> {
  return page.evaluate((id) => window.hyperlab!.stats(id), id);
}

/** The instruction count the status line shows. */
export async function shownInstret(page: Page, id: number): Promise<number> {
  return Number(await page.getByTestId(`instret-${id}`).getAttribute('data-value'));
}

/** The text xterm.js rendered for a console (its DOM renderer keeps one element per row). */
export function consoleScreen(page: Page, id: number): Locator {
  return page.getByTestId(`console-${id}`).locator('.xterm-rows');
}

/** Boot raw bytes through window.hyperlab; resolves with the machine id. */
export function bootBytes(page: Page, bytes: Uint8Array, name: string): Promise<number> {
  return page.evaluate(([b, name]) => window.hyperlab!.boot(b, { name, memSize: 16 << 20 }), [Array.from(bytes), name] as const);
}

/** Boot a catalog image through window.hyperlab; resolves with the machine id. */
export function bootGuest(page: Page, name: string): Promise<number> {
  return page.evaluate((name) => window.hyperlab!.boot(name), name);
}

/** The id of the machine panel named `name` once it appears. */
export async function machineNamed(page: Page, name: string): Promise<number> {
  const panel = page.locator(`[data-machine-name="${name}"]`);
  await expect(panel).toHaveCount(1);
  return Number(await panel.getAttribute('data-machine-id'));
}
