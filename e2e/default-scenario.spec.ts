import { expect, test, type Page } from '@playwright/test';
import { consoleScreen, openLab, shownCpuNs } from './lab';

// One page for the whole file: these tests look at the startup scenario.
test.describe.configure({ mode: 'serial' });
let page: Page;
let names: string[];
const TEACHING_OS = ['teaching-os-pv', 'teaching-os-hvm'];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await openLab(page);
  names = await page.evaluate(() => window.hyperlab!.domains().map((d) => d.name));
});
test.afterAll(async () => {
  await page.close();
});

/** What each default guest prints when it is up, and a command it answers. */
function expectations(name: string): { up: string; command?: string; answer?: string } {
  if (name === 'teaching-os-pv') return { up: 'teaching-os-pv$ ', command: 'info', answer: 'type: pv' };
  if (name === 'teaching-os-hvm') return { up: 'tos$ ', command: 'info', answer: 'type: hvm' };
  if (name === 'hello') return { up: 'Hello from hyperlab' };
  return { up: `${name}: PASS` };
}

test('the default scenario boots its domains: the teaching OS as pv and hvm (or hello and a self-test)', async () => {
  const images = await page.evaluate(() => window.hyperlab!.images());
  if (TEACHING_OS.every((n) => images.includes(n))) {
    expect(names).toEqual(TEACHING_OS);
    expect(await page.evaluate(() => window.hyperlab!.domains().map((d) => d.type))).toEqual(['pv', 'hvm']);
  } else {
    expect(names[0]).toBe('hello');
  }
  const first = await page.getByTestId('console-panel-1').boundingBox();
  const second = await page.getByTestId('console-panel-2').boundingBox();
  for (const [i, name] of names.entries()) {
    const domid = i + 1;
    await page.evaluate(([id, text]) => window.hyperlab!.waitForText(id, text, 20_000), [domid, expectations(name).up] as const);
    await expect(await consoleScreen(page, domid)).toContainText(expectations(name).up.trim());
    await expect(page.getByTestId(`row-${domid}`)).toHaveAttribute('data-name', name);
  }
  expect(second!.x).toBeGreaterThan(first!.x + first!.width - 1); // side by side at 1440 px
  expect(first!.y + 150).toBeLessThan(900); // and in view when the page opens
});

test('a command typed into each guest console answers', async () => {
  for (const [i, name] of names.entries()) {
    const { command, answer } = expectations(name);
    if (!command || !answer) continue;
    await page.getByTestId(`console-${i + 1}`).click();
    await page.keyboard.type(command);
    await page.keyboard.press('Enter');
    await expect(await consoleScreen(page, i + 1)).toContainText(answer);
  }
});

test('the Domain-0 console answers xl list with Domain-0 and the guests', async () => {
  const before = (await page.evaluate(() => window.hyperlab!.consoleText(0))).split('Domain-0 ').length;
  await page.getByTestId('console-0').click();
  await page.keyboard.type('xl list');
  await page.keyboard.press('Enter');
  await expect.poll(async () => (await page.evaluate(() => window.hyperlab!.consoleText(0))).split('Domain-0 ').length).toBeGreaterThan(before);
  const screen = await consoleScreen(page, 0);
  await expect(screen).toContainText(/Domain-0\s+0\s+0\s+0\s+r-----/);
  for (const name of names) await expect(screen).toContainText(name);
});

test('the domain list receives stats: CPU time and the report counter move', async () => {
  const row = page.getByTestId('row-1');
  const seq = Number(await row.getAttribute('data-seq'));
  const cpu = await shownCpuNs(page, 1);
  await expect.poll(async () => Number(await row.getAttribute('data-seq')), { timeout: 5000 }).toBeGreaterThan(seq + 5);
  if (names[0] !== 'hello') await expect.poll(() => shownCpuNs(page, 1)).toBeGreaterThan(cpu);
  await expect(page.getByTestId('host-facts')).toContainText('pCPUs');
  const memory = await page.getByTestId('mem-1').getAttribute('data-value');
  expect(Number(memory)).toBe(16 * 1024);
});

test('the pv guest reboots and shuts down when Domain-0 asks it to (xenstore control/shutdown)', async () => {
  test.skip(names[0] !== 'teaching-os-pv', 'needs the teaching OS');
  await page.getByTestId('reboot-1').click();
  await expect(page.getByTestId('control-message')).toContainText('asked teaching-os-pv to reboot');
  // The guest reboots itself; the toolstack builds it again as domain 3, with the same console.
  await expect(page.getByTestId('row-3')).toHaveAttribute('data-name', 'teaching-os-pv');
  await expect(page.getByTestId('row-1')).toHaveCount(0);
  await page.evaluate(() => window.hyperlab!.waitForText(3, 'teaching-os-pv$ ', 20_000));
  await expect(await consoleScreen(page, 3)).toContainText('domain 1 rebooted as domain 3');
  await page.getByTestId('shutdown-3').click();
  await expect(page.getByTestId('row-3')).toHaveAttribute('data-state', 'shutdown');
  await expect(page.getByTestId('shutdown-3')).toHaveAttribute('aria-disabled', 'true');
});
