/**
 * Vite config for the browser lab (docs/browser.md).
 *
 * Guest RAM lives in a SharedArrayBuffer, which browsers only hand to cross-origin
 * isolated pages: the dev server and `vite preview` both send COOP/COEP. Static hosts
 * that cannot set headers get the same isolation from public/coi-serviceworker.js.
 * HYPERLAB_COI_HEADERS=off turns the headers off, to try that fallback by hand.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const CROSS_ORIGIN_ISOLATION: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const headers = process.env['HYPERLAB_COI_HEADERS'] === 'off' ? {} : CROSS_ORIGIN_ISOLATION;

const GUEST_DIR = 'public/guests';
const MANIFEST = 'guests/index.json';

/** The guest images in public/guests, as the page's image selector lists them. */
function guestManifest(): string {
  const guests = readdirSync(GUEST_DIR)
    .filter((f) => f.endsWith('.elf'))
    .sort()
    .map((file) => ({ name: file.slice(0, -'.elf'.length), file, size: statSync(join(GUEST_DIR, file)).size }));
  return `${JSON.stringify({ guests }, null, 2)}\n`;
}

/** Serves guests/index.json in dev and writes it into dist/ at build time. */
function guestCatalogPlugin(): Plugin {
  return {
    name: 'hyperlab-guest-catalog',
    configureServer(server) {
      server.middlewares.use(`/${MANIFEST}`, (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Cache-Control', 'no-cache');
        res.end(guestManifest());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: MANIFEST, source: guestManifest() });
    },
  };
}

export default defineConfig({
  // Relative asset URLs: the build runs from any directory of any static host.
  base: './',
  plugins: [react(), guestCatalogPlugin()],
  server: { headers },
  preview: { headers },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    sourcemap: true,
    // Libraries change less often than the lab: their own chunks stay cached across releases.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'xterm', test: /node_modules[\\/]@xterm/ },
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
          ],
        },
      },
    },
  },
});
