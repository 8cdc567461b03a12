import { expect } from '@playwright/test';
import { echoImage, spinImage } from '../src/web/testing/testPrograms';
import { bootBytes, consoleScreen, createPreset, domainNamed, labTest as test, shownCpuNs, stats } from './lab';

test("pause freezes a domain's CPU time and unpause resumes it", async ({ lab }) => {
  const id = await bootBytes(lab, spinImage(), 'spin');
  const row = lab.getByTestId(`row-${id}`);
  await expect.poll(() => shownCpuNs(lab, id)).toBeGreaterThan(100e6);

  await lab.getByTestId(`pause-${id}`).click();
  await expect(row).toHaveAttribute('data-state', 'paused');
  await expect(lab.getByTestId(`pause-${id}`)).toHaveAttribute('aria-disabled', 'true');
  const { cpuNs: frozen, instret } = await stats(lab, id);
  await lab.waitForTimeout(400); // four stats intervals
  expect((await stats(lab, id)).cpuNs).toBe(frozen);
  expect((await stats(lab, id)).instret).toBe(instret);
  expect(await shownCpuNs(lab, id)).toBe(frozen);

  await lab.getByTestId(`unpause-${id}`).click();
  await expect(row).not.toHaveAttribute('data-state', 'paused');
  await expect.poll(() => shownCpuNs(lab, id)).toBeGreaterThan(frozen);
  await expect.poll(async () => (await stats(lab, id)).mips).toBeGreaterThan(0);
});

test('destroy removes the domain from the list and its console', async ({ lab }) => {
  const id = await createPreset(lab, 'hello');
  await expect(lab.getByTestId(`row-${id}`)).toBeVisible();
  await lab.getByTestId(`destroy-${id}`).click();
  await expect(lab.getByTestId(`row-${id}`)).toHaveCount(0);
  await expect(lab.getByTestId(`console-panel-${id}`)).toHaveCount(0);
  await expect(lab.getByTestId('no-domains')).toBeVisible();
  await expect.poll(() => lab.evaluate(() => window.hyperlab!.xl('xl list'))).not.toContain('hello');
});

test('keys typed into an hvm console reach the guest UART', async ({ lab }) => {
  const id = await bootBytes(lab, echoImage(), 'echo');
  await expect(lab.getByTestId(`row-${id}`)).toHaveAttribute('data-state', 'blocked');
  await lab.getByTestId(`console-${id}`).click();
  await lab.keyboard.type('ping 42, and more than sixteen bytes');
  await expect(await consoleScreen(lab, id)).toContainText('ping 42, and more than sixteen bytes');
  expect(await lab.evaluate((id) => window.hyperlab!.consoleText(id), id)).toBe('ping 42, and more than sixteen bytes');
});

test('reboot of an hvm domain is a hard reset into a new domain with the same console', async ({ lab }) => {
  const id = await createPreset(lab, 'hello');
  await expect(lab.getByTestId(`state-${id}`)).toHaveAttribute('data-value', 'shutdown');
  await expect(lab.getByTestId(`shutdown-${id}`)).toHaveAttribute('aria-disabled', 'true'); // hvm: no PV channel
  await lab.getByTestId(`reboot-${id}`).click();
  const next = id + 1;
  await expect(lab.getByTestId(`row-${next}`)).toHaveAttribute('data-name', 'hello');
  await expect(lab.getByTestId(`row-${id}`)).toHaveCount(0);
  await expect(await consoleScreen(lab, next)).toContainText(`domain ${id} rebooted as domain ${next}`);
  await expect(lab.getByTestId(`state-${next}`)).toHaveAttribute('data-value', 'shutdown');
  const text = await lab.evaluate((id) => window.hyperlab!.consoleText(id), next);
  expect(text.match(/Hello from hyperlab/g)).toHaveLength(1); // the new boot's text only
  expect((await stats(lab, next)).resets).toBe(1);
});

test('controls are reachable from the keyboard', async ({ lab }) => {
  const id = await bootBytes(lab, echoImage(), 'echo');
  const row = lab.getByTestId(`row-${id}`);
  await lab.getByTestId(`pause-${id}`).focus();
  await lab.keyboard.press('Enter');
  await expect(row).toHaveAttribute('data-state', 'paused');
  await expect(lab.getByTestId(`pause-${id}`)).toBeFocused(); // unavailable now, but focus stays
  await lab.keyboard.press('Tab');
  await expect(lab.getByTestId(`unpause-${id}`)).toBeFocused();
  await lab.keyboard.press('Space');
  await expect(row).not.toHaveAttribute('data-state', 'paused');
  // Console goes to the domain's terminal, which lets Tab through.
  await lab.getByTestId(`show-console-${id}`).click();
  await expect(lab.getByTestId(`console-${id}`).locator('textarea')).toBeFocused();
  await lab.keyboard.type('k');
  await expect(await consoleScreen(lab, id)).toContainText('k');
  await lab.getByTestId(`destroy-${id}`).focus();
  await lab.keyboard.press('Enter');
  await expect(row).toHaveCount(0);
});

test('xl in Domain-0 creates and pauses domains that the list then shows', async ({ lab }) => {
  await lab.getByTestId('console-0').click();
  await lab.keyboard.type('xl create cpubench.cfg name=bench\n');
  const id = await domainNamed(lab, 'bench');
  await lab.keyboard.type(`xl pause ${id}\n`);
  await expect(lab.getByTestId(`row-${id}`)).toHaveAttribute('data-state', 'paused');
  await lab.keyboard.type('xl sched-credit -d bench -w 512\n');
  await expect.poll(async () => (await stats(lab, id)).weight).toBe(512);
});
