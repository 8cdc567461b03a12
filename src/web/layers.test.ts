/**
 * The layers of src/web (README.md): the page and the hypervisor worker share only
 * protocol/. Reads every import of the three folders and checks where it points.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const web = dirname(fileURLToPath(import.meta.url));
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Each module under a folder of src/web (tests included) with the src/web folders its imports reach. */
function importsOf(folder: string): { file: string; reaches: string }[] {
  const out: { file: string; reaches: string }[] = [];
  for (const name of readdirSync(join(web, folder), { recursive: true }) as string[]) {
    if (!/\.tsx?$/.test(name)) continue;
    const file = join(web, folder, name);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = relative(web, resolve(dirname(file), m[1]!));
      const top = target.startsWith('..') ? 'outside' : target.split('/')[0]!;
      out.push({ file: `${folder}/${name}`, reaches: top });
    }
  }
  return out;
}

const bad = (folder: string, forbidden: readonly string[]): string[] =>
  importsOf(folder)
    .filter((i) => forbidden.includes(i.reaches))
    .map((i) => `${i.file} imports from ${i.reaches}/`);

describe('src/web layers', () => {
  it('the page never imports the worker side', () => {
    expect(bad('page', ['worker'])).toEqual([]);
  });
  it('the React views (src/ui) never import the worker side', () => {
    expect(bad('../ui', ['worker'])).toEqual([]);
    expect(importsOf('../ui').some((i) => i.reaches === 'page')).toBe(true);
  });
  it('the worker side never imports the page', () => {
    expect(bad('worker', ['page'])).toEqual([]);
  });
  it('the protocol imports neither side', () => {
    expect(bad('protocol', ['page', 'worker']).filter((s) => !s.includes('.test.ts'))).toEqual([]);
  });
  it('finds the imports it checks', () => {
    expect(importsOf('page').some((i) => i.reaches === 'protocol')).toBe(true);
  });
});
