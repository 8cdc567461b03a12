// Bundles the Node entry points (the CLI and the vCPU worker) with esbuild into
// node_modules/.cache/hyperlab, rebuilding when a source file is newer than the bundle.
// Bundling inlines TypeScript enums and gives worker_threads a plain JS file to start.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = dirname(dirname(fileURLToPath(import.meta.url)));
export const outdir = join(root, 'node_modules', '.cache', 'hyperlab');
const entries = {
  cli: join(root, 'src', 'node', 'cli.ts'),
  vcpuWorker: join(root, 'src', 'node', 'vcpuWorker.ts'),
};

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestSource(p) : st.mtimeMs);
  }
  return newest;
}

/** Paths of the bundled entry points, built first if missing or stale. */
export async function ensureBundle() {
  const out = Object.fromEntries(Object.keys(entries).map((k) => [k, join(outdir, `${k}.mjs`)]));
  const newest = Math.max(newestSource(join(root, 'src')), newestSource(join(root, 'bench')));
  const stale = Object.values(out).some((p) => !existsSync(p) || statSync(p).mtimeMs < newest);
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
    // Write then rename, so a second process starting at the same moment never reads half a file.
    mkdirSync(outdir, { recursive: true });
    for (const f of result.outputFiles) {
      const tmp = `${f.path}.${process.pid}.tmp`;
      writeFileSync(tmp, f.contents);
      renameSync(tmp, f.path);
    }
  }
  return out;
}
