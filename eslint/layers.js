// hyperlab's own ESLint rules: the layers of the tree and the cycles between its folders.
//
// Two rules, both about imports resolved to files of this repository (relative specifiers
// only; packages are left to the compiler's tsconfigs):
//
// - `hyperlab/layers`: a file may not import from the folders its block of eslint.config.js
//   forbids (src/core imports nothing from the hosts; the page loads nothing that runs only in
//   a worker). With `typeImports: 'allowed'`, an `import type` (erased at compile time, so it
//   loads nothing) passes; `import { type X }` does not, since verbatimModuleSyntax keeps it as
//   an import of the module.
//
// - `hyperlab/no-folder-cycles`: the tree's folders (the units below) form no cycle. The graph
//   is built once per ESLint process from every source file (tests left out: nothing imports
//   a test, but a test may import across layers to drive them) with TypeScript's import
//   scanner, so it is cheap and needs no type information. An import is reported when its
//   edge between two units lies on a cycle; known debts are listed with their reason in
//   eslint.config.js and left out of the graph.
//
// Neither dependency-cruiser (whose releases for Node 20 do not read TypeScript 6) nor
// eslint-plugin-import's no-cycle (cycles of files, not of folders) fits, hence these ~200 lines.

import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;
const CANDIDATES = ['', '.ts', '.tsx', '.mts', '.js', '.mjs', '/index.ts', '/index.tsx', '/index.js'];

/** Repository-relative POSIX path of an absolute path. */
function rel(root, abs) {
  return path.relative(root, abs).split(path.sep).join('/');
}

/** The file a relative specifier names, or null (a package, or a file that does not exist). */
function resolveSpecifier(fromFile, spec) {
  if (!spec.startsWith('./') && !spec.startsWith('../')) return null;
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const ext of CANDIDATES) {
    const c = base + ext;
    try {
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // not this candidate
    }
  }
  return null;
}

/** Whether `p` is the folder `prefix` or lies under it (both repository-relative). */
function under(p, prefix) {
  return prefix.endsWith('/') ? p.startsWith(prefix) : p === prefix || p.startsWith(prefix + '/');
}

/** The import-like nodes of a file, each with its specifier and whether it is type-only. */
function importVisitors(check) {
  const literal = (node) => (node && node.type === 'Literal' && typeof node.value === 'string' ? node.value : null);
  return {
    ImportDeclaration(node) {
      check(node, node.source.value, node.importKind === 'type');
    },
    ExportNamedDeclaration(node) {
      if (node.source) check(node, node.source.value, node.exportKind === 'type');
    },
    ExportAllDeclaration(node) {
      check(node, node.source.value, node.exportKind === 'type');
    },
    ImportExpression(node) {
      const spec = literal(node.source);
      if (spec !== null) check(node, spec, false);
    },
  };
}

const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid imports across the layers of the tree' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          forbid: { type: 'array', items: { type: 'string' } },
          allow: { type: 'array', items: { type: 'string' } },
          typeImports: { enum: ['allowed', 'forbidden'] },
          why: { type: 'string' },
        },
        required: ['root', 'forbid', 'why'],
        additionalProperties: false,
      },
    ],
    messages: {
      forbidden: "'{{target}}' is out of bounds here: {{why}}",
    },
  },
  create(context) {
    const { root, forbid, allow = [], typeImports = 'forbidden', why } = context.options[0];
    const file = context.filename;
    return importVisitors((node, spec, typeOnly) => {
      if (typeOnly && typeImports === 'allowed') return;
      const target = resolveSpecifier(file, spec);
      if (target === null) return;
      const t = rel(root, target);
      if (!forbid.some((f) => under(t, f)) || allow.some((a) => under(t, a))) return;
      context.report({ node, messageId: 'forbidden', data: { target: t, why } });
    });
  },
};

/** The unit (folder) of a repository-relative file: the first pattern that matches a prefix of its folder. */
function unitOf(units, relFile) {
  const dir = relFile.split('/').slice(0, -1);
  for (const pattern of units) {
    const p = pattern.split('/');
    if (p.length > dir.length) continue;
    if (p.every((seg, i) => seg === '*' || seg === dir[i])) return dir.slice(0, p.length).join('/');
  }
  return '.';
}

function walk(dir, out, ignore) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out, ignore);
    else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts') && !ignore.test(e.name)) out.push(p);
  }
}

