// ESLint for the whole tree: JavaScript's and typescript-eslint's recommended rules (with
// type information, read from the project's tsconfigs), React's hook rules for the page,
// and hyperlab's own rules for the layers (eslint/layers.js). `npm run lint` runs it;
// `npm test` runs it after the typecheck.
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { defineConfig } from 'eslint/config';
import hyperlab from './eslint/layers.js';

const root = fileURLToPath(new URL('.', import.meta.url));

// Test files and test-only support: a test may reach across layers to drive what it tests.
const TESTS = ['**/*.test.ts', '**/*.test.tsx', 'e2e/**', 'src/core/cpu/testing.ts', 'src/web/testing/**'];

// What runs only in a worker or in Node: the machine (hart, bus, devices, hypervisor,
// toolstack), the Node host, the worker side of src/web and the worker entry points. The
// page talks to it through src/web/protocol and may import its types, never its code.
const WORKER_ONLY = ['src/core', 'src/node', 'src/web/worker', 'workers', 'bench', 'guests'];
// Pure modules the page may load too: the ABI's numbers and layouts. A pure helper of the
// core that the page needs (no worker API, no shared state) goes on this list.
const ANYWHERE = ['src/core/xen/public'];

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', 'guests/build/', 'bench/results/', 'test-results/', 'playwright-report/', 'demo-output/', 'public/guests/', '.cache/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { ...globals.es2024 },
      parserOptions: {
        // The project's tsconfigs, each for its part of the tree (tsconfig.json: core, node,
        // bench, guests; .web: the page; .worker: the worker entry points; .e2e: Playwright,
        // the Vite config and src/web's tests).
        project: ['./tsconfig.json', './tsconfig.web.json', './tsconfig.worker.json', './tsconfig.e2e.json'],
        tsconfigRootDir: root,
      },
    },
    rules: {
      // `_name` marks an argument or binding kept on purpose (an interface's shape, a skipped tuple slot).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Async methods that implement a Promise-returning interface (the comlink API, the
      // xenstore handle) often have nothing to await.
      '@typescript-eslint/require-await': 'off',
      // Enum values come back as plain numbers from shared memory (control blocks, rings), and
      // are compared as such by design.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // Consoles and terminals: matching ESC and other control bytes is the point.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests: Vitest's asymmetric matchers (expect.any, expect.stringMatching) and JSON round
    // trips of saved state are typed `any`.
    files: ['**/*.test.ts', '**/*.test.tsx', 'e2e/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript (bin/, this config, the plugin): no tsconfig covers it, so no type-aware rules.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src/node/**', 'bench/**', 'bin/**', 'guests/**', 'e2e/**', '*.config.ts', 'vitest.setup.ts'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src/ui/**', 'src/web/page/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The classic hook rules. The React Compiler's rules (in the plugin's recommended set) are
    // left out: the page is not built with the compiler.
    files: ['src/ui/**/*.tsx', 'src/ui/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['workers/**', 'src/web/worker/**'],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    files: ['public/coi-serviceworker.js'],
    languageOptions: { globals: { ...globals.serviceworker, ...globals.browser } },
  },

  // ---- Layers -------------------------------------------------------------------------
  { plugins: { hyperlab } },
  {
    // The core runs under Web Workers and under node:worker_threads alike: it knows no host.
    files: ['src/core/**'],
    ignores: TESTS,
    rules: {
      'hyperlab/layers': [
        'error',
        {
          root,
          forbid: ['src/node', 'src/web', 'src/ui', 'workers', 'bench', 'e2e', 'guests', 'bin'],
          why: 'src/core is host-free; the Node host (src/node) and the browser (src/web, src/ui, workers) depend on it, never the other way',
        },
      ],
    },
  },
  {
    // The page: React and the page side of src/web.
    files: ['src/ui/**', 'src/web/page/**'],
    ignores: TESTS,
    rules: {
      'hyperlab/layers': [
        'error',
        {
          root,
          forbid: [...WORKER_ONLY],
          allow: ANYWHERE,
          typeImports: 'allowed',
          why: 'the page loads no worker-only code; reach it through src/web/protocol, or import its types with `import type`',
        },
      ],
    },
  },
  {
    // The protocol is shared by both ends, so it loads code of neither.
    files: ['src/web/protocol/**'],
    ignores: TESTS,
    rules: {
      'hyperlab/layers': [
        'error',
        {
          root,
          forbid: [...WORKER_ONLY, 'src/web/page', 'src/ui'],
          allow: ANYWHERE,
          typeImports: 'allowed',
          why: 'src/web/protocol is shared by the page and the workers and loads the code of neither (`import type` is fine)',
        },
      ],
    },
  },
  {
    // The worker side has no DOM: it loads nothing of the page.
    files: ['src/web/worker/**', 'workers/**'],
    ignores: TESTS,
    rules: {
      'hyperlab/layers': [
        'error',
        {
          root,
          forbid: ['src/ui', 'src/web/page'],
          typeImports: 'allowed',
          why: 'the worker side has no DOM and loads nothing of the page',
        },
      ],
    },
  },
  {
    files: ['src/**', 'bench/**', 'e2e/**', 'guests/**', 'workers/**', 'bin/**'],
    ignores: TESTS,
    rules: {
      'hyperlab/no-folder-cycles': [
        'error',
        {
          root,
          sources: ['src', 'bench', 'e2e', 'guests', 'workers', 'bin'],
          // The folders whose imports must form no cycle: the first pattern that matches the
          // start of a file's folder names its unit (so src/core/xen/common/sched counts as
          // src/core/xen/common, and src/ui/components as src/ui).
          units: ['src/core/xen/*', 'src/core/*', 'src/web/*', 'src/*', 'guests/*', '*'],
          ignoreFiles: '\\.(test|spec)\\.tsx?$',
          // Known debt: each edge is left out of the graph, so the rest of the cycle still counts.
          knownCycles: [
            {
              from: 'src/core/xen/common',
              to: 'src/core/tools',
              why: "known debt: the hypervisor takes the toolstack's DomainConfig (tools/xlConfig) and xenstore types; the config a domain is built from belongs in xen/public or common",
            },
            {
              from: 'src/core/xen/pv',
              to: 'src/core/tools',
              why: "known debt: the pv builder and backends take tools/xlConfig's DomainConfig (same debt as above)",
            },
            { from: 'src/core/xen/hvm', to: 'src/core/tools', why: "known debt: the hvm builder takes tools/xlConfig's DomainConfig (same debt as above)" },
            {
              from: 'src/core/xen/common',
              to: 'src/core/xen/pv',
              why: 'known debt: common/hypervisor.ts builds domains with the pv builder and starts the pv backends (in Xen the toolstack does, through libxenguest)',
            },
            { from: 'src/core/xen/common', to: 'src/core/xen/hvm', why: 'known debt: common/hypervisor.ts builds domains with the hvm builder (as above)' },
            {
              from: 'src/core/xen/common',
              to: 'src/core/xen/vcpu',
              why: 'known debt: the vCPU control block (vcpu/vcpuControl.ts) is shared by both threads but lives in vcpu/, and sched/ reads the host clock from vcpu/vcpuRunner.ts',
            },
            {
              from: 'src/core/devices',
              to: 'src/core/board',
              why: "known debt: device models take their parameters (region sizes, the timebase, the PLIC's source and priority counts) from board/memoryMap.ts rather than from the board that places them",
            },
            {
              from: 'src/node',
              to: 'bench',
              why: 'known debt: the CLI (src/node/cli.ts) runs bench/main.ts for `hyperlab bench`, and the benchmarks use the Node host',
            },
          ],
        },
      ],
    },
  },
);
