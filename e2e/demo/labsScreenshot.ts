/**
 * The README's screenshot (docs/screenshot.png): the Guided labs view at 1440×900 after a
 * lab has run, in the system Chromium.
 *
 *   npx tsx e2e/demo/labsScreenshot.ts [--lab ID] [--guess ANSWER] [--out FILE] [--no-build] [--result]
 *
 * Default: the live-migration lab is run (predicted right), then the list of labs is shot
 * into docs/screenshot.png; `--result` shoots the lab's observation instead. Not a test:
 * e2e/labs.spec.ts checks the labs.
 */
import { resolve } from 'node:path';
import { launchChromium, preparePage, serveLab } from '../../bench/browserHost';
import '../../src/web/protocol/automationTypes';

const VIEWPORT = { width: 1440, height: 900 };

function options(argv: readonly string[]): { lab: string; guess: string; out: string; build: boolean; view: 'list' | 'result' } {
  const o = { lab: 'migration', guess: 'gives-up', out: 'docs/screenshot.png', build: true, view: 'list' as 'list' | 'result' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--lab') o.lab = argv[++i] ?? o.lab;
    else if (a === '--guess') o.guess = argv[++i] ?? o.guess;
    else if (a === '--out') o.out = argv[++i] ?? o.out;
    else if (a === '--no-build') o.build = false;
    else if (a === '--result') o.view = 'result';
    else throw new Error(`unknown option ${a} (options: --lab ID, --guess ANSWER, --out FILE, --no-build, --result)`);
  }
  return { ...o, out: resolve(o.out) };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const site = await serveLab({ build: o.build, port: 4795 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await preparePage(page);
    await page.goto(`${site.url}?boot=&pcpus=2#lab/${o.lab}`);
    await page.waitForFunction(() => window.hyperlab !== undefined);
    await page.evaluate(() => window.hyperlab!.ready());
    if (/^-?\d+(\.\d+)?$/.test(o.guess)) await page.getByTestId('lab-guess-number').fill(o.guess);
    else await page.getByTestId(`lab-option-${o.guess}`).check();
    await page.getByTestId('lab-commit').click();
    await page.getByTestId('lab-run').click();
    await page.getByTestId('lab-page').and(page.locator('[data-status=done], [data-status=failed]')).waitFor({ timeout: 180_000 });
    if (o.view === 'list') {
      // The list of labs, this one marked done.
      await page.getByTestId('labs-back').click();
      await page.getByTestId(`lab-card-${o.lab}`).waitFor();
    } else {
      // The result: the observation table and the checks at the top of the screen.
      await page.getByTestId('lab-observations').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    }
    await page.screenshot({ path: o.out });
    console.log(`wrote ${o.out} (${o.lab}: ${await page.getByTestId('lab-page').getAttribute('data-status')})`);
  } finally {
    await browser.close();
    await site.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
