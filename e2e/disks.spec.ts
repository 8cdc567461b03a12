/**
 * Disks in the browser (real Chromium, real OPFS): an image made in the Disks panel, the
 * pv teaching OS writing it through blkfront/blkback, and the data still there after a
 * page reload; upload and download round trips; corrupt uploads and images larger than
 * the quota refused in one line; the vbd inspector and the disk graphs.
 */
import { expect, test, type Page } from '@playwright/test';
import { openLab } from './lab';

function config(name: string, disk: string): string {
  return [`name = "${name}"`, 'type = "pv"', 'memory = 16', 'kernel = "guests/teaching-os-pv.elf"', `disk = [ '${disk}' ]`, ''].join('\n');
}

async function run(page: Page, id: number, command: string, answer: string): Promise<string> {
  const before = await page.evaluate((id) => window.hyperlab!.consoleText(id).length, id);
  await page.evaluate(([id, c]) => window.hyperlab!.sendInput(id, `${c}\n`), [id, command] as const);
  await page.waitForFunction(([id, n, a]) => window.hyperlab!.consoleText(id).slice(n).includes(a), [id, before, answer] as const, { timeout: 20_000 });
  return page.evaluate(([id, n]) => window.hyperlab!.consoleText(id).slice(n), [id, before] as const);
}

/** Unfold the Disks panel (it starts folded; the page remembers). */
async function openDisks(page: Page): Promise<void> {
  const panel = page.getByTestId('disks-panel');
  await panel.scrollIntoViewIfNeeded();
  if ((await panel.getAttribute('data-open')) !== 'true') await page.getByTestId('disks-toggle').click();
  await expect(panel).toHaveAttribute('data-open', 'true');
}

async function bootWithDisk(page: Page, name: string, disk: string): Promise<number> {
  const id = await page.evaluate((cfg) => window.hyperlab!.create({ config: cfg }), config(name, disk));
  await page.evaluate(([id, prompt]) => window.hyperlab!.waitForText(id, prompt, 20_000), [id, `${name}$ `] as const);
  return id;
}

test('a disk made in the Disks panel keeps what the pv guest wrote and flushed across a page reload', async ({ page }) => {
  test.setTimeout(90_000);
  await openLab(page, '?boot=');
  await openDisks(page);
  await page.getByTestId('disk-create-name').fill('persist.qcow2');
  await page.getByTestId('disk-create-format').selectOption('qcow2');
  await page.getByTestId('disk-create-size').fill('2');
  await page.getByTestId('disk-create').click();
  const row = page.getByTestId('disk-row-persist.qcow2');
  await expect(row).toHaveAttribute('data-size', String(2 << 20));
  await expect(row).toHaveAttribute('data-format', 'qcow2');

  const id = await bootWithDisk(page, 'diskpv', 'format=qcow2, vdev=xvda, access=rw, target=persist.qcow2');
  await expect(row).toHaveAttribute('data-users', '1');
  await expect(page.getByTestId('disk-attached-persist.qcow2')).toContainText(`diskpv (${id}) xvda`);
  await run(page, id, 'disk write 0 hello-from-before-reload', 'disk: wrote 24 bytes to xvda at sector 0');
  await run(page, id, 'disk flush', 'xvda flushed');
  // Deleting an attached image is refused in one line.
  await page.getByTestId('disk-delete-persist.qcow2').click();
  await expect(page.getByTestId('disks-error')).toHaveText(/^persist\.qcow2: attached to a domain/);
  await page.screenshot({ path: test.info().outputPath('disks-panel.png'), fullPage: true });

  await page.reload();
  await page.waitForFunction(() => window.hyperlab !== undefined);
  await page.evaluate(() => window.hyperlab!.ready());
  const listed = await page.evaluate(() => window.hyperlab!.disks.list());
  expect(listed.where).toBe('OPFS disks/');
  expect(listed.images.map((i) => i.name)).toEqual(['persist.qcow2']);
  const again = await bootWithDisk(page, 'diskpv', 'format=qcow2, vdev=xvda, access=rw, target=persist.qcow2');
  const dump = await run(page, again, 'disk read 0', 'diskpv$ ');
  expect(dump).toContain('|hello-from-befor|');
  expect(dump).toContain('|e-reload');
  // The image checks clean (the image layer's refcount check, as qemu-img check), and is destroyed cleanly.
  await page.evaluate((id) => window.hyperlab!.destroy(id), again);
  await expect(page.getByTestId('disks-panel')).toHaveAttribute('data-open', 'true'); // remembered over the reload
  await expect(page.getByTestId('disk-row-persist.qcow2')).toHaveAttribute('data-users', '0', { timeout: 15_000 });
  await page.getByTestId('disk-delete-persist.qcow2').click();
  await expect(page.getByTestId('disks-empty')).toBeVisible();
});

