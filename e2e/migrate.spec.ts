/**
 * Live migration between two tabs of one browser (one context, two pages, real
 * BroadcastChannel between their hypervisor workers): a pv teaching OS with typed state is
 * moved from the first tab to the second with the domain's Migrate button and the Migration
 * panel; the source shows NAME--migratedaway and the target NAME--incoming during the move
 * (the migration view lists the names), the rounds and the downtime are drawn, and the domain
 * answers at its prompt in the second tab with the xenstore node it wrote in the first.
 */
import { expect, test, type Page } from '@playwright/test';
import { openLab } from './lab';

async function run(page: Page, id: number, command: string, answer: string): Promise<string> {
  const before = await page.evaluate((id) => window.hyperlab!.consoleText(id).length, id);
  await page.evaluate(([id, c]) => window.hyperlab!.sendInput(id, `${c}\n`), [id, command] as const);
  await page.waitForFunction(([id, n, a]) => window.hyperlab!.consoleText(id).slice(n).includes(a), [id, before, answer] as const, { timeout: 30_000 });
  return page.evaluate(([id, n]) => window.hyperlab!.consoleText(id).slice(n), [id, before] as const);
}

test('a running pv teaching OS moves to the other tab with its state; both tabs show the names, the rounds and the downtime', async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const a = await context.newPage();
  const b = await context.newPage();
  await openLab(a, '?boot=');
  await openLab(b, '?boot=');

  const id = await a.evaluate(() => window.hyperlab!.create({ preset: 'teaching-os-pv', name: 'traveller' }));
  await a.evaluate((id) => window.hyperlab!.waitForText(id, 'traveller$ ', 30_000), id);
  await run(a, id, 'xs write data/from tab-a', 'traveller$ ');

  // The other tab is found over the BroadcastChannel.
  const peers = await a.evaluate(() => window.hyperlab!.migrate.peers());
  expect(peers).toHaveLength(1);

  await a.getByTestId(`migrate-${id}`).click();
  await expect(a.getByTestId('migration-panel')).toHaveAttribute('data-open', 'true');
  await expect(a.getByTestId('migrate-peer').locator('option')).toHaveCount(1);
  await expect(a.getByTestId('migrate-domain')).toHaveValue(String(id));
  await a.getByTestId('migrate-go').click();
  await expect(a.getByTestId('migrate-message')).toHaveText(/^Migrated traveller to tab [0-9a-f]{4}: \d+ rounds, downtime [\d.]+ ms$/, { timeout: 90_000 });

  // The source's view: the names during the move, every round, the downtime.
  const sent = a.getByTestId('migration-send');
  await expect(sent).toHaveAttribute('data-phase', 'done');
  await expect(sent).toContainText('traveller → traveller--migratedaway');
  expect(await sent.getByTestId('migration-round').count()).toBeGreaterThanOrEqual(1);
  await expect(sent.getByTestId('migration-downtime')).toHaveText(/^downtime [\d.]+ ms$/);
  await a.screenshot({ path: test.info().outputPath('migrate-source.png'), fullPage: true });
  expect(await a.evaluate(() => window.hyperlab!.domains())).toEqual([]);

  // The target: the domain runs there under its name, with what it wrote in the first tab.
  await b.waitForFunction(() => window.hyperlab!.domains().some((d) => d.name === 'traveller'), undefined, { timeout: 30_000 });
  const there = await b.evaluate(() => window.hyperlab!.domains().find((d) => d.name === 'traveller')!.id);
  expect(await run(b, there, 'xs read data/from', 'traveller$ ')).toContain('tab-a');
  await expect(b.getByTestId('migration-panel')).toHaveAttribute('data-open', 'true'); // a domain arriving opens the view
  await expect(b.getByTestId('migration-receive')).toContainText('traveller--incoming → traveller');
  const notices = await b.evaluate(() => window.hyperlab!.migrate.notices());
  expect(notices.every((n) => n.side === 'receive')).toBe(true);
  await b.screenshot({ path: test.info().outputPath('migrate-target.png'), fullPage: true });
  await context.close();
});
