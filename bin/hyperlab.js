#!/usr/bin/env node
// hyperlab's command line. The CLI is TypeScript under src/node/; this launcher bundles
// it with esbuild into node_modules/.cache/hyperlab (rebuilt when a source file is newer)
// and runs it, so the same sources serve the browser, the tests and the command line.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'node_modules', '.cache', 'hyperlab');
const entries = { cli: join(root, 'src', 'node', 'cli.ts') };

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestSource(p) : st.mtimeMs);
  }
  return newest;
}

const out = join(outdir, 'cli.mjs');
const stale = !existsSync(out) || statSync(out).mtimeMs < Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'bench')));
if (stale) {
  const result = await build({
    entryPoints: entries,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'error',
    write: false,
  });
  // Write then rename, so a second CLI starting at the same moment never reads half a file.
  mkdirSync(outdir, { recursive: true });
  for (const f of result.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
}
const { main } = await import(pathToFileURL(out).href);
process.exitCode = await main(process.argv.slice(2));
