/** Where vitest's global setup (vitest.setup.ts) put the vCPU worker bundle. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths';

export function ensureBundleSync(): string {
  const p = join(projectRoot(), 'node_modules', '.cache', 'hyperlab', 'vcpuWorker.mjs');
  if (!existsSync(p)) throw new Error(`${p} is missing: run the tests through vitest (its global setup builds it)`);
  return p;
}
