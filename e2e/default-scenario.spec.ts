import { expect, test, type Page } from '@playwright/test';
import { consoleScreen, openLab } from './lab';

// One page for the whole file: these tests only look at the startup scenario.
test.describe.configure({ mode: 'serial' });
let page: Page;
test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await openLab(page);
});
test.afterAll(async () => {
  await page.close();
});

test('two machines boot side by side: hello and a self-checking guest', async () => {
  const names = await page.evaluate(() => window.hyperlab!.machines().map((m) => m.name));
  expect(names[0]).toBe('hello');
  expect(['isa-selftest', 'cpubench']).toContain(names[1]);
  const first = await page.getByTestId('machine-1').boundingBox();
  const second = await page.getByTestId('machine-2').boundingBox();
  expect(second!.x).toBeGreaterThan(first!.x + first!.width - 1); // side by side at 1440 px
});

test('hello prints its greeting and powers off with PASS', async () => {
  await expect(consoleScreen(page, 1)).toContainText('Hello from hyperlab');
  const status = page.getByTestId('status-1');
  await expect(status).toHaveAttribute('data-state', 'off');
  await expect(status).toHaveAttribute('data-poweroff', 'pass');
  await expect(page.getByTestId('state-1')).toHaveText('powered off: PASS');
});

test('the second machine reaches its final PASS line', async () => {
  const name = await page.getByTestId('machine-2').getAttribute('data-machine-name');
  const text = await page.evaluate((n) => window.hyperlab!.waitForText(2, `${n}: PASS`, 60_000), name);
  expect(text).not.toContain('FAIL');
  await expect(consoleScreen(page, 2)).toContainText(`${name}: PASS`);
  await expect(page.getByTestId('status-2')).toHaveAttribute('data-poweroff', 'pass');
});
