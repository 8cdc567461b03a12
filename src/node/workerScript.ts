/** The bundled vCPU worker script (bin/bundle.js builds it next to the CLI bundle). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './paths';

export async function ensureWorkerScript(): Promise<string> {
  // Running from the CLI bundle: the worker bundle sits beside this file.
  const here = join(dirname(fileURLToPath(import.meta.url)), 'vcpuWorker.mjs');
  if (existsSync(here)) return here;
  const cached = join(projectRoot(), 'node_modules', '.cache', 'hyperlab', 'vcpuWorker.mjs');
  if (existsSync(cached)) return cached;
  throw new Error('the vCPU worker bundle is missing: start hyperlab through bin/hyperlab.js');
}
