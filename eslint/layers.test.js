// Tests of hyperlab's own lint rules (layers.js) on a small tree of files made for them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, describe, it } from 'vitest';
import hyperlab from './layers.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;
RuleTester.afterAll = afterAll;

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2024, sourceType: 'module' } });

/** A tree of files: path -> source. */
function tree(files) {
  const root = mkdtempSync(join(tmpdir(), 'hyperlab-lint-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const layersRoot = tree({
  'src/core/bus/bus.ts': '',
  'src/core/xen/public/xen.ts': 'export const X = 1;',
  'src/core/xen/vcpu/vcpuRunner.ts': 'export class VcpuRunner {}',
  'src/node/paths.ts': 'export const p = 1;',
  'src/ui/view.ts': '',
});
const core = {
  root: layersRoot,
  forbid: ['src/node', 'src/ui'],
  why: 'the core knows no host',
};
const page = {
  root: layersRoot,
  forbid: ['src/core', 'src/node'],
  allow: ['src/core/xen/public'],
  typeImports: 'allowed',
  why: 'the page loads no worker code',
};
const inCore = join(layersRoot, 'src/core/bus/bus.ts');
const inPage = join(layersRoot, 'src/ui/view.ts');

tester.run('hyperlab/layers', hyperlab.rules.layers, {
  valid: [
    { filename: inCore, options: [core], code: "import { X } from '../xen/public/xen';" },
    { filename: inCore, options: [core], code: "import { useState } from 'react';" },
    { filename: inCore, options: [core], code: "import { nothing } from '../../node/missing';" },
    { filename: inPage, options: [page], code: "import type { VcpuRunner } from '../core/xen/vcpu/vcpuRunner';" },
    { filename: inPage, options: [page], code: "export type { VcpuRunner } from '../core/xen/vcpu/vcpuRunner';" },
    { filename: inPage, options: [page], code: "import { X } from '../core/xen/public/xen';" },
  ],
  invalid: [
    { filename: inCore, options: [core], code: "import { p } from '../../node/paths';", errors: [{ messageId: 'forbidden' }] },
    { filename: inCore, options: [core], code: "import type { p } from '../../node/paths';", errors: [{ messageId: 'forbidden' }] },
    { filename: inCore, options: [core], code: "export * from '../../node/paths';", errors: [{ messageId: 'forbidden' }] },
    { filename: inCore, options: [core], code: "const m = import('../../node/paths.ts');", errors: [{ messageId: 'forbidden' }] },
    { filename: inPage, options: [page], code: "import { VcpuRunner } from '../core/xen/vcpu/vcpuRunner';", errors: [{ messageId: 'forbidden' }] },
    // verbatimModuleSyntax keeps `import { type X }` as an import of the module.
    { filename: inPage, options: [page], code: "import { type VcpuRunner } from '../core/xen/vcpu/vcpuRunner';", errors: [{ messageId: 'forbidden' }] },
  ],
});

// a -> b -> c -> a is a cycle; d -> a is not on it; a's test importing d does not count.
const cycleFiles = {
  'src/a/a.ts': "import { b } from '../b/b';\nexport const a = b;",
  'src/a/a.test.ts': "import { d } from '../d/d';",
  'src/b/b.ts': "import { c } from '../c/c';\nexport const b = c;",
  'src/c/c.ts': "import type { a } from '../a/a';\nexport const c = 1;",
  'src/d/d.ts': "import { a } from '../a/a';\nexport const d = a;",
};
const cycleRoot = tree(cycleFiles);
const cycles = { root: cycleRoot, sources: ['src'], units: ['src/*', '*'], ignoreFiles: '\\.test\\.ts$' };
const known = { ...cycles, knownCycles: [{ from: 'src/c', to: 'src/a', why: 'known debt' }] };
const at = (path) => ({ filename: join(cycleRoot, path), code: cycleFiles[path] });

tester.run('hyperlab/no-folder-cycles', hyperlab.rules['no-folder-cycles'], {
  valid: [
    { ...at('src/d/d.ts'), options: [cycles] },
    { ...at('src/a/a.ts'), options: [known] },
    { ...at('src/c/c.ts'), options: [known] },
  ],
  invalid: [
    {
      ...at('src/a/a.ts'),
      options: [cycles],
      errors: [{ message: 'This import from src/a into src/b closes a cycle between folders: src/a -> src/b -> src/c -> src/a' }],
    },
    { ...at('src/c/c.ts'), options: [cycles], errors: [{ messageId: 'cycle' }] },
    // Debts listed but paid: the import is gone, or no longer closes a cycle.
    {
      ...at('src/d/d.ts'),
      options: [{ ...cycles, knownCycles: [{ from: 'src/d', to: 'src/c', why: 'gone' }] }],
      errors: [{ message: 'knownCycles in eslint.config.js lists src/d -> src/c (no such import any more): remove it' }],
    },
    {
      ...at('src/d/d.ts'),
      options: [{ ...cycles, knownCycles: [{ from: 'src/d', to: 'src/a', why: 'no cycle' }] }],
      errors: [{ message: 'knownCycles in eslint.config.js lists src/d -> src/a (no longer on a cycle): remove it' }],
    },
  ],
});
