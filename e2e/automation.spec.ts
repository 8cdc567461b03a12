import { expect } from '@playwright/test';
import { echoImage, spinImage, truncatedElf } from '../src/web/testPrograms';
import { bootBytes, labTest as test } from './lab';

test('window.hyperlab boots by name, waits for text and reports stats', async ({ lab: page }) => {
  const images = await page.evaluate(() => window.hyperlab!.images());
  expect(images).toContain('hello');
  const id = await page.evaluate(() => window.hyperlab!.boot('hello'));
  const text = await page.evaluate((id) => window.hyperlab!.waitForText(id, 'hello: PASS'), id);
  expect(text).toContain('Hello from hyperlab\n');
  expect(await page.evaluate((id) => window.hyperlab!.waitForPowerOff(id), id)).toEqual({ kind: 'pass', code: 0 });
  expect(await page.evaluate(() => window.hyperlab!.machines())).toEqual([
    { id, name: 'hello', origin: 'catalog', state: 'off', poweroff: { kind: 'pass', code: 0 } },
  ]);
  const stats = await page.evaluate((id) => window.hyperlab!.stats(id), id);
  expect(stats.instret).toBeGreaterThan(1000);
  expect(stats.avgMips).toBeGreaterThan(0);
  expect(stats.runMs).toBeGreaterThan(0);
  await page.evaluate((id) => window.hyperlab!.destroy(id), id);
  expect(await page.evaluate(() => window.hyperlab!.machines())).toEqual([]);
  await expect(page.evaluate((id) => window.hyperlab!.stats(id), id)).rejects.toThrow(`no machine with id ${id}`);
});

test('window.hyperlab.boot rejects a malformed image with the loader message', async ({ lab: page }) => {
  const failure = page.evaluate((bytes) => window.hyperlab!.boot(bytes), Array.from(truncatedElf()));
  await expect(failure).rejects.toThrow('program header table lies outside the file');
  await expect(page.evaluate(() => window.hyperlab!.boot('no-such-guest'))).rejects.toThrow(/no-such-guest\.elf.*not found/);
});

test('window.hyperlab sends input, pauses, resumes and resets', async ({ lab: page }) => {
  const echo = await bootBytes(page, echoImage(), 'echo');
  await page.evaluate((id) => window.hyperlab!.sendInput(id, 'abc'), echo);
  expect(await page.evaluate((id) => window.hyperlab!.waitForText(id, 'abc'), echo)).toBe('abc');

  const spin = await bootBytes(page, spinImage(), 'spin');
  await expect.poll(() => page.evaluate((id) => window.hyperlab!.stats(id).instret, spin)).toBeGreaterThan(0);
  const paused = await page.evaluate((id) => window.hyperlab!.pause(id), spin);
  expect(paused.state).toBe('paused');
  await page.waitForTimeout(250);
  expect(await page.evaluate((id) => window.hyperlab!.stats(id).instret, spin)).toBe(paused.instret);
  expect((await page.evaluate((id) => window.hyperlab!.resume(id), spin)).state).toBe('running');

  const reset = await page.evaluate((id) => window.hyperlab!.reset(id), echo);
  expect(reset.resets).toBe(1);
  expect(await page.evaluate((id) => window.hyperlab!.consoleText(id), echo)).toBe('');
});

test('waitForText fails fast when the machine powers off without the text', async ({ lab: page }) => {
  const id = await page.evaluate(() => window.hyperlab!.boot('hello'));
  const started = Date.now();
  await expect(page.evaluate((id) => window.hyperlab!.waitForText(id, 'never printed', 20_000), id)).rejects.toThrow(
    'is off and never printed',
  );
  expect(Date.now() - started).toBeLessThan(10_000);
});
