/** Builds the Node bundles (CLI, vCPU worker) once before the tests that start workers. */
import { ensureBundle } from './bin/bundle.js';

export async function setup(): Promise<void> {
  await ensureBundle();
}
