import { expect } from '@playwright/test';
import { echoImage, spinImage } from '../src/web/testPrograms';
import { bootBytes, bootGuest, consoleScreen, labTest as test, shownInstret, stats } from './lab';

test('pause freezes the instruction count and resume continues it', async ({ lab }) => {
  const id = await bootBytes(lab, spinImage(), 'spin');
  const status = lab.getByTestId(`status-${id}`);
  await expect(status).toHaveAttribute('data-state', 'running');
  await expect.poll(() => shownInstret(lab, id)).toBeGreaterThan(1_000_000);

  await lab.getByTestId(`pause-${id}`).click();
  await expect(status).toHaveAttribute('data-state', 'paused');
  await expect(lab.getByTestId(`pause-${id}`)).toBeDisabled();
  const frozen = (await stats(lab, id)).instret;
  await lab.waitForTimeout(400); // four stats intervals
  expect((await stats(lab, id)).instret).toBe(frozen);
  expect(await shownInstret(lab, id)).toBe(frozen);

  await lab.getByTestId(`resume-${id}`).click();
  await expect(status).toHaveAttribute('data-state', 'running');
  await expect.poll(() => shownInstret(lab, id)).toBeGreaterThan(frozen);
  expect((await stats(lab, id)).mips).toBeGreaterThan(0);
});

test('keys typed into a console go to the guest UART', async ({ lab }) => {
  const id = await bootBytes(lab, echoImage(), 'echo');
  await expect(lab.getByTestId(`status-${id}`)).toHaveAttribute('data-state', 'waiting');
  await lab.getByTestId(`console-${id}`).click();
  await lab.keyboard.type('ping 42');
  await expect(consoleScreen(lab, id)).toContainText('ping 42');
  expect(await lab.evaluate((id) => window.hyperlab!.consoleText(id), id)).toBe('ping 42');
});

test('reset reboots the machine from the same image', async ({ lab }) => {
  const id = await bootGuest(lab, 'hello');
  await expect(lab.getByTestId(`status-${id}`)).toHaveAttribute('data-poweroff', 'pass');
  await lab.getByTestId(`reset-${id}`).click();
  await expect.poll(async () => (await stats(lab, id)).resets).toBe(1);
  await expect(lab.getByTestId(`status-${id}`)).toHaveAttribute('data-poweroff', 'pass');
  await expect(consoleScreen(lab, id)).toContainText('--- machine reset ---');
  const text = await lab.evaluate((id) => window.hyperlab!.consoleText(id), id);
  expect(text.match(/Hello from hyperlab/g)).toHaveLength(1); // the new boot's text only
});

test('destroy removes the machine', async ({ lab }) => {
  const id = await bootGuest(lab, 'hello');
  await lab.getByTestId(`destroy-${id}`).click();
  await expect(lab.getByTestId(`machine-${id}`)).toHaveCount(0);
  await expect(lab.getByTestId('no-machines')).toBeVisible();
});

test('controls are reachable from the keyboard', async ({ lab }) => {
  const id = await bootBytes(lab, echoImage(), 'echo');
  const status = lab.getByTestId(`status-${id}`);
  await lab.getByTestId(`pause-${id}`).focus();
  await lab.keyboard.press('Enter');
  await expect(status).toHaveAttribute('data-state', 'paused');
  await expect(lab.getByTestId(`pause-${id}`)).toBeFocused(); // unavailable now, but focus stays
  await lab.keyboard.press('Tab');
  await expect(lab.getByTestId(`resume-${id}`)).toBeFocused();
  await lab.keyboard.press('Space');
  await expect(status).not.toHaveAttribute('data-state', 'paused');
  // The console lets Tab through: focus can leave it in both directions.
  await lab.getByTestId(`console-${id}`).click();
  await lab.keyboard.press('Shift+Tab');
  await expect(lab.getByTestId(`destroy-${id}`)).toBeFocused();
  await lab.keyboard.press('Enter');
  await expect(lab.getByTestId(`machine-${id}`)).toHaveCount(0);
});
