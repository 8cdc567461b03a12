/**
 * The pv-vs-hvm page (#compare): the same `write` in a pv and an hvm domain of the
 * teaching OS, measured by the page. The figures are read from the page and checked
 * against what the lab itself says (console text, the domains' exit counters); no speed
 * is asserted here beyond "pv is ahead" (speed targets live in bench/).
 */
import { expect, test, type Page } from '@playwright/test';
import { openLab } from './lab';

/** 32 KiB: the hvm side takes a few seconds (two UART exits a byte), the pv side a moment. */
const BYTES = 32 << 10;

async function figure(page: Page, side: 'pv' | 'hvm', key: string): Promise<number> {
  const v = await page.getByTestId(`compare-${side}-${key}`).getAttribute('data-value');
  expect(v, `compare-${side}-${key} has a value`).not.toBe('');
  return Number(v);
}

async function totalExits(page: Page, id: number): Promise<number> {
  return page.evaluate((id) => Object.values(window.hyperlab!.stats(id).exits).reduce((a, b) => a + b, 0), id);
}

test.describe.configure({ mode: 'serial' });
let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await openLab(page, '?boot=');
});
test.afterAll(async () => {
  await page.close();
});

test('the pv-vs-hvm page runs write in both domains and shows pv ahead, from measured figures', async () => {
  test.setTimeout(180_000);
  await page.getByTestId('view-compare').click();
  await expect(page.getByTestId('compare-page')).toBeVisible();
  await expect(page.getByTestId('domain-list')).toBeHidden();
  await page.getByTestId('compare-workload').selectOption('write');
  await page.getByTestId('compare-size').selectOption(String(BYTES));
  await expect(page.getByTestId('compare-command')).toHaveText(`write ${BYTES}`);
  await page.getByTestId('compare-start').click();

  // It creates the two domains (the page had none) and runs; the hvm side is still going
  // once pv is through: the figures move while it runs.
  await expect(page.getByTestId('compare-page')).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
  await expect(page.getByTestId('compare-side-pv')).toHaveAttribute('data-phase', 'done', { timeout: 60_000 });
  const pvId = Number(await page.getByTestId('compare-side-pv').getAttribute('data-domid'));
  const hvmId = Number(await page.getByTestId('compare-side-hvm').getAttribute('data-domid'));
  expect(await page.evaluate(() => window.hyperlab!.domains().map((d) => `${d.id}:${d.type}`))).toEqual([`${pvId}:pv`, `${hvmId}:hvm`]);
  // The hvm side is normally still writing: its figures move while it runs, and the
  // summary says "so far" (phase, bytes and summary read at one moment: hvm may finish any time).
  const snapshot = () =>
    page.evaluate(() => ({
      phase: document.querySelector('[data-testid="compare-side-hvm"]')?.getAttribute('data-phase'),
      bytes: Number(document.querySelector('[data-testid="compare-hvm-bytes"]')?.getAttribute('data-value')),
      final: document.querySelector('[data-testid="compare-verdict"]')?.getAttribute('data-final'),
    }));
  const early = await snapshot();
  if (early.phase === 'running') {
    expect(early.final).toBe('false');
    await expect
      .poll(
        async () => {
          const now = await snapshot();
          return now.phase !== 'running' || now.bytes > early.bytes;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
  }

  await expect(page.getByTestId('compare-page')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(page.getByTestId('compare-verdict')).toHaveAttribute('data-final', 'true');

  const pv = {
    bytes: await figure(page, 'pv', 'bytes'),
    rate: await figure(page, 'pv', 'throughput'),
    perKiB: await figure(page, 'pv', 'exits-per-kib'),
    exits: await figure(page, 'pv', 'exits'),
    hypercalls: await figure(page, 'pv', 'hypercalls'),
    elapsed: await figure(page, 'pv', 'elapsed'),
  };
  const hvm = {
    bytes: await figure(page, 'hvm', 'bytes'),
    rate: await figure(page, 'hvm', 'throughput'),
    perKiB: await figure(page, 'hvm', 'exits-per-kib'),
    exits: await figure(page, 'hvm', 'exits'),
    hypercalls: await figure(page, 'hvm', 'hypercalls'),
    elapsed: await figure(page, 'hvm', 'elapsed'),
  };
  test.info().annotations.push({ type: 'figures', description: JSON.stringify({ pv, hvm }) });

  // Both finished the same output: the payload, the echo of the command, the timing line.
  for (const [id, side] of [
    [pvId, pv],
    [hvmId, hvm],
  ] as const) {
    expect(side.bytes).toBeGreaterThanOrEqual(BYTES);
    expect(side.bytes).toBeLessThan(BYTES + 512);
    const text = await page.evaluate((id) => window.hyperlab!.consoleText(id), id);
    expect(text).toContain(`timing: write ${BYTES} bytes in`);
    // The page counted no more exits than the domain has had in all.
    expect(side.exits).toBeLessThanOrEqual(await totalExits(page, id));
    expect(side.perKiB).toBeCloseTo(side.exits / (side.bytes / 1024), 3);
    expect(side.rate).toBeCloseTo(side.bytes / (side.elapsed / 1000), 0);
  }
  // hvm: every byte is an LSR read and a THR write through the UART model.
  expect(Number(await page.getByTestId('compare-exit-mmio:uart0-hvm').getAttribute('data-value'))).toBeGreaterThanOrEqual(2 * BYTES);
  expect(hvm.hypercalls).toBe(0);
  // pv: the console ring, a notify per 512 bytes (event_channel_op), no UART.
  expect(pv.hypercalls).toBeGreaterThan(0);
  expect(Number(await page.getByTestId('compare-exit-hypercall:event_channel_op-pv').getAttribute('data-value'))).toBeGreaterThanOrEqual(BYTES / 512 / 2);
  expect(Number(await page.getByTestId('compare-exit-mmio:uart0-pv').getAttribute('data-value'))).toBe(0);

  // pv is ahead: far fewer exits per KiB, more bytes per second, done sooner.
  expect(pv.perKiB * 10).toBeLessThan(hvm.perKiB);
  expect(pv.rate).toBeGreaterThan(hvm.rate);
  expect(pv.elapsed).toBeLessThan(hvm.elapsed);
  // The summary's ratios are the sides' figures divided.
  const verdict = page.getByTestId('compare-verdict');
  expect(Number(await verdict.getAttribute('data-throughput-ratio'))).toBeCloseTo(pv.rate / hvm.rate, 3);
  expect(Number(await verdict.getAttribute('data-exits-ratio'))).toBeCloseTo(hvm.perKiB / pv.perKiB, 3);
  await expect(page.getByTestId('compare-run-1')).toContainText(`write ${BYTES / 1024}.0 KiB`);
});

test('a second run reuses the two domains, which wait at their prompts', async () => {
  test.setTimeout(60_000);
  const before = await page.evaluate(() => window.hyperlab!.domains().map((d) => d.id));
  await page.getByTestId('compare-workload').selectOption('burn');
  await page.getByTestId('compare-size').selectOption('5');
  await page.getByTestId('compare-start').click();
  await expect(page.getByTestId('compare-page')).toHaveAttribute('data-status', 'done', { timeout: 50_000 });
  expect(await page.evaluate(() => window.hyperlab!.domains().map((d) => d.id))).toEqual(before);
  for (const side of ['pv', 'hvm'] as const) {
    // burn retires instructions and prints little.
    expect(await figure(page, side, 'instructions')).toBeGreaterThan(5e6);
    expect(await figure(page, side, 'ips')).toBeGreaterThan(0);
    expect(await figure(page, side, 'bytes')).toBeLessThan(512);
  }
  await expect(page.getByTestId('compare-bars-ips')).toBeVisible();
  await expect(page.getByTestId('compare-history').locator('tbody tr')).toHaveCount(2);
});

test('the page is reachable by keyboard and fits 1024 px, in light and dark', async () => {
  await page.getByTestId('view-lab').click();
  await expect(page.getByTestId('domain-list')).toBeVisible();
  // Tab from the page's start reaches the view links; Enter follows one.
  await page.locator('body').focus();
  for (let i = 0; i < 10 && !(await page.getByTestId('view-compare').evaluate((e) => e === document.activeElement)); i++) await page.keyboard.press('Tab');
  await expect(page.getByTestId('view-compare')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('compare-page')).toBeVisible();
  // Then on to the controls.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  expect(['host-pcpus', 'compare-workload']).toContain(focused);

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width: 1024, height: 768 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1024);
    const pv = await page.getByTestId('compare-side-pv').boundingBox();
    const hvm = await page.getByTestId('compare-side-hvm').boundingBox();
    expect(hvm!.x).toBeGreaterThan(pv!.x + pv!.width - 1); // side by side
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const luminance =
      bg
        .match(/\d+/g)!
        .slice(0, 3)
        .map(Number)
        .reduce((a, b) => a + b, 0) / 3;
    expect(scheme === 'dark' ? luminance < 80 : luminance > 180).toBe(true);
  }
  await page.setViewportSize({ width: 1920, height: 1080 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1920);
  await page.emulateMedia({ colorScheme: null });
});