test("the OPFS store keeps the image layer's ByteStore rules (checked in the hypervisor worker, on real access handles)", async ({ page }) => {
  await openLab(page, '?boot=');
  expect(await page.evaluate(() => window.hyperlab!.disks.check())).toMatch(/^the ByteStore rules hold in OPFS disks\/ /);
  expect((await page.evaluate(() => window.hyperlab!.disks.list())).images).toEqual([]);
});

test('upload and download round trip; a corrupt upload and an image larger than the quota are refused in one line', async ({ page }) => {
  await openLab(page, '?boot=');
  await openDisks(page);
  const raw = Buffer.alloc(64 * 1024);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + 7) & 0xff;
  await page.getByTestId('disk-upload').setInputFiles({ name: 'up.raw', mimeType: 'application/octet-stream', buffer: raw });
  await expect(page.getByTestId('disk-row-up.raw')).toHaveAttribute('data-size', String(raw.length));
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('disk-download-up.raw').click()]);
  expect(download.suggestedFilename()).toBe('up.raw');
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  expect(Buffer.compare(readFileSync(path), raw)).toBe(0);

  // qcow2 magic, version 3, then a header that points past the end of the file.
  const corrupt = Buffer.alloc(512);
  corrupt.write('QFI\xfb', 0, 'latin1');
  corrupt.writeUInt32BE(3, 4);
  corrupt.writeUInt32BE(16, 20); // cluster_bits
  corrupt.writeUInt32BE(0, 24);
  corrupt.writeUInt32BE(1 << 20, 28); // size
  corrupt.writeUInt32BE(1, 36); // l1_size
  corrupt.writeUInt32BE(0x7fff0000, 44); // l1_table_offset far away
  await page.getByTestId('disk-upload').setInputFiles({ name: 'bad.qcow2', mimeType: 'application/octet-stream', buffer: corrupt });
  const error = page.getByTestId('disks-error');
  await expect(error).toHaveText(/^bad\.qcow2: .+/);
  expect((await error.textContent())!.includes('\n')).toBe(false);
  await expect(page.getByTestId('disk-row-bad.qcow2')).toHaveCount(0);

  const quota = await page.evaluate(async () => (await window.hyperlab!.disks.list()).quota);
  const tooBig = Math.min(2 ** 40, Math.ceil((quota + (1 << 20)) / 512) * 512);
  const refusal = await page.evaluate(async (size) => {
    try {
      await window.hyperlab!.disks.create({ name: 'huge.raw', format: 'raw', size });
      return 'created';
    } catch (e) {
      return (e as Error).message;
    }
  }, tooBig);
  expect(refusal).toMatch(tooBig > quota ? /^huge\.raw: the browser's storage quota is used up/ : /^size /);
  const names = await page.evaluate(async () => (await window.hyperlab!.disks.list()).images.map((i) => i.name));
  expect(names).toEqual(['up.raw']);
});

