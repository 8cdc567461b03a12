import { expect } from '@playwright/test';
import { echoImage, spinImage, truncatedElf } from '../src/web/testing/testPrograms';
import { bootBytes, labTest as test } from './lab';

test('window.hyperlab boots by name, waits for text and reports stats', async ({ lab: page }) => {
  const images = await page.evaluate(() => window.hyperlab!.images());
  expect(images).toContain('hello');
  expect(await page.evaluate(() => window.hyperlab!.presets())).toContain('hello');
  const id = await page.evaluate(() => window.hyperlab!.boot('hello'));
  const text = await page.evaluate((id) => window.hyperlab!.waitForText(id, 'hello: PASS'), id);
  expect(text).toContain('Hello from hyperlab\n');
  expect(await page.evaluate((id) => window.hyperlab!.waitForPowerOff(id), id)).toEqual({ kind: 'pass', code: 0 });
  expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([
    { id, name: 'hello', type: 'hvm', origin: 'catalog', state: 'off', xlState: 'shutdown', poweroff: { kind: 'pass', code: 0 } },
  ]);
  const stats = await page.evaluate((id) => window.hyperlab!.stats(id), id);
  expect(stats).toMatchObject({ domid: id, name: 'hello', type: 'hvm', memKiB: 16 * 1024, vcpus: 1, sharedMemory: true });
  expect(stats.instret).toBeGreaterThan(1000);
  expect(stats.cpuNs).toBeGreaterThan(0);
  expect(stats.exits['mmio:uart0']).toBeGreaterThan(10);
  await page.evaluate((id) => window.hyperlab!.destroy(id), id);
  expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([]);
  await expect(page.evaluate((id) => window.hyperlab!.stats(id), id)).rejects.toThrow(`no domain with id ${id}`);
});

test('window.hyperlab rejects a malformed image, an unknown image and a bad config with their messages', async ({ lab: page }) => {
  await expect(page.evaluate((bytes) => window.hyperlab!.boot(bytes), Array.from(truncatedElf()))).rejects.toThrow(
    'program header table lies outside the file',
  );
  await expect(page.evaluate(() => window.hyperlab!.boot('no-such-guest'))).rejects.toThrow(/no-such-guest\.elf.*not found/);
  await expect(page.evaluate(() => window.hyperlab!.create('name = "x"\nmemory = lots\nkernel = "hello.elf"'))).rejects.toThrow(
    'line 2: cannot read the value "lots"',
  );
});

test('window.hyperlab sends input, pauses, unpauses, sets scheduler parameters and resets', async ({ lab: page }) => {
  const echo = await bootBytes(page, echoImage(), 'echo');
  await page.evaluate((id) => window.hyperlab!.sendInput(id, 'abc'), echo);
  expect(await page.evaluate((id) => window.hyperlab!.waitForText(id, 'abc'), echo)).toBe('abc');

  const spin = await bootBytes(page, spinImage(), 'spin');
  await expect.poll(() => page.evaluate((id) => window.hyperlab!.stats(id).instret, spin)).toBeGreaterThan(0);
  const paused = await page.evaluate((id) => window.hyperlab!.pause(id), spin);
  expect(paused.state).toBe('paused');
  await page.waitForTimeout(250);
  expect(await page.evaluate((id) => window.hyperlab!.stats(id).cpuNs, spin)).toBe(paused.cpuNs);
  expect((await page.evaluate((id) => window.hyperlab!.unpause(id), spin)).state).not.toBe('paused');

  const tuned = await page.evaluate((id) => window.hyperlab!.setSchedParams(id, { weight: 512, cap: 50 }), spin);
  expect([tuned.weight, tuned.cap]).toEqual([512, 50]);
  await expect(page.evaluate((id) => window.hyperlab!.setSchedParams(id, { weight: 0 }), spin)).rejects.toThrow('weight must be 1..65535');
  expect((await page.evaluate((id) => window.hyperlab!.pinVcpu(id, 0, '0'), spin)).domid).toBe(spin);
  expect(await page.evaluate(() => window.hyperlab!.xl('xl vcpu-list spin'))).toMatch(/spin\s+\d+\s+0\s+\S+\s+\w+\s+[\d.]+ 0 \/ all/);

  const reset = await page.evaluate((id) => window.hyperlab!.reset(id), echo);
  expect(reset.resets).toBe(1);
  expect(reset.domid).not.toBe(echo);
  expect(await page.evaluate((id) => window.hyperlab!.consoleText(id), reset.domid)).toBe('');
});

test('waitForText fails fast when the domain shuts down without the text', async ({ lab: page }) => {
  const id = await page.evaluate(() => window.hyperlab!.boot('hello'));
  const started = Date.now();
  await expect(page.evaluate((id) => window.hyperlab!.waitForText(id, 'never printed', 20_000), id)).rejects.toThrow('is shutdown and never printed');
  expect(Date.now() - started).toBeLessThan(10_000);
});

