/**
 * `npm run demo`: a guided tour of the lab, driven by Playwright in the system Chromium,
 * for a class or a README. It builds the site, opens the default scenario, and goes
 * through the lab step by step (docs/demo.md): both guests' prompts, commands typed into
 * their consoles, `xl list` in Domain-0, creating and destroying a domain, and the
 * pv-vs-hvm comparison. Each step leaves a screenshot in the output folder (default
 * demo-output/), the whole tour a video (tour.mp4, when a system ffmpeg is present; the
 * frames otherwise), and summary.json has the times and the comparison's figures.
 *
 *   npm run demo [-- --out DIR] [-- --no-build] [-- --write BYTES]
 *
 * Not a test (nothing here is asserted beyond waiting for what each step shows); the
 * e2e suite is. It lives under e2e/ because it runs code in the page and so type-checks
 * with the DOM (tsconfig.e2e.json).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { launchChromium, preparePage, ScreenRecorder, serveLab } from '../../bench/browserHost';
import '../../src/web/protocol/automationTypes';

const VIEWPORT = { width: 1440, height: 900 };
const TYPE_DELAY_MS = 70;

function options(argv: readonly string[]): { out: string; build: boolean; writeBytes: number } {
  let out = 'demo-output';
  let build = true;
  let writeBytes = 64 << 10;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') out = argv[++i] ?? out;
    else if (a === '--no-build') build = false;
    else if (a === '--write') writeBytes = Number(argv[++i]);
    else throw new Error(`unknown option ${a} (options: --out DIR, --no-build, --write BYTES)`);
  }
  if (![16, 32, 64, 256, 1024].map((k) => k << 10).includes(writeBytes)) throw new Error('--write takes 16384, 32768, 65536, 262144 or 1048576');
  return { out: resolve(out), build, writeBytes };
}

/** A caption in the corner of the page, so that screenshots and the video say what happens. */
async function caption(page: Page, text: string): Promise<void> {
  await page.evaluate((text) => {
    let el = document.getElementById('demo-caption');
    if (!el) {
      el = document.createElement('div');
      el.id = 'demo-caption';
      el.setAttribute('aria-hidden', 'true');
      Object.assign(el.style, {
        position: 'fixed',
        right: '1rem',
        bottom: '1rem',
        zIndex: '1000',
        maxWidth: '34rem',
        padding: '0.6rem 0.9rem',
        borderRadius: '0.5rem',
        background: 'rgba(11, 92, 173, 0.94)',
        color: '#fff',
        font: '600 1rem/1.4 system-ui, sans-serif',
        boxShadow: '0 0.3rem 1rem rgba(0,0,0,0.3)',
        pointerEvents: 'none',
      });
      document.body.append(el);
    }
    el.textContent = text;
  }, text);
}

