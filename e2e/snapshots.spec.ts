/**
 * Save, restore and snapshots in the browser (real Chromium, real OPFS): a pv teaching OS
 * with typed state (a xenstore node it wrote at its prompt) is kept as a snapshot from its
 * row in the domain table, and downloaded with Save; after a page reload the snapshot is
 * still listed, Restore brings the domain back and it reads its node at the same prompt;
 * the downloaded file restores through the panel's upload beside it (as NAME-2); a file
 * that is no save file is refused in one line and nothing is built; Domain-0's xl save /
 * xl restore use the same OPFS snapshots/.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { openLab } from './lab';

async function run(page: Page, id: number, command: string, answer: string): Promise<string> {
  const before = await page.evaluate((id) => window.hyperlab!.consoleText(id).length, id);
  await page.evaluate(([id, c]) => window.hyperlab!.sendInput(id, `${c}\n`), [id, command] as const);
  await page.waitForFunction(([id, n, a]) => window.hyperlab!.consoleText(id).slice(n).includes(a), [id, before, answer] as const, { timeout: 30_000 });
  return page.evaluate(([id, n]) => window.hyperlab!.consoleText(id).slice(n), [id, before] as const);
}

async function openSnapshots(page: Page): Promise<void> {
  const panel = page.getByTestId('snapshots-panel');
  await panel.scrollIntoViewIfNeeded();
  if ((await panel.getAttribute('data-open')) !== 'true') await page.getByTestId('snapshots-toggle').click();
  await expect(panel).toHaveAttribute('data-open', 'true');
}

const idOf = (page: Page, name: string): Promise<number | undefined> => page.evaluate((n) => window.hyperlab!.domains().find((d) => d.name === n)?.id, name);

test('a snapshot taken from the domain table survives a reload and restores with the state typed before; Save downloads the xl save file', async ({ page }) => {
  test.setTimeout(150_000);
  await openLab(page, '?boot=');
  const id = await page.evaluate(() => window.hyperlab!.create({ preset: 'teaching-os-pv', name: 'keepme' }));
  await page.evaluate((id) => window.hyperlab!.waitForText(id, 'keepme$ ', 30_000), id);
  await run(page, id, 'xs write data/note typed-before-reload', 'keepme$ ');

  // Snapshot from the domain's row: the domain runs on.
  await page.getByTestId(`lifecycle-${id}`).click(); // the row's Save ▾ menu
  await page.getByTestId(`snapshot-${id}`).click();
  await expect(page.getByTestId(`lifecycle-menu-${id}`)).toHaveCount(0); // the menu closes on a choice
  await expect(page.getByTestId('snapshots-message')).toContainText(/^snapshot keepme-[0-9T-]+ of keepme kept \(\d+ bytes\); the domain runs on$/, {
    timeout: 30_000,
  });
  await run(page, id, 'uptime', 'keepme$ ');
  await openSnapshots(page);
  const row = page.locator('[data-testid^="snapshot-row-keepme-"]');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-domain', 'keepme');
  const snapName = (await row.getAttribute('data-name'))!;

  // Save: the browser downloads the xl save file.
  await page.getByTestId(`lifecycle-${id}`).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`save-${id}`).click()]);
  expect(download.suggestedFilename()).toBe('keepme.save');
  const saved = readFileSync(await download.path());
  expect(saved.subarray(0, 27).toString('latin1')).toBe('Xen saved domain, xl format');
  expect(await page.evaluate(() => window.hyperlab!.domains().map((d) => d.name))).toEqual(['keepme']);
  await page.screenshot({ path: test.info().outputPath('snapshots-panel.png'), fullPage: true });

  await page.reload();
  await page.waitForFunction(() => window.hyperlab !== undefined);
  await page.evaluate(() => window.hyperlab!.ready());
  expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([]);
  const listed = await page.evaluate(() => window.hyperlab!.snapshots.list());
  expect(listed.where).toBe('OPFS snapshots/');
  expect(listed.snapshots.map((s) => [s.name, s.domain, s.type])).toEqual([[snapName, 'keepme', 'pv']]);

  await openSnapshots(page); // remembered open, or opened again
  await page.getByTestId(`snapshot-restore-${snapName}`).click();
  await expect(page.getByTestId('snapshots-message')).toContainText(/restored from snapshots\/keepme-.* \(domain \d+, keepme\)$/, { timeout: 30_000 });
  const back = (await idOf(page, 'keepme'))!;
  // The guest runs on from its prompt: the node it wrote before the reload reads back.
  expect(await run(page, back, 'xs read data/note', 'keepme$ ')).toContain('typed-before-reload');

  // A file that is no save file: one line, nothing built.
  await page.getByTestId('snapshot-upload').setInputFiles({ name: 'junk.save', mimeType: 'application/octet-stream', buffer: Buffer.alloc(64, 7) });
  await expect(page.getByTestId('snapshots-error')).toHaveText(/^restore from upload failed: save file: not an xl save file \(bad magic\) \(at byte 0\)$/);
  expect(await page.evaluate(() => window.hyperlab!.domains().length)).toBe(1);

  // The downloaded file, uploaded: it runs beside the restored one, renamed.
  await page.getByTestId('snapshot-upload').setInputFiles({ name: 'keepme.save', mimeType: 'application/octet-stream', buffer: saved });
  await expect(page.getByTestId('snapshots-message')).toContainText(', keepme-2)', { timeout: 30_000 });
  const twin = (await idOf(page, 'keepme-2'))!;
  // Its prompt is still the one it printed at boot (the guest read its name then).
  expect(await run(page, twin, 'xs read data/note', 'keepme$ ')).toContain('typed-before-reload');

  // Domain-0's xl save / xl restore read and write the same OPFS snapshots/.
  expect(await page.evaluate((id) => window.hyperlab!.xl(`xl save ${id} twin.save`), twin)).toMatch(
    /^Saved domain \d+ \(keepme-2\) to snapshots\/twin\.save: \d+ bytes in \d+ ms$/m, // after xl's cooperative-suspend line
  );
  await expect(page.getByTestId('snapshot-row-twin.save')).toHaveAttribute('data-domain', 'keepme-2', { timeout: 10_000 });
  expect(await page.evaluate(() => window.hyperlab!.xl('xl restore snapshots/twin.save'))).toMatch(
    /^Domain \d+ \(keepme-2\) restored from snapshots\/twin\.save in \d+ ms$/,
  );
  expect(await page.evaluate(() => window.hyperlab!.xl('xl restore nothere'))).toBe('xl: nothere: no such snapshot in OPFS snapshots/');

  await page.getByTestId(`snapshot-delete-${snapName}`).click();
  await expect(page.getByTestId(`snapshot-row-${snapName}`)).toHaveCount(0);
});
