/**
 * The live graphs and the scheduler view: they receive the hypervisor's statistics and
 * slice trace, and they show what the domains do (a CPU-burning command, a ping-pong
 * over an event channel, an hvm guest that has no hypercalls).
 */
import { expect } from '@playwright/test';
import { labTest as test, numberAttr, openInsights, stats, teachingOs, typeLine } from './lab';

// Guests booting and burning CPU beside another test's on two shared cores: give them time.
test.describe.configure({ timeout: 90_000 });

test('the graphs grow with every report and follow a CPU-burning command', async ({ lab }) => {
  const id = await teachingOs(lab, 'pv');
  await openInsights(lab, 'graphs');
  const line = `graph-cpu-dom-${id}`;
  const before = await numberAttr(lab, line, 'data-points');
  await expect.poll(() => numberAttr(lab, line, 'data-points')).toBeGreaterThan(before + 5);
  // An idle guest ticking at 100 Hz uses a few percent; burn keeps its vCPU busy.
  await typeLine(lab, id, 'burn 400');
  await expect.poll(() => numberAttr(lab, line, 'data-latest'), { timeout: 30_000 }).toBeGreaterThan(60);
  await expect.poll(() => numberAttr(lab, `graph-mips-dom-${id}`, 'data-latest')).toBeGreaterThan(1);
  // The host's line is the sum over domains: read both from the same render.
  const [host, dom] = await lab.evaluate(
    (id) => [`graph-cpu-host`, `graph-cpu-dom-${id}`].map((t) => Number(document.querySelector(`[data-testid="${t}"]`)!.getAttribute('data-latest'))),
    id,
  );
  expect(host).toBeGreaterThanOrEqual(dom! - 0.01);
  // Memory: the domain's 16 MiB, as the domain list says.
  expect(await numberAttr(lab, `graph-mem-dom-${id}`, 'data-latest')).toBe((await stats(lab, id)).memKiB / 1024); // drawn in MiB
});

test('hypercalls by type for a pv guest, none for an hvm guest; exits by reason', async ({ lab }) => {
  const pv = await teachingOs(lab, 'pv');
  const hvm = await teachingOs(lab, 'hvm');
  await openInsights(lab, 'graphs');
  const select = lab.getByTestId('breakdown-domain');
  await select.selectOption(String(pv));
  // The idle pv guest blocks in SCHEDOP_block between timer ticks.
  await expect.poll(() => numberAttr(lab, 'graph-hypercalls-by-sched_op', 'data-max')).toBeGreaterThan(10);
  await select.selectOption(String(hvm));
  await expect(lab.getByTestId('graph-hypercalls-by').locator('polyline')).toHaveCount(0);
  await typeLine(lab, hvm, 'write 300'); // every UART register access is an exit
  await expect.poll(async () => lab.getByTestId('graph-exits-by').locator('polyline[data-testid*="mmio:"]').count()).toBeGreaterThan(0);
  await expect.poll(() => numberAttr(lab, `graph-hypercalls-dom-${hvm}`, 'data-max')).toBe(0);
});

test('event channel sends per second rise during a ping-pong between two pv domains', async ({ lab }) => {
  const a = await teachingOs(lab, 'pv');
  const b = await teachingOs(lab, 'pv');
  await openInsights(lab, 'graphs');
  await typeLine(lab, b, 'pong');
  await lab.evaluate((b) => window.hyperlab!.waitForText(b, 'waiting for a ping'), b);
  await typeLine(lab, a, `evtping ${b}`);
  await lab.evaluate((a) => window.hyperlab!.waitForText(a, 'round trips with domain', 20_000), a);
  await expect.poll(() => numberAttr(lab, `graph-evtchn-dom-${a}`, 'data-max')).toBeGreaterThan(100);
  await expect.poll(() => numberAttr(lab, `graph-evtchn-dom-${b}`, 'data-max')).toBeGreaterThan(100);
  expect((await stats(lab, a)).evtchnSends).toBeGreaterThanOrEqual(1000);
});

test("the scheduler lanes show the running domains' slices; pinning moves a vCPU off a pCPU", async ({ lab }) => {
  const pv = await teachingOs(lab, 'pv');
  const hvm = await teachingOs(lab, 'hvm');
  await openInsights(lab, 'scheduler');
  const pcpus = await lab.evaluate(() => window.hyperlab!.host()!.pcpus);
  const domidsOnLanes = async (): Promise<number[]> => {
    const all = new Set<number>();
    for (let p = 0; p < pcpus; p++) {
      for (const d of ((await lab.getByTestId(`lane-${p}`).getAttribute('data-domids')) ?? '').split(',').filter(Boolean)) all.add(Number(d));
    }
    return [...all].sort((x, y) => x - y);
  };
  await expect.poll(domidsOnLanes).toEqual(expect.arrayContaining([pv, hvm]));
  await typeLine(lab, pv, 'burn 1000');
  let busy = 0;
  await expect
    .poll(
      async () => {
        busy = 0;
        for (let p = 0; p < pcpus; p++) busy += await numberAttr(lab, `lane-${p}`, 'data-busy');
        return busy;
      },
      { timeout: 30_000 },
    )
    .toBeGreaterThan(60);
  test.skip(pcpus < 2, 'pinning needs two pCPUs');
  // Pin the burning vCPU to pCPU 0 alone: after a window, pCPU 1's lane has none of its slices.
  await lab.getByTestId('sched-window').selectOption('2000');
  await lab.getByTestId(`pin-${pv}-0-1`).click(); // checked again until the hypervisor's row says otherwise
  await expect(lab.getByTestId(`pin-${pv}-0-1`)).not.toBeChecked();
  await expect(lab.getByTestId(`pin-${pv}-0-0`)).toBeChecked();
  await expect
    .poll(async () => (await lab.getByTestId('lane-1').getAttribute('data-domids'))?.split(',').includes(String(pv)), { timeout: 30_000 })
    .toBe(false);
  expect((await lab.getByTestId('lane-0').getAttribute('data-domids'))?.split(',')).toContain(String(pv));
});

test('weight and cap are set from the scheduler view; a bad value is refused in words', async ({ lab }) => {
  const pv = await teachingOs(lab, 'pv');
  await openInsights(lab, 'scheduler');
  await expect(lab.getByTestId(`sched-apply-${pv}`)).toHaveAttribute('aria-disabled', 'true');
  await lab.getByTestId(`weight-${pv}`).fill('512');
  await lab.getByTestId(`cap-${pv}`).fill('30');
  await lab.getByTestId(`sched-apply-${pv}`).click();
  await expect.poll(async () => [(await stats(lab, pv)).weight, (await stats(lab, pv)).cap]).toEqual([512, 30]);
  await expect(lab.getByTestId(`sched-apply-${pv}`)).toHaveAttribute('aria-disabled', 'true');
  await lab.getByTestId(`weight-${pv}`).fill('0');
  await lab.getByTestId(`weight-${pv}`).press('Enter');
  await expect(lab.getByTestId('sched-message')).toContainText('weight must be 1..65535');
  expect((await stats(lab, pv)).weight).toBe(512);
});
