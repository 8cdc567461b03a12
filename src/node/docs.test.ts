/**
 * The repository's Markdown: every relative link names a file that exists, and every doc
 * (docs/*.md and the folders' READMEs) can be reached from README.md by following links.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './paths';

const root = projectRoot();

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) markdownFiles(p, out);
    else if (e.name.endsWith('.md')) out.push(relative(root, p));
  }
  return out;
}

/** The relative link targets of a Markdown file, as repository paths (a folder link means its README). */
function links(file: string): { target: string; text: string }[] {
  const body = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  const out: { target: string; text: string }[] = [];
  for (const m of body.matchAll(/\]\(([^)\s]+)\)/g)) {
    const text = m[1]!;
    if (/^[a-z]+:/i.test(text) || text.startsWith('#')) continue;
    let target = normalize(join(dirname(file), text.split('#')[0]!)).replace(/\/$/, '');
    if (existsSync(join(root, target)) && statSync(join(root, target)).isDirectory()) target = join(target, 'README.md');
    out.push({ target, text });
  }
  return out;
}

const docs = markdownFiles(root);

describe('docs', () => {
  it('every relative link resolves', () => {
    const broken = docs.flatMap((f) =>
      links(f)
        .filter((l) => !existsSync(join(root, l.target)))
        .map((l) => `${f}: ${l.text}`),
    );
    expect(broken).toEqual([]);
  });

  it('every doc is reachable from README.md', () => {
    const seen = new Set(['README.md']);
    const queue = ['README.md'];
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      for (const { target } of links(f)) {
        if (target.endsWith('.md') && !seen.has(target) && existsSync(join(root, target))) {
          seen.add(target);
          queue.push(target);
        }
      }
    }
    expect(docs.filter((f) => !seen.has(f))).toEqual([]);
  });
});
