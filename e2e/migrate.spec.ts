/**
 * Live migration between two tabs of one browser (one context, two pages, real
 * BroadcastChannel between their hypervisor workers): a pv teaching OS with typed state is
 * moved from the first tab to the second with the domain's Migrate button and the Migration
 * panel; the source shows NAME--migratedaway and the target NAME--incoming during the move
 * (the migration view lists the names), the rounds and the downtime are drawn, and the domain
 * answers at its prompt in the second tab with the xenstore node it wrote in the first.
 */
import { spawn } from 'node:child_process';
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

  await a.getByTestId(`lifecycle-${id}`).click(); // the row's Save ▾ menu
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
  // The heat map of round 0's dirtied pages: as many as the round's row says.
  const heat = sent.getByTestId('migration-heatmap').first();
  await expect(heat).toHaveAttribute('data-round', '0');
  const dirtied = (await sent.getByTestId('migration-round').first().locator('td').nth(3).textContent())!.trim();
  await expect(heat).toHaveAttribute('data-dirty', dirtied);
  await expect(heat.locator('canvas')).toBeVisible();
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

test('a page sends a running domain to a Node host (hyperlab host --listen-ws) and fetches it back with its state', async ({ page }) => {
  test.setTimeout(180_000);
  const host = spawn(process.execPath, ['bin/hyperlab.js', 'host', '--mem', '64M', '--listen-ws', '127.0.0.1:0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '',
    err = '';
  host.stdout.on('data', (b: Buffer) => (out += b.toString()));
  host.stderr.on('data', (b: Buffer) => (err += b.toString()));
  try {
    await expect.poll(() => /on (ws:\/\/\S+)/.exec(err)?.[1], { timeout: 90_000 }).toBeTruthy();
    const url = /on (ws:\/\/\S+)/.exec(err)![1]!;
    await openLab(page, '?boot=');
    const id = await page.evaluate(() => window.hyperlab!.create({ preset: 'teaching-os-pv', name: 'voyager' }));
    await page.evaluate((id) => window.hyperlab!.waitForText(id, 'voyager$ ', 30_000), id);
    await run(page, id, 'xs write data/left-from page', 'voyager$ ');

    // Through the panel: the domain goes to the host.
    await page.getByTestId(`lifecycle-${id}`).click();
    await page.getByTestId(`migrate-${id}`).click();
    await page.getByTestId('migrate-host').fill(url);
    await page.getByTestId('migrate-to-host').click();
    await expect(page.getByTestId('migrate-message')).toHaveText(/^Migrated voyager to ws:\/\/\S+: \d+ rounds, downtime [\d.]+ ms$/, { timeout: 90_000 });
    await expect.poll(() => out, { timeout: 30_000 }).toMatch(/Domain \d+ \(voyager\) migrated in from /);
    expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([]);

    // And back: the host sends it, the page runs it with what it wrote before it left.
    await page.getByTestId('migrate-pull-name').fill('voyager');
    await page.getByTestId('migrate-from-host').click();
    await expect(page.getByTestId('migrate-message')).toHaveText(/^voyager migrated in from ws:\/\/\S+ as domain \d+$/, { timeout: 90_000 });
    await expect.poll(() => out, { timeout: 30_000 }).toMatch(/Migrated domain \d+ \(voyager\) to /);
    const back = (await page.evaluate(() => window.hyperlab!.domains().find((d) => d.name === 'voyager')?.id))!;
    expect(await run(page, back, 'xs read data/left-from', 'voyager$ ')).toContain('page');
    await page.screenshot({ path: test.info().outputPath('migrate-node.png'), fullPage: true });
  } finally {
    host.kill('SIGTERM');
  }
});