/** Tarjan's strongly connected components; returns unit -> component id (only for components of 2+ units). */
function cyclicComponents(adj) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const comp = new Map();
  let compId = 0;
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const members = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1) {
        for (const m of members) comp.set(m, compId);
        compId++;
      }
    }
  };
  for (const v of adj.keys()) if (!idx.has(v)) strong(v);
  return comp;
}

/** Shortest path of units from `a` to `b` in `adj`, as a list (a ... b); empty when there is none. */
function shortestPath(adj, a, b) {
  const prev = new Map([[a, null]]);
  const queue = [a];
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === b) break;
    for (const w of adj.get(v) ?? []) {
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  if (!prev.has(b)) return [];
  const out = [];
  for (let v = b; v !== null; v = prev.get(v)) out.unshift(v);
  return out;
}

const graphs = new Map();

function folderGraph(options) {
  const key = JSON.stringify(options);
  const cached = graphs.get(key);
  if (cached) return cached;
  const { root, sources, units, ignoreFiles, knownCycles = [] } = options;
  const ignore = new RegExp(ignoreFiles);
  const files = [];
  for (const s of sources) walk(path.join(root, s), files, ignore);
  const known = new Set(knownCycles.map((k) => `${k.from} -> ${k.to}`));
  const adj = new Map();
  const all = new Map(); // with the known edges
  const add = (g, from, to) => {
    if (!g.has(from)) g.set(from, new Set());
    g.get(from).add(to);
  };
  for (const f of files) {
    const from = unitOf(units, rel(root, f));
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(f, 'utf8'), true, true);
    for (const imp of importedFiles) {
      const target = resolveSpecifier(f, imp.fileName);
      if (target === null) continue;
      const to = unitOf(units, rel(root, target));
      if (to === from) continue;
      add(all, from, to);
      if (!known.has(`${from} -> ${to}`)) add(adj, from, to);
    }
  }
  // A known edge that is gone, or that no longer closes a cycle, is debt paid: say so, so
  // that the list is shortened.
  const paid = new Map();
  for (const k of knownCycles) {
    let why = null;
    if (!all.get(k.from)?.has(k.to)) why = 'no such import any more';
    else if (shortestPath(all, k.to, k.from).length === 0) why = 'no longer on a cycle';
    if (why !== null) paid.set(k.from, [...(paid.get(k.from) ?? []), `${k.from} -> ${k.to} (${why})`]);
  }
  const graph = { adj, comp: cyclicComponents(adj), known, paid };
  graphs.set(key, graph);
  return graph;
}

const noFolderCycles = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles between the folders of the tree' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          sources: { type: 'array', items: { type: 'string' } },
          units: { type: 'array', items: { type: 'string' } },
          ignoreFiles: { type: 'string' },
          knownCycles: {
            type: 'array',
            items: {
              type: 'object',
              properties: { from: { type: 'string' }, to: { type: 'string' }, why: { type: 'string' } },
              required: ['from', 'to', 'why'],
              additionalProperties: false,
            },
          },
        },
        required: ['root', 'sources', 'units', 'ignoreFiles'],
        additionalProperties: false,
      },
    ],
    messages: {
      cycle: 'This import from {{from}} into {{to}} closes a cycle between folders: {{path}}',
      paid: 'knownCycles in eslint.config.js lists {{edge}}: remove it',
    },
  },
  create(context) {
    const options = context.options[0];
    const { adj, comp, known, paid } = folderGraph(options);
    const file = context.filename;
    const from = unitOf(options.units, rel(options.root, file));
    const visitors = importVisitors((node, spec) => {
      if (!comp.has(from)) return;
      const target = resolveSpecifier(file, spec);
      if (target === null) return;
      const to = unitOf(options.units, rel(options.root, target));
      if (to === from || known.has(`${from} -> ${to}`) || comp.get(to) !== comp.get(from)) return;
      const back = shortestPath(adj, to, from);
      context.report({ node, messageId: 'cycle', data: { from, to, path: [from, ...back].join(' -> ') } });
    });
    // Each paid debt once per process, on the first file of the unit its edge starts from.
    const edges = (paid.get(from) ?? []).filter((e) => !reportedPaid.has(`${options.root}: ${e}`));
    if (edges.length === 0) return visitors;
    return {
      ...visitors,
      Program(node) {
        for (const edge of edges) {
          reportedPaid.add(`${options.root}: ${edge}`);
          context.report({ node, loc: { line: 1, column: 0 }, messageId: 'paid', data: { edge } });
        }
      },
    };
  },
};

const reportedPaid = new Set();

export default {
  meta: { name: 'hyperlab' },
  rules: { layers, 'no-folder-cycles': noFolderCycles },
};
