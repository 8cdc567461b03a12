/**
 * The translation tier in the page (Live > Translation, JitPanel.tsx; docs/jit.md): switch
 * a running domain's tier on, see its counters move (in the panel and window.hyperlab.jit),
 * open the inspector on its hottest translation, and switch it off again.
 */
import { expect } from '@playwright/test';
import { assemble } from '../src/core/cpu/asm';
import { bootBytes, labTest as test, numberAttr, openLab, stats } from './lab';

// A guest booting beside another test's on two shared cores: give it time.
test.describe.configure({ timeout: 90_000 });

/** x1 += 1; x2 ^= x1; forever. */
const LOOP = new Uint8Array(
  Int32Array.of(assemble('addi', { rd: 1, rs1: 1, imm: 1 }), assemble('xor', { rd: 2, rs1: 2, rs2: 1 }), assemble('jal', { imm: -8 })).buffer,
);

test('switch the tier on while a guest runs, watch it translate, inspect the translation, switch it off', async ({ lab }) => {
  const id = await bootBytes(lab, LOOP, 'jitloop');
  const tab = lab.getByTestId('insights-tab-jit');
  await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
  await lab.getByTestId('jit-domain').selectOption(String(id));
  const stats = lab.getByTestId('jit-stats');
  await expect(stats).toHaveAttribute('data-mode', 'on'); // the default (docs/jit.md)

  await lab.getByTestId('jit-mode-always').click();
  await expect(stats).toHaveAttribute('data-mode', 'always');
  await expect.poll(() => numberAttr(lab, 'jit-stats', 'data-translations'), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(lab.getByTestId('jit-mode-always')).toHaveAttribute('aria-checked', 'true');
  // The counters move through the automation API too.
  const first = await lab.evaluate((id) => window.hyperlab!.jit.stats(id), id);
  await expect.poll(async () => (await lab.evaluate((id) => window.hyperlab!.jit.stats(id), id)).translated, { timeout: 30_000 }).not.toBe(first.translated);

  await lab.getByTestId('jit-inspect').click();
  const hot = lab.getByTestId('jit-translation').first();
  await expect(hot).toBeVisible({ timeout: 30_000 });
  await hot.locator('summary').click();
  await expect(hot.getByLabel('Guest instructions')).toContainText('addi ra, ra, 1');
  await expect(hot.getByLabel('Generated JavaScript')).toContainText('continue');

  await lab.getByTestId('jit-mode-off').click();
  await expect(stats).toHaveAttribute('data-mode', 'off');
  await expect(lab.getByTestId('jit-stats-cached')).toContainText(/^0 /, { timeout: 30_000 });
});

test('the host setting ?jit=off starts every vCPU on the interpreter; the header switches it back to on', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openLab(page, '?boot=&jit=off');
  await expect(page.getByTestId('host-jit')).toHaveValue('off');
  const id = await bootBytes(page, LOOP, 'jitoff');
  // It runs (instructions retire) and none of it is translated, hot as the loop is.
  await expect.poll(async () => (await stats(page, id)).instret, { timeout: 30_000 }).toBeGreaterThan(5e6);
  const off = await page.evaluate((id) => window.hyperlab!.jit.stats(id), id);
  expect(off.mode).toBe('off');
  expect(off.translations).toBe(0);
  // The header's select reloads the lab with the tier on, and a new guest's loop is translated.
  await Promise.all([page.waitForURL(/jit=on/), page.getByTestId('host-jit').selectOption('on')]);
  await page.waitForFunction(() => window.hyperlab !== undefined);
  await page.evaluate(() => window.hyperlab!.ready());
  await expect(page.getByTestId('host-jit')).toHaveValue('on');
  const on = await bootBytes(page, LOOP, 'jiton');
  await expect.poll(async () => (await page.evaluate((id) => window.hyperlab!.jit.stats(id), on)).translations, { timeout: 30_000 }).toBeGreaterThan(0);
});
