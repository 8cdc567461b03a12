/**
 * Linux in the browser lab: the linux-sbi-hvc preset (Linux 6.1 with the Sv32 MMU, in
 * S-mode on hyperlab's SBI firmware, on the SBI console; docs/linux.md) boots to its
 * init's prompt in an hvm domain and answers a command typed on its console. The SBI
 * console variant boots about twice as fast in the page as the UART one (fewer exits).
 */
import { expect } from '@playwright/test';
import { labTest as test } from './lab';

test('the linux-sbi-hvc preset boots to the prompt and answers a command', async ({ lab: page }) => {
  test.setTimeout(60_000);
  expect(await page.evaluate(() => window.hyperlab!.presets())).toEqual(expect.arrayContaining(['linux-nommu', 'linux-sbi', 'linux-sbi-hvc']));
  const id = await page.evaluate(() => window.hyperlab!.create('linux-sbi-hvc'));
  const boot = await page.evaluate((id) => window.hyperlab!.waitForText(id, 'hyperlab# ', 40_000), id);
  expect(boot).toContain('SBI implementation ID=0x7');
  expect(boot).toContain('hyperlab init: Linux 6.1.');
  await page.evaluate((id) => window.hyperlab!.sendInput(id, 'echo hello from the browser\n'), id);
  const answer = await page.evaluate((id) => window.hyperlab!.waitForText(id, 'hello from the browser\nhyperlab# ', 10_000), id);
  expect(answer).toContain('hyperlab# echo hello from the browser');
  const stats = await page.evaluate((id) => window.hyperlab!.stats(id), id);
  expect(stats.exits['sbi:console']).toBeGreaterThan(50); // batched: about 28 bytes an exit
  expect(stats.exits['sbi:console-read']).toBeGreaterThan(0); // the typed line came through SBI getchar
  expect(stats.exits['mmio:uart0'] ?? 0).toBeLessThan(100);
});
