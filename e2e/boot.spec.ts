import { readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import { truncatedElf } from '../src/web/testPrograms';
import { consoleScreen, labTest as test, machineNamed } from './lab';

test('the image selector boots another machine', async ({ lab }) => {
  const select = lab.getByTestId('image-select');
  await expect(select.locator('option')).not.toHaveCount(0);
  await select.selectOption('hello');
  await lab.getByTestId('boot-button').click();
  const id = await machineNamed(lab, 'hello');
  await expect(lab.getByTestId(`status-${id}`)).toHaveAttribute('data-poweroff', 'pass');
});

test('a malformed uploaded image shows the loader error next to the picker', async ({ lab }) => {
  await lab.getByTestId('upload-input').setInputFiles({
    name: 'broken.elf',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(truncatedElf()),
  });
  const error = lab.getByTestId('boot-error');
  await expect(error).toBeVisible();
  await expect(error).toContainText('broken.elf');
  await expect(error).toContainText('program header table lies outside the file');
  await expect(lab.locator('[data-machine-name]')).toHaveCount(0);
  await expect(lab.locator('h1')).toContainText('hyperlab'); // the page is still there
});

test('an uploaded ELF boots under its file name', async ({ lab }) => {
  await lab.getByTestId('upload-input').setInputFiles('public/guests/hello.elf');
  const id = await machineNamed(lab, 'hello.elf');
  await expect(consoleScreen(lab, id)).toContainText('Hello from hyperlab');
  await expect(lab.getByTestId('boot-error')).toHaveCount(0);
});

test('an ELF dropped on the drop zone boots', async ({ lab }) => {
  const bytes = Array.from(readFileSync('public/guests/hello.elf'));
  const dataTransfer = await lab.evaluateHandle((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'dropped.elf'));
    return dt;
  }, bytes);
  await lab.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
  const id = await machineNamed(lab, 'dropped.elf');
  await expect(lab.getByTestId(`status-${id}`)).toHaveAttribute('data-poweroff', 'pass');
});