test('attach from the Disks panel to a running domain; the vbd inspector shows both ends Connected and the ring; disk graphs move', async ({ page }) => {
  test.setTimeout(60_000);
  await openLab(page, '?boot=');
  await page.waitForFunction(() => window.hyperlab!.presets().length > 0);
  await page.evaluate(() => window.hyperlab!.disks.create({ name: 'extra.raw', format: 'raw', size: 1 << 20 }));
  await page.evaluate(() => window.hyperlab!.disks.create({ name: 'root.qcow2', format: 'qcow2', backing: 'extra.raw' }));
  const id = await page.evaluate(() => window.hyperlab!.create('teaching-os-pv'));
  await page.evaluate((id) => window.hyperlab!.waitForText(id, 'teaching-os-pv$ ', 20_000), id);
  await openDisks(page);
  // extra.raw is the base of root.qcow2 only while that is open; attach the overlay here.
  await page.getByTestId('disk-attach-vdev-root.qcow2').fill('xvdb');
  await page.getByTestId('disk-attach-root.qcow2').click();
  await expect(page.getByTestId('disks-message')).toHaveText(`attached root.qcow2 to domain ${id} as xvdb`);
  const listing = await run(page, id, 'disk', 'Connected');
  expect(listing).toContain('xvdb: device 51728, 2048 sectors');
  // The base may not be written while the overlay reads it.
  const refusal = await page.evaluate((id) => window.hyperlab!.xl(`block-attach ${id} extra.raw,raw,xvdc,rw`), id);
  expect(refusal).toMatch(/extra\.raw: is written by|extra\.raw: is in use/);
  await run(page, id, 'disk bench xvdb 1', 'timing:');

  await page.getByTestId('insights-tab-inspect').click();
  await page.getByTestId('inspect-domain').selectOption(String(id));
  const vbd = page.getByTestId('vbd-xvdb');
  await expect(vbd).toHaveAttribute('data-backend-state', 'Connected');
  await expect(vbd).toHaveAttribute('data-frontend-state', 'Connected');
  await expect(vbd).toHaveAttribute('data-in-flight', '0');
  await expect(page.getByTestId('vbd-backend-xvdb').locator('[data-node="sectors"] td')).toHaveText('2048');
  await expect(page.getByTestId('vbd-frontend-xvdb').locator('[data-node="ring-ref"]')).toHaveCount(1);
  const inspected = await page.evaluate((id) => window.hyperlab!.vbds(id), id);
  expect(inspected[0]!.stats.rdReq).toBeGreaterThan(0);
  expect(inspected[0]!.ring!.reqProd).toBe(inspected[0]!.ring!.rspProd);
  await vbd.scrollIntoViewIfNeeded();
  await page.screenshot({ path: test.info().outputPath('vbd-inspector.png') });

  // The graphs' samples carry the disk rates (the bench moved bytes in the last seconds).
  const peak = await page.evaluate((id) => Math.max(...window.hyperlab!.history(id).map((s) => s.diskBytes)), id);
  expect(peak).toBeGreaterThan(0);
  await page.getByTestId('insights-tab-graphs').click();
  await expect(page.getByTestId('graph-diskBytes')).toBeVisible();
  await page.getByTestId('graph-disk').scrollIntoViewIfNeeded();
  await page.screenshot({ path: test.info().outputPath('disk-graphs.png') });
});

test('an image a domain of one tab has open is refused, in one line, to a domain of another tab', async ({ page }) => {
  test.setTimeout(60_000);
  await openLab(page, '?boot=');
  await page.evaluate(() => window.hyperlab!.disks.create({ name: 'shared.raw', format: 'raw', size: 1 << 20 }));
  const id = await bootWithDisk(page, 'first', 'shared.raw,raw,xvda,rw');
  const other = await page.context().newPage();
  await openLab(other, '?boot=');
  const refusal = await other.evaluate(
    async (cfg) => {
      try {
        await window.hyperlab!.create({ config: cfg });
        return 'created';
      } catch (e) {
        return (e as Error).message;
      }
    },
    config('second', 'shared.raw,raw,xvda,rw'),
  );
  expect(refusal).toMatch(/shared\.raw: the image is open elsewhere \(another tab of the lab\?\)$/);
  expect(refusal.includes('\n')).toBe(false);
  expect(await other.evaluate(() => window.hyperlab!.domains().length)).toBe(0);
  // The first tab's guest still reads and writes its disk.
  await run(page, id, 'disk write 1 still-mine', 'disk: wrote 10 bytes');
  await other.close();
});

