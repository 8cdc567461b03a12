/**
 * Disks and network interfaces in the browser's snapshots and tab-to-tab migration (real
 * Chromium, real OPFS, whose synchronous access handles are exclusive):
 *  - a pv (blkfront) and an hvm (virtio-blk) teaching OS write a marker on an OPFS disk,
 *    are kept as a snapshot, the page reloads, the snapshot restores and the marker reads back;
 *  - a pv domain with a disk moves to the other tab: the source hands its image over at the
 *    pause point, the target reads the marker and writes its own, and the source tab cannot
 *    open the image any more (the target holds its one handle);
 *  - a pv domain with a vif moves to the other tab and re-attaches to that tab's xenbr0:
 *    the target's Domain-0 pings it.
 */
import { expect, test, type Page } from '@playwright/test';
import { openLab } from './lab';

async function run(page: Page, id: number, command: string, answer: string): Promise<string> {
  const before = await page.evaluate((id) => window.hyperlab!.consoleText(id).length, id);
  await page.evaluate(([id, c]) => window.hyperlab!.sendInput(id, `${c}\n`), [id, command] as const);
  await page.waitForFunction(([id, n, a]) => window.hyperlab!.consoleText(id).slice(n).includes(a), [id, before, answer] as const, { timeout: 30_000 });
  return page.evaluate(([id, n]) => window.hyperlab!.consoleText(id).slice(n), [id, before] as const);
}

/** The teaching OS's prompt: pv prints its name, hvm `tos`. */
const promptOf = (name: string, type: 'pv' | 'hvm'): string => (type === 'pv' ? `${name}$ ` : 'tos$ ');

async function bootWithDisk(page: Page, name: string, type: 'pv' | 'hvm', disk: string): Promise<number> {
  const cfg = [`name = "${name}"`, `type = "${type}"`, 'memory = 16', `kernel = "guests/teaching-os-${type}.elf"`, `disk = [ '${disk}' ]`, ''].join('\n');
  const id = await page.evaluate((cfg) => window.hyperlab!.create({ config: cfg }), cfg);
  await page.evaluate(([id, prompt]) => window.hyperlab!.waitForText(id, prompt, 30_000), [id, promptOf(name, type)] as const);
  return id;
}

async function openSnapshots(page: Page): Promise<void> {
  const panel = page.getByTestId('snapshots-panel');
  await panel.scrollIntoViewIfNeeded();
  if ((await panel.getAttribute('data-open')) !== 'true') await page.getByTestId('snapshots-toggle').click();
  await expect(panel).toHaveAttribute('data-open', 'true');
}

for (const type of ['pv', 'hvm'] as const) {
  test(`${type}: a snapshot of a domain with an OPFS disk survives a reload; restored, the guest reads back its marker`, async ({ page }) => {
    test.setTimeout(150_000);
    await openLab(page, '?boot=');
    const image = `snap-${type}.qcow2`;
    await page.evaluate((name) => window.hyperlab!.disks.create({ name, format: 'qcow2', size: 1 << 20 }), image);
    const name = `disk${type}`;
    const id = await bootWithDisk(page, name, type, `${image},qcow2,xvda,rw`);
    await run(page, id, 'disk write 5 marker-in-snapshot', 'disk: wrote 18 bytes');

    // Snapshot from the row's Save ▾ menu: the save quiesces and flushes the disk; the domain runs on.
    await page.getByTestId(`lifecycle-${id}`).click();
    await page.getByTestId(`snapshot-${id}`).click();
    await expect(page.getByTestId('snapshots-message')).toContainText(new RegExp(`^snapshot ${name}-[0-9T-]+ of ${name} kept`), { timeout: 30_000 });
    const snap = (await page.evaluate(() => window.hyperlab!.snapshots.list())).snapshots[0]!.name;

    await page.reload();
    await page.waitForFunction(() => window.hyperlab !== undefined);
    await page.evaluate(() => window.hyperlab!.ready());
    expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([]);
    await openSnapshots(page);
    await page.getByTestId(`snapshot-restore-${snap}`).click();
    await expect(page.getByTestId('snapshots-message')).toContainText(`(domain `, { timeout: 30_000 });
    await expect(page.getByTestId('snapshots-error')).toHaveCount(0);
    const back = (await page.evaluate((n) => window.hyperlab!.domains().find((d) => d.name === n)?.id, name))!;
    expect(await run(page, back, 'disk read 5', promptOf(name, type))).toContain('|marker-in-snapsh|');
    expect((await page.evaluate(() => window.hyperlab!.disks.list())).attached[image]).toEqual([`${name} (${back}) xvda`]);
  });
}

