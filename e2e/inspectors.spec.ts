/**
 * The inspectors: a pv domain's event channels, grants and xenstore nodes, Domain-0's
 * ends of its channels, and the machine memory map, checked against what the domains are.
 */
import { expect } from '@playwright/test';
import { labTest as test, numberAttr, openInsights, stats, teachingOs, typeLine } from './lab';

// Guests booting beside another test's on two shared cores: give them time.
test.describe.configure({ timeout: 90_000 });

test("a pv domain's console and xenstore ports are interdomain to Domain-0; Domain-0 lists the other ends", async ({ lab }) => {
  const pv = await teachingOs(lab, 'pv');
  await openInsights(lab, 'inspect');
  await lab.getByTestId('inspect-domain').selectOption(String(pv));
  await expect(lab.getByTestId('inspect-panel')).toHaveAttribute('data-domid', String(pv));
  const rows = lab.getByTestId('evtchn-table').locator('tbody tr');
  const console = rows.and(lab.locator('[data-role="console"]'));
  const xenstore = rows.and(lab.locator('[data-role="xenstore"]'));
  await expect(console).toHaveAttribute('data-state', 'interdomain');
  await expect(console).toHaveAttribute('data-remote-domid', '0');
  await expect(xenstore).toHaveAttribute('data-state', 'interdomain');
  await expect(xenstore).toHaveAttribute('data-remote-domid', '0');
  await expect(rows.and(lab.locator('[data-state="virq"]'))).toContainText('VIRQ_TIMER');
  await expect(console).toHaveAttribute('data-masked', /^(true|false)$/); // read from shared_info
  const consolePort = await console.getAttribute('data-remote-port');

  await lab.getByTestId('inspect-domain').selectOption('0');
  await expect(lab.getByTestId('inspect-panel')).toHaveAttribute('data-domid', '0');
  const back = lab.getByTestId(`evtchn-row-${consolePort}`);
  await expect(back).toHaveAttribute('data-remote-domid', String(pv));
  await expect(back).toHaveAttribute('data-pending', 'null'); // Domain-0 has no shared_info
});

test('an hvm domain has no event channels or grants', async ({ lab }) => {
  const hvm = await teachingOs(lab, 'hvm');
  await openInsights(lab, 'inspect');
  await lab.getByTestId('inspect-domain').selectOption(String(hvm));
  await expect(lab.getByTestId('evtchn-empty')).toContainText('hvm');
  await expect(lab.getByTestId('evtchn-table')).toHaveCount(0);
  await expect(lab.getByTestId('gnttab-table')).toHaveCount(0);
});

test("the xenstore tree shows the domain's name node; nodes fold and unfold", async ({ lab }) => {
  const pv = await teachingOs(lab, 'pv');
  const name = (await stats(lab, pv)).name;
  await openInsights(lab, 'inspect');
  await lab.getByTestId('inspect-domain').selectOption(String(pv));
  const node = lab.locator(`[data-testid="xs-node"][data-path="/local/domain/${pv}/name"]`);
  await expect(node).toHaveAttribute('data-value', name);
  await expect(node).toBeVisible();
  const toggle = lab.getByRole('button', { name: `Close /local/domain/${pv}`, exact: true });
  await toggle.click();
  await expect(node).toHaveCount(0);
  await lab.getByRole('button', { name: `Open /local/domain/${pv}`, exact: true }).click();
  await expect(node).toBeVisible();
});

test('the memory map counts as many frames per domain as the domain has memory', async ({ lab }) => {
  const pv = await teachingOs(lab, 'pv');
  const hvm = await teachingOs(lab, 'hvm');
  // The pv guest balloons down to 8 MiB: it gives frames back, and the map follows.
  await lab.evaluate((pv) => window.hyperlab!.xl(`xl mem-set ${pv} 8`), pv);
  await expect.poll(async () => (await stats(lab, pv)).memKiB, { timeout: 30_000 }).toBe(8192);
  await openInsights(lab, 'inspect');
  const host = (await lab.evaluate(() => window.hyperlab!.host()))!;
  for (const id of [pv, hvm]) {
    await expect.poll(async () => numberAttr(lab, `memmap-dom-${id}`, 'data-frames')).toBe((await stats(lab, id)).memKiB / 4);
  }
  const used = (await numberAttr(lab, `memmap-dom-${pv}`, 'data-frames')) + (await numberAttr(lab, `memmap-dom-${hvm}`, 'data-frames'));
  expect((await numberAttr(lab, 'memmap-free', 'data-frames')) + used).toBe(host.totalKiB / 4);
  expect(await numberAttr(lab, 'memmap-special', 'data-count')).toBeGreaterThanOrEqual(6); // start_info, shared_info, two rings, grant table
});

test("a grant made with share appears in the granter's table and on the memory map", async ({ lab }) => {
  const a = await teachingOs(lab, 'pv');
  const b = await teachingOs(lab, 'pv');
  await typeLine(lab, a, `share ${b}`);
  const text = await lab.evaluate((a) => window.hyperlab!.waitForText(a, 'granted read-only'), a);
  const ref = /as ref (\d+)/.exec(text)![1]!;
  await openInsights(lab, 'inspect');
  await lab.getByTestId('inspect-domain').selectOption(String(a));
  const row = lab.getByTestId(`grant-row-${ref}`);
  await expect(row).toHaveAttribute('data-domid', String(b));
  await expect(row).toContainText('permit_access | readonly');
  await expect(row).toHaveAttribute('data-mapped', 'false');
  await expect.poll(() => numberAttr(lab, 'memmap-granted', 'data-count')).toBeGreaterThanOrEqual(1);
  const map = await lab.evaluate(() => window.hyperlab!.memoryMap());
  expect(map.granted.some((g) => g.owner === a && g.to === b && String(g.ref) === ref)).toBe(true);
});

test('the live panel is keyboard reachable and fits laptop and projector widths', async ({ lab }) => {
  await teachingOs(lab, 'pv');
  await openInsights(lab, 'graphs');
  await lab.getByTestId('insights-tab-graphs').focus();
  await lab.keyboard.press('ArrowRight');
  await expect(lab.getByTestId('insights-tab-scheduler')).toBeFocused();
  await expect(lab.getByTestId('scheduler-panel')).toBeVisible();
  await lab.keyboard.press('End');
  await expect(lab.getByTestId('jit-panel')).toBeVisible(); // End: the last tab (Translation)
  for (const [width, height] of [
    [1024, 768],
    [1366, 768],
    [1920, 1080],
  ] as const) {
    await lab.setViewportSize({ width, height });
    for (const tab of ['graphs', 'scheduler', 'inspect'] as const) {
      await openInsights(lab, tab);
      const overflow = await lab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${tab} at ${width}px`).toBeLessThanOrEqual(0);
    }
  }
  await lab.setViewportSize({ width: 1440, height: 900 });
});