async function typeInto(page: Page, testId: string, line: string): Promise<void> {
  await page.getByTestId(testId).scrollIntoViewIfNeeded();
  await page.getByTestId(testId).click();
  await page.keyboard.type(line, { delay: TYPE_DELAY_MS });
  await page.keyboard.press('Enter');
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  rmSync(o.out, { recursive: true, force: true });
  mkdirSync(o.out, { recursive: true });
  const site = await serveLab({ build: o.build, port: 4793 });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: VIEWPORT });
  await preparePage(page);
  const recorder = new ScreenRecorder(page, o.out);
  const t0 = Date.now();
  const steps: { step: string; file: string; atMs: number }[] = [];
  let n = 0;
  const shot = async (name: string, fullPage = false): Promise<void> => {
    const file = `${String(++n).padStart(2, '0')}-${name}.png`;
    await page.screenshot({ path: join(o.out, file), fullPage });
    steps.push({ step: name, file, atMs: Date.now() - t0 });
    process.stdout.write(`${file}\n`);
  };
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  try {
    await recorder.start(VIEWPORT);
    await page.goto(site.url);
    await page.waitForFunction(() => window.hyperlab !== undefined);
    await caption(page, '1. The lab boots Domain-0 and the teaching OS twice: as a pv and as an hvm domain');
    await page.evaluate(() => window.hyperlab!.ready());
    const [pv, hvm] = await page.evaluate(() => window.hyperlab!.domains().map((d) => d.id));
    if (pv === undefined || hvm === undefined) throw new Error('the default scenario did not create two domains');
    await page.evaluate(([pv, hvm]) => Promise.all([window.hyperlab!.waitForText(pv, '$ ', 30_000), window.hyperlab!.waitForText(hvm, '$ ', 30_000)]), [
      pv,
      hvm,
    ] as const);
    const promptsMs = Date.now() - t0;
    await page.waitForTimeout(600);
    await shot('prompts');

    await caption(page, '2. Type into each guest: the pv console is a shared ring, the hvm console an emulated UART');
    await typeInto(page, `console-${pv}`, 'info');
    await page.evaluate((id) => window.hyperlab!.waitForText(id, 'type: pv'), pv);
    await typeInto(page, `console-${hvm}`, 'info');
    await page.evaluate((id) => window.hyperlab!.waitForText(id, 'type: hvm'), hvm);
    await typeInto(page, `console-${hvm}`, 'burn 2');
    await page.evaluate((id) => window.hyperlab!.waitForText(id, 'timing: burn 2', 30_000), hvm);
    await page.waitForTimeout(400);
    await shot('guest-commands');

    await caption(page, "3. Domain-0's console: the xl toolstack lists the domains");
    await page.getByTestId('console-0').scrollIntoViewIfNeeded();
    const before = (await page.evaluate(() => window.hyperlab!.consoleText(0))).split('Domain-0 ').length;
    await typeInto(page, 'console-0', 'xl list');
    await page.waitForFunction((before) => window.hyperlab!.consoleText(0).split('Domain-0 ').length > before, before);
    await page.waitForTimeout(400);
    await shot('xl-list');

    await caption(page, '4. Create a domain from a preset: hello prints a greeting and powers off');
    await page.getByTestId('preset-select').scrollIntoViewIfNeeded();
    await page.getByTestId('preset-select').selectOption('hello');
    await page.getByTestId('create-button').click();
    const row = page.locator('[data-testid^="row-"][data-name="hello"]');
    await row.waitFor();
    const helloId = Number(await row.getAttribute('data-domid'));
    await page.evaluate((id) => window.hyperlab!.waitForPowerOff(id, 30_000), helloId);
    await page.getByTestId(`console-panel-${helloId}`).scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    await shot('created');
    await page.getByTestId('domain-list').scrollIntoViewIfNeeded();
    await caption(page, `5. Destroy it: domain ${helloId} leaves the list, its memory goes back to the host`);
    await page.waitForTimeout(500);
    await page.getByTestId(`destroy-${helloId}`).click();
    await row.waitFor({ state: 'detached' });
    await page.waitForTimeout(400);
    await shot('destroyed');

    await caption(page, `6. pv vs hvm: write ${o.writeBytes / 1024} KiB to the console in both at once`);
    await page.getByTestId('view-compare').click();
    await page.getByTestId('compare-workload').selectOption('write');
    await page.getByTestId('compare-size').selectOption(String(o.writeBytes));
    await page.waitForTimeout(500);
    await page.getByTestId('compare-start').click();
    await page.locator('[data-testid="compare-side-pv"][data-phase="done"]').waitFor({ timeout: 120_000 });
    await page.waitForTimeout(700);
    await shot('compare-running');
    await page.locator('[data-testid="compare-page"][data-status="done"], [data-testid="compare-page"][data-status="failed"]').waitFor({ timeout: 600_000 });
    const status = await page.getByTestId('compare-page').getAttribute('data-status');
    const figures = await page.evaluate(() => {
      const value = (id: string): number => Number(document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-value'));
      const side = (s: string) => ({
        elapsedMs: value(`compare-${s}-elapsed`),
        bytes: value(`compare-${s}-bytes`),
        bytesPerSecond: value(`compare-${s}-throughput`),
        exits: value(`compare-${s}-exits`),
        exitsPerKiB: value(`compare-${s}-exits-per-kib`),
        hypercalls: value(`compare-${s}-hypercalls`),
        guestSeconds: value(`compare-${s}-guest-timing`),
      });
      return { pv: side('pv'), hvm: side('hvm') };
    });
    await caption(
      page,
      `7. Result: pv ${(figures.pv.bytesPerSecond / figures.hvm.bytesPerSecond).toFixed(1)}× the throughput, with ${(figures.hvm.exitsPerKiB / figures.pv.exitsPerKiB).toFixed(0)}× fewer exits per KiB`,
    );
    await page.waitForTimeout(1500);
    await shot('compare-result');
    await shot('compare-result-full', true);

    await caption(page, 'Back to the lab: the guests printed the same bytes in their own consoles');
    await page.getByTestId('view-lab').click();
    await page.getByTestId(`console-${hvm}`).scrollIntoViewIfNeeded();
    await page.waitForTimeout(1500);
    await shot('lab-after');

    const video = await recorder.finish('tour');
    const summary = {
      date: new Date().toISOString(),
      url: site.url,
      promptsMs,
      steps,
      compare: { status, writeBytes: o.writeBytes, ...figures },
      video: video.video ? 'tour.mp4' : null,
      frames: video.frames,
      note: video.why,
      pageErrors: errors,
    };
    writeFileSync(join(o.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    process.stdout.write(
      `${video.video ? `video: ${video.video}` : `no video: ${video.why}`} (${video.frames} frames)\nsummary: ${join(o.out, 'summary.json')}\n`,
    );
    if (errors.length > 0) process.stderr.write(`errors in the page: ${errors.join('; ')}\n`);
  } finally {
    await browser.close();
    await site.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