test('the linux-6.1-disk preset (virtio-blk root disk, a qcow2 overlay in OPFS over the shipped rootfs): a file written survives a page reload', async ({
  page,
}) => {
  test.setTimeout(150_000);
  await openLab(page, '?boot=');
  await page.waitForFunction(() => window.hyperlab!.presets().length > 0); // with ?boot= ready() may come before the preset list
  test.skip(!(await page.evaluate(() => window.hyperlab!.presets())).includes('linux-6.1-disk'), 'the site has no Linux 6.1 kernel or rootfs');
  const boot = async (): Promise<number> => {
    const id = await page.evaluate(() => window.hyperlab!.create('linux-6.1-disk'));
    await page.evaluate((id) => window.hyperlab!.waitForText(id, 'hyperlab# ', 60_000), id);
    return id;
  };
  const id = await boot();
  const overlay = (await page.evaluate(() => window.hyperlab!.disks.list())).images.find((i) => i.name === 'linux-6.1-disk.qcow2')!;
  expect(overlay).toMatchObject({ format: 'qcow2', backing: 'guests/linux/rootfs.qcow2', virtualSize: 64 << 20 });
  await run(page, id, 'echo kept-over-reload > /root/note; sync; echo synced', 'synced\nhyperlab# ');
  // ext2 sends no FLUSH on sync: the host's write-back (diskLibrary.ts WRITEBACK_MS, 1 s) makes the image's metadata stable.
  await page.waitForTimeout(2000);
  await page.reload();
  await page.waitForFunction(() => window.hyperlab !== undefined);
  await page.evaluate(() => window.hyperlab!.ready());
  const again = await boot();
  const out = await run(page, again, 'cat /root/note', 'hyperlab# ');
  expect(out).toContain('kept-over-reload');
  const disks = await page.evaluate((id) => window.hyperlab!.stats(id), again);
  expect(disks.exits).toBeDefined();
});

test('an hvm domain with an OPFS disk: the virtio-blk inspector shows the device driven (DRIVER_OK) and its queue', async ({ page }) => {
  test.setTimeout(60_000);
  await openLab(page, '?boot=');
  await page.evaluate(() => window.hyperlab!.disks.create({ name: 'vd.raw', format: 'raw', size: 1 << 20 }));
  const cfg = ['name = "hvmdisk"', 'type = "hvm"', 'memory = 16', 'kernel = "guests/teaching-os-hvm.elf"', `disk = [ 'vd.raw,raw,xvda,rw' ]`, ''].join('\n');
  const id = await page.evaluate((c) => window.hyperlab!.create({ config: c }), cfg);
  await page.evaluate((id) => window.hyperlab!.waitForText(id, 'tos$ ', 20_000), id);
  const [disk] = await page.evaluate((id) => window.hyperlab!.virtioDisks(id), id);
  expect(disk!.statusNames).toContain('DRIVER_OK');
  expect(disk!.queue.ready).toBe(true);
  await page.getByTestId('insights-tab-inspect').click();
  await page.getByTestId('inspect-domain').selectOption(String(id));
  const shown = page.getByTestId('virtio-xvda');
  await expect(shown).toHaveAttribute('data-status', /DRIVER_OK/);
  await expect(shown).toHaveAttribute('data-in-flight', '0');
  expect((await page.evaluate(() => window.hyperlab!.disks.list())).attached['vd.raw']).toEqual([`hvmdisk (${id}) xvda`]);
});