test('a pv domain with an OPFS disk moves to the other tab: the target reads the marker and writes its own; the source no longer holds the image', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const a = await context.newPage();
  const b = await context.newPage();
  await openLab(a, '?boot=');
  await openLab(b, '?boot=');
  await a.evaluate(() => window.hyperlab!.disks.create({ name: 'moving.qcow2', format: 'qcow2', size: 1 << 20 }));
  const id = await bootWithDisk(a, 'mover', 'pv', 'moving.qcow2,qcow2,xvda,rw');
  await run(a, id, 'disk write 2 written-in-tab-a', 'disk: wrote 16 bytes');

  await a.getByTestId(`lifecycle-${id}`).click();
  await a.getByTestId(`migrate-${id}`).click();
  await expect(a.getByTestId('migrate-peer').locator('option')).toHaveCount(1);
  await a.getByTestId('migrate-go').click();
  await expect(a.getByTestId('migrate-message')).toHaveText(/^Migrated mover to tab [0-9a-f]{4}: \d+ rounds, downtime [\d.]+ ms$/, { timeout: 90_000 });
  expect(await a.evaluate(() => window.hyperlab!.domains())).toEqual([]);

  await b.waitForFunction(() => window.hyperlab!.domains().some((d) => d.name === 'mover'), undefined, { timeout: 30_000 });
  const there = (await b.evaluate(() => window.hyperlab!.domains().find((d) => d.name === 'mover')?.id))!;
  expect(await run(b, there, 'disk read 2', 'mover$ ')).toContain('|written-in-tab-a|');
  await run(b, there, 'disk write 3 written-in-tab-b', 'disk: wrote 16 bytes');
  await run(b, there, 'disk flush', 'flushed');
  expect((await b.evaluate(() => window.hyperlab!.disks.list())).attached['moving.qcow2']).toEqual([`mover (${there}) xvda`]);

  // The source tab lists no user of the image, and cannot open it: the target holds its one handle.
  expect((await a.evaluate(() => window.hyperlab!.disks.list())).attached['moving.qcow2'] ?? []).toEqual([]);
  const refusal = await a.evaluate(async () => {
    try {
      await window.hyperlab!.disks.download('moving.qcow2');
      return 'opened';
    } catch (e) {
      return (e as Error).message;
    }
  });
  expect(refusal).toMatch(/moving\.qcow2: the image is open elsewhere \(another tab of the lab\?\)$/);
  await b.screenshot({ path: test.info().outputPath('migrate-disk-target.png'), fullPage: true });
  await context.close();
});

test("a pv domain with a vif moves to the other tab and joins its xenbr0: the target's Domain-0 pings it", async ({ browser }) => {
  test.setTimeout(180_000);
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const a = await context.newPage();
  const b = await context.newPage();
  await openLab(a, '?boot=');
  await openLab(b, '?boot=');
  const id = await a.evaluate(() => window.hyperlab!.create('teaching-os-pv-net1'));
  await a.evaluate((id) => window.hyperlab!.waitForText(id, 'teaching-os-pv-net1$ ', 30_000), id);
  await run(a, id, 'ifconfig dhcp', 'dhcp: eth0 leased 10.0.0.11/24');
  expect(await a.evaluate(() => window.hyperlab!.xl('ping -c 1 -i 0.2 10.0.0.11'))).toContain('1 packets transmitted, 1 received');

  const peer = (await a.evaluate(() => window.hyperlab!.migrate.peers()))[0]!.id;
  await a.evaluate(([id, peer]) => window.hyperlab!.migrate.send(id, peer), [id, peer] as const);
  await b.waitForFunction(() => window.hyperlab!.domains().some((d) => d.name === 'teaching-os-pv-net1'), undefined, { timeout: 30_000 });
  const there = (await b.evaluate(() => window.hyperlab!.domains().find((d) => d.name === 'teaching-os-pv-net1')?.id))!;
  expect(await b.evaluate(() => window.hyperlab!.xl('ping -c 2 -i 0.2 10.0.0.11'))).toContain('2 packets transmitted, 2 received, 0% packet loss');
  expect(await b.evaluate(() => window.hyperlab!.net.interfaces())).toContain(`vif${there}.0`);
  expect(await run(b, there, 'ping 10.0.0.1 2', 'teaching-os-pv-net1$ ')).toContain('2 packets transmitted, 2 received');
  expect(await a.evaluate(() => window.hyperlab!.net.interfaces())).not.toContain(`vif${id}.0`);
  await context.close();
});
