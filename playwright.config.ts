/**
 * Browser tests of the lab page (e2e/). They run the production build under
 * `vite preview` on a fixed port, in the system's Chromium: HYPERLAB_CHROMIUM names the
 * executable (default /usr/bin/chromium). No browser is ever downloaded; set
 * PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 when installing.
 */
import { defineConfig } from '@playwright/test';

const E2E_PORT = 4791;
const CI = Boolean(process.env['CI']);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  // Two cores: every page runs two machine workers of its own.
  workers: 2,
  retries: CI ? 1 : 0,
  forbidOnly: CI,
  reporter: CI ? [['line']] : [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://localhost:${E2E_PORT}/`,
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env['HYPERLAB_CHROMIUM'] ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `npx vite build --logLevel warn && npx vite preview --port ${E2E_PORT} --strictPort`,
    url: `http://localhost:${E2E_PORT}/`,
    reuseExistingServer: !CI,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
