/** Where the project's files are, whether running from sources or from the CLI bundle. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The directory holding hyperlab's package.json, found by walking up from this module. */
export function projectRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hyperlab') {
      cached = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the hyperlab project directory');
    dir = up;
  }
}

/** A guest image shipped under public/guests/. */
export function guestImage(name: string): string {
  return join(projectRoot(), 'public', 'guests', `${name}.elf`);
}
