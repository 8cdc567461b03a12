import { readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import { truncatedElf } from '../src/web/testing/testPrograms';
import { consoleScreen, domainNamed, labTest as test } from './lab';

test('a preset creates a domain that runs', async ({ lab }) => {
  const select = lab.getByTestId('preset-select');
  await expect(select.locator('option')).not.toHaveCount(0);
  await select.selectOption('hello');
  await lab.getByTestId('create-button').click();
  const id = await domainNamed(lab, 'hello');
  await expect(await consoleScreen(lab, id)).toContainText('Hello from hyperlab');
  await expect(lab.getByTestId(`state-${id}`)).toContainText('shut down: PASS');
});

test('a bad config shows its error next to the line', async ({ lab }) => {
  await lab.getByTestId('preset-select').selectOption('hello');
  await lab.getByTestId('edit-config-button').click();
  const editor = lab.getByTestId('config-editor');
  await expect(editor).toHaveValue(/kernel = "guests\/hello\.elf"/);
  await editor.fill('name = "bad"\ntype = "hvm"\nvcpus = 0\nkernel = "guests/hello.elf"\n');
  await lab.getByTestId('config-create').click();
  const error = lab.getByTestId('config-error');
  await expect(error).toBeVisible();
  await expect(error).toHaveAttribute('data-line', '3');
  await expect(error).toContainText('vcpus must be between 1 and 8');
  await expect(lab.getByTestId('config-error-message')).toContainText('line 3: vcpus must be between 1 and 8, not 0');
  await expect(editor).toHaveAttribute('aria-invalid', 'true');
  // Beside the third line: its box is on that line's row of the text, to the right of the text.
  const box = (await editor.boundingBox())!;
  const at = (await error.boundingBox())!;
  const lineHeight = await editor.evaluate((e) => parseFloat(getComputedStyle(e).lineHeight));
  const paddingTop = await editor.evaluate((e) => parseFloat(getComputedStyle(e).paddingTop));
  expect(Math.abs(at.y - (box.y + paddingTop + 2 * lineHeight))).toBeLessThan(lineHeight / 2);
  expect(at.x).toBeGreaterThan(box.x + 40);
  // Fixing the line and creating works.
  await editor.fill('name = "good"\ntype = "hvm"\nvcpus = 1\nkernel = "guests/hello.elf"\non_poweroff = "preserve"\n');
  await expect(lab.getByTestId('config-error')).toHaveCount(0);
  await lab.getByTestId('config-create').click();
  await expect(await consoleScreen(lab, await domainNamed(lab, 'good'))).toContainText('Hello from hyperlab');
  await lab.getByTestId('config-close').click();
});

test('a malformed uploaded image shows the loader error', async ({ lab }) => {
  await lab.getByTestId('upload-input').setInputFiles({ name: 'broken.elf', mimeType: 'application/octet-stream', buffer: Buffer.from(truncatedElf()) });
  const error = lab.getByTestId('create-error');
  await expect(error).toBeVisible();
  await expect(error).toContainText('broken.elf');
  await expect(error).toContainText('program header table lies outside the file');
  await expect(lab.locator('[data-testid^="row-"][data-name="broken.elf"]')).toHaveCount(0);
  await expect(lab.locator('h1')).toContainText('hyperlab'); // the page is still there
});

test('an uploaded ELF boots under its file name', async ({ lab }) => {
  await lab.getByTestId('upload-input').setInputFiles('public/guests/hello.elf');
  const id = await domainNamed(lab, 'hello.elf');
  await expect(await consoleScreen(lab, id)).toContainText('Hello from hyperlab');
  await expect(lab.getByTestId('create-error')).toHaveCount(0);
});

test('an ELF dropped on the page boots', async ({ lab }) => {
  const bytes = Array.from(readFileSync('public/guests/hello.elf'));
  const dataTransfer = await lab.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'dropped.elf'));
    return dt;
  }, bytes);
  await lab.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
  const id = await domainNamed(lab, 'dropped.elf');
  await expect(lab.getByTestId(`state-${id}`)).toContainText('shut down: PASS');
});

test("an image uploaded while the editor is open becomes the config's kernel", async ({ lab }) => {
  await lab.getByTestId('edit-config-button').click();
  const editor = lab.getByTestId('config-editor');
  await editor.fill('name = "mine"\ntype = "hvm"\nmemory = 8\nkernel = "x.elf"\non_poweroff = "preserve"\n');
  await lab.getByTestId('upload-input').setInputFiles('public/guests/hello.elf');
  await expect(editor).toHaveValue(/kernel = "hello\.elf"/);
  await expect(lab.getByTestId('config-image')).toContainText('hello.elf');
  await lab.getByTestId('config-create').click();
  const id = await domainNamed(lab, 'mine');
  await expect(await consoleScreen(lab, id)).toContainText('Hello from hyperlab');
  expect((await lab.evaluate((id) => window.hyperlab!.stats(id), id)).memKiB).toBe(8 * 1024);
  await lab.getByTestId('config-close').click();
});