test('Domain-0 is id 0: its console takes input and answers', async ({ lab: page }) => {
  await page.evaluate(() => window.hyperlab!.sendInput(0, 'xl info\r'));
  expect(await page.evaluate(() => window.hyperlab!.waitForText(0, 'xen_scheduler'))).toMatch(/nr_cpus\s+: \d/);
});

test('window.hyperlab.create gives every option the checks of xl.cfg, each refusal in one line (issue 10 item 12)', async ({ lab: page }) => {
  const refusal = (spec: unknown): Promise<string> =>
    page.evaluate(async (spec) => {
      try {
        await window.hyperlab!.create(spec as never);
        return 'accepted';
      } catch (e) {
        return e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
      }
    }, spec);
  const cases: [unknown, RegExp][] = [
    [null, /^Error: create takes a preset name, xl\.cfg text or \{ config, preset, image, name, type, memory \}, not null$/],
    [42, /^Error: create takes .*, not number$/],
    [{ preset: 'hello', colour: 'blue' }, /^Error: create takes .*: there is no option "colour"$/],
    [{ preset: 'hello', name: 'x'.repeat(100_000) }, /^Error: name "x{40}\.\.\." is not allowed \(1 to 64 letters, digits, _ \. -\)$/],
    [{ preset: 'hello', name: 'a/b' }, /^Error: name "a\/b" is not allowed/],
    [{ preset: 'hello', memory: 12.5 }, /^Error: memory must be a whole number$/],
    [{ preset: 'hello', memory: 4096 }, /^Error: memory must be between 4 and 1024, not 4096$/],
    [{ image: [0x6f, 0, 0, 0], type: 'pvh' }, /^Error: type must be "pv" or "hvm", not "pvh"$/],
    [{ preset: 'hello', name: 7 }, /^Error: name must be a string$/],
    [`name = "${'y'.repeat(65)}"\nkernel = "guests/hello.elf"`, /^Error: line 1: name "y{40}\.\.\." is not allowed/],
  ];
  for (const [spec, message] of cases) expect(await refusal(spec)).toMatch(message);
  expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([]);
  await expect(page.getByTestId('domain-list').locator('tbody tr')).toHaveCount(1); // Domain-0 only
});

test('a domain name of 64 characters fits the domain list: cut with an ellipsis, whole in its title', async ({ lab: page }, testInfo) => {
  const name = `a-domain-with-the-longest-name-xl-allows-${'z'.repeat(23)}`;
  expect(name).toHaveLength(64);
  const id = await page.evaluate((name) => window.hyperlab!.create({ preset: 'hello', name }), name);
  expect((await page.evaluate(() => window.hyperlab!.domains()))[0]).toMatchObject({ id, name });
  const cell = page.getByTestId(`name-${id}`);
  await expect(cell).toHaveAttribute('title', name);
  await expect(cell).toHaveText(name);
  // The name is cut (its box narrower than its text), the table does not scroll sideways,
  // and the row is one line high like Domain-0's.
  const fit = await page.evaluate((id) => {
    const el = document.querySelector(`[data-testid="name-${id}"]`) as HTMLElement;
    const scroll = document.querySelector('.domain-list .table-scroll') as HTMLElement;
    const row = (n: number): number => (document.querySelector(`[data-testid="row-${n}"] th`) as HTMLElement).getBoundingClientRect().height;
    return {
      cut: el.scrollWidth > el.clientWidth,
      overflow: scroll.scrollWidth - scroll.clientWidth,
      height: row(id),
      dom0: row(0),
      ellipsis: getComputedStyle(el).textOverflow,
    };
  }, id);
  expect(fit).toMatchObject({ cut: true, overflow: 0, ellipsis: 'ellipsis' });
  expect(fit.height).toBeLessThanOrEqual(fit.dom0 + 1);
  // A narrow window too: the table shrinks the name further rather than scroll sideways.
  for (const width of [1024, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await expect
      .poll(
        () => page.evaluate(() => [document.querySelector('.domain-list .table-scroll'), document.documentElement].map((e) => e!.scrollWidth - e!.clientWidth)),
        { message: `at ${width}px` },
      )
      .toEqual([0, 0]);
    await page.locator('.domain-list').screenshot({ path: testInfo.outputPath(`domain-list-${width}.png`) });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
});

test('a hypervisor worker of another protocol version (a stale cached script) is refused with one line in the page', async ({ page }) => {
  // The worker script as an older build would have it: the same code reporting version 1.
  await page.route(/hypervisor\.worker-[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(/protocolVersion:\s*\d+/, 'protocolVersion:1');
    await route.fulfill({ response, body });
  });
  await page.goto('?boot=');
  const error = page.getByTestId('hypervisor-error').locator('p');
  await expect(error).toHaveText(/^the hypervisor worker speaks protocol version 1 but this page speaks version \d+: .*reload the page$/);
  expect(await page.evaluate(() => window.hyperlab!.domains())).toEqual([]);
});
