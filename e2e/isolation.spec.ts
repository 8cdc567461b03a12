import { expect, test } from '@playwright/test';
import { openLab, stats } from './lab';
import { serveStatic, type StaticHost } from './staticServer';

test('the page is cross-origin isolated and the hypervisor runs on shared memory', async ({ page }) => {
  await openLab(page, '?boot=hello');
  expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('isolation-status')).toHaveAttribute('data-isolation', 'headers');
  await expect(page.getByTestId('isolation-notice')).toHaveCount(0);
  await expect(page.getByTestId('hypervisor-error')).toHaveCount(0);
  expect((await stats(page, 1)).sharedMemory).toBe(true);
});

test.describe('on a static host without COOP/COEP headers', () => {
  let host: StaticHost;
  test.beforeAll(async () => {
    host = await serveStatic('dist');
  });
  test.afterAll(async () => {
    await host.close();
  });

  test('the service worker isolates the page and domains run', async ({ page }) => {
    await page.goto(`${host.url}?boot=hello`);
    // The first load registers the worker and reloads once; the second is isolated.
    await expect(page.getByTestId('isolation-status')).toHaveAttribute('data-isolation', 'service-worker');
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    await page.evaluate(() => window.hyperlab!.ready());
    expect(await page.evaluate(() => window.hyperlab!.waitForPowerOff(1))).toEqual({ kind: 'pass', code: 0 });
  });

  test('when isolation is impossible the page says why and that the hypervisor cannot run', async ({ page }) => {
    await page.goto(`${host.url}?boot=hello&coi=off`);
    const notice = page.getByTestId('isolation-notice');
    await expect(notice).toBeVisible();
    await expect(notice).toContainText('not cross-origin isolated');
    await expect(notice).toContainText('Cross-Origin-Embedder-Policy');
    await expect(page.getByTestId('isolation-status')).toHaveAttribute('data-isolation', 'none');
    await page.evaluate(() => window.hyperlab!.ready());
    await expect(page.getByTestId('hypervisor-error')).toContainText('SharedArrayBuffer');
    expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([]);
    await expect(page.evaluate(() => window.hyperlab!.create('hello'))).rejects.toThrow('the hypervisor is not running');
  });
});
