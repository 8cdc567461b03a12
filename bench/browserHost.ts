/**
 * What the Playwright-driven scripts (the browser benchmark, bench/browser.ts, and the
 * guided tour, e2e/demo/tour.ts) share: a production build of the lab served by
 * `vite preview` (which sends the COOP/COEP headers the page needs), the system's
 * Chromium with the launch arguments of playwright.config.ts, and a recorder of the
 * page's frames through the DevTools protocol (Page.startScreencast), because
 * Playwright's own video recording needs an ffmpeg build that is downloaded, never
 * installed here.
 *
 * No DOM types here: this file type-checks with the Node project (tsconfig.json).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type CDPSession, type Page } from '@playwright/test';
import { preview, type PreviewServer } from 'vite';

export const CHROMIUM = process.env['HYPERLAB_CHROMIUM'] ?? '/usr/bin/chromium';

/** The same flags as playwright.config.ts. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Site {
  readonly url: string;
  close(): Promise<void>;
}

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with status ${code}`))));
  });
}

/**
 * A build of its own, not dist/: the e2e suite's web server rebuilds dist/ whenever it
 * starts, and a page loading from a folder that is being rewritten fails.
 */
export const SITE_DIR = 'node_modules/.cache/hyperlab-site';

/** Build the site into SITE_DIR (unless `build` is false) and serve it on `port` or the next free one. */
export async function serveLab(o: { build: boolean; port: number }): Promise<Site> {
  if (o.build || !existsSync(join(SITE_DIR, 'index.html'))) await run('npx', ['vite', 'build', '--logLevel', 'warn', '--outDir', SITE_DIR, '--emptyOutDir']);
  const server: PreviewServer = await preview({ logLevel: 'warn', build: { outDir: SITE_DIR }, preview: { port: o.port, strictPort: false, open: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview gave no local address');
  return { url, close: () => server.close() };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * tsx compiles this project's scripts with esbuild's keepNames, which wraps named
 * functions in a `__name(...)` call; a function passed to page.evaluate keeps that call,
 * so the page gets a harmless one.
 */
export async function preparePage(page: Page): Promise<void> {
  await page.addInitScript('globalThis.__name = (f) => f;');
}

interface Frame {
  readonly file: string;
  /** Seconds, from the screencast's metadata. */
  readonly t: number;
}

/**
 * Records what the page paints: Chromium sends a JPEG whenever the picture changes.
 * `finish` writes the frames into `dir/frames/` and, with a system ffmpeg, encodes them
 * with their real timing into `dir/NAME.mp4`.
 */
export class ScreenRecorder {
  private readonly frames: Frame[] = [];
  private cdp: CDPSession | null = null;
  private readonly frameDir: string;

  constructor(
    private readonly page: Page,
    private readonly dir: string,
  ) {
    this.frameDir = join(dir, 'frames');
  }

  async start(size: { width: number; height: number }): Promise<void> {
    mkdirSync(this.frameDir, { recursive: true });
    const cdp = await this.page.context().newCDPSession(this.page);
    this.cdp = cdp;
    cdp.on('Page.screencastFrame', (f) => {
      const file = join(this.frameDir, `${String(this.frames.length).padStart(5, '0')}.jpg`);
      writeFileSync(file, Buffer.from(f.data, 'base64'));
      this.frames.push({ file, t: f.metadata.timestamp ?? Date.now() / 1000 });
      cdp.send('Page.screencastFrameAck', { sessionId: f.sessionId }).catch(() => {});
    });
    await cdp.send('Page.startScreencast', { format: 'jpeg', quality: 80, maxWidth: size.width, maxHeight: size.height, everyNthFrame: 1 });
  }

  get frameCount(): number {
    return this.frames.length;
  }

  /** Stop; returns the video's path, or null when there is no ffmpeg (the frames stay). */
  async finish(name: string): Promise<{ video: string | null; frames: number; why: string | null }> {
    if (this.cdp) await this.cdp.send('Page.stopScreencast').catch(() => {});
    if (this.frames.length === 0) return { video: null, frames: 0, why: 'no frames were recorded' };
    if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) {
      return { video: null, frames: this.frames.length, why: `no ffmpeg on the PATH: the frames are in ${this.frameDir}` };
    }
    // ffmpeg's concat list: each frame lasts until the next one came (the last one 2 s).
    const lines: string[] = [];
    this.frames.forEach((f, i) => {
      const next = this.frames[i + 1];
      lines.push(`file '${f.file}'`, `duration ${next ? Math.max(0.001, next.t - f.t).toFixed(3) : '2'}`);
    });
    lines.push(`file '${this.frames[this.frames.length - 1]!.file}'`);
    const list = join(this.dir, 'frames.txt');
    writeFileSync(list, `${lines.join('\n')}\n`);
    const video = join(this.dir, `${name}.mp4`);
    const r = spawnSync(
      'ffmpeg',
      [
        '-y',
        '-loglevel',
        'error',
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        list,
        '-vf',
        'scale=trunc(iw/2)*2:trunc(ih/2)*2,fps=25',
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        '-movflags',
        '+faststart',
        video,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) return { video: null, frames: this.frames.length, why: `ffmpeg failed (${r.stderr.trim()}): the frames are in ${this.frameDir}` };
    return { video, frames: this.frames.length, why: null };
  }
}
