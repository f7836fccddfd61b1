#!/usr/bin/env node
/**
 * `npm run check:layers`: imports point one way down Weir's layers, and no files import each other in
 * a loop. Parses the static imports and re-exports (and `import('...')` with a literal) of every .ts
 * under the layered folders, maps each file to its layer by LAYERS below, and fails, naming the files,
 * on an import from a lower layer to a higher one or on an import cycle.
 *
 * An upward `import type` counts: a type that points up is still a dependency that points up. A
 * cycle counts only through imports that stay at run time: files of one layer may name each other's
 * types (DataStream.window() returns a WindowedStream whose methods return DataStreams), which tsx
 * erases, but a loop of loaded modules makes load order matter and cannot be taken apart.
 *
 * The layer map is documented in docs/architecture.md; change both together.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bottom to top. A file belongs to the layer whose path prefix (folder, ending in '/') or exact file
 * matches it most specifically, so `runtime/api/` wins over `runtime/` and a file entry over its folder.
 * A file may import its own layer and any layer below it.
 */
export const LAYERS = [
  // Shared basics: errors every layer throws, hashing, what plain data a value may be, thread-safety helpers. They live under runtime/ for history's sake.
  { name: 'basics', paths: ['runtime/errors.ts', 'runtime/hash/', 'runtime/plain-data.ts', 'runtime/worker-safe-fs.ts', 'runtime/sibling-threads.ts', 'runtime/terminate-guard.ts'] },
  { name: 'state', paths: ['state/'] },
  // Operators and the user-function types they call (operators/functions.ts).
  { name: 'operators', paths: ['operators/'] },
  // The engine: graph, tasks, exchange, checkpoints, failover, cluster, and the connector contracts
  // the engine drives (runtime/source/: enumerators and readers; runtime/sink/: writers and committers).
  { name: 'runtime', paths: ['runtime/'] },
  // The job API, `Sink` with it (runtime/api/sink.ts: the topology `sinkTo` builds).
  { name: 'api', paths: ['runtime/api/'] },
  { name: 'connectors', paths: ['connectors/'] },
  // The `weir` entry: the job API plus the built-in connectors every job uses (datagen, collect, print).
  { name: 'entry', paths: ['runtime/api/index.ts'] },
  // What runs jobs from the outside: the command line and the REST dashboard.
  { name: 'tools', paths: ['runtime/cli/', 'runtime/rest/'] },
  { name: 'jobs', paths: ['jobs/'] },
];
const SCANNED = ['runtime', 'operators', 'state', 'connectors', 'jobs'];

/**
 * Node modules the layered code must not use, with the one file allowed to and why. `fs/promises` in
 * a worker thread that is being terminated aborts the whole process on Node 20 (a native CHECK in the
 * fs binding); runtime/worker-safe-fs.ts gives the same calls on the callback API.
 */
const FORBIDDEN = [
  {
    test: (spec, named) => spec === 'node:fs/promises' || spec === 'fs/promises' || ((spec === 'node:fs' || spec === 'fs') && /\bpromises\b/.test(named)),
    // `import fs from 'node:fs'` then `fs.promises.readFile(...)`
    inCode: /\bfs\.promises\b/,
    allowedIn: 'runtime/worker-safe-fs.ts',
    why: 'fs/promises aborts the process when its worker thread is terminated mid-call (Node 20); use runtime/worker-safe-fs.ts',
  },
];

function layerOf(file) {
  let best = null;
  for (let i = 0; i < LAYERS.length; i++) {
    for (const p of LAYERS[i].paths) {
      const hit = p.endsWith('/') ? file.startsWith(p) : file === p;
      const rank = p.endsWith('/') ? p.length : Infinity;
      if (hit && (best === null || rank > best.rank)) best = { index: i, rank };
    }
  }
  return best?.index ?? null;
}

function walk(root, dir, out) {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(root, rel, out);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/**
 * The relative imports of a source file: `{ spec, typeOnly }`. Type-only are `import type`,
 * `export type ... from` and `import('...').Name` in a type; tsx erases them. (`import { type A }`
 * is not: with verbatimModuleSyntax it stays as `import {} from`, which loads the module.)
 */
export function importsOf(source) {
  const code = withoutComments(source);
  const found = [];
  const patterns = [
    [/(?:^|[;\s])import\s+(type\s+)?([^'"`;]*?)\sfrom\s*['"]([^'"]+)['"]/g, (m) => !!m[1], 3, 2],
    [/(?:^|[;\s])import\s*['"]([^'"]+)['"]/g, () => false, 1],
    [/(?:^|[;\s])export\s+(type\s+)?(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s*from\s*['"]([^'"]+)['"]/g, (m) => !!m[1]],
    [/\bimport\(\s*['"]([^'"]+)['"]\s*\)(\s*\.)?/g, (m) => !!m[2], 1],
  ];
  for (const [re, typeOnly, group = 2, namedGroup] of patterns) {
    for (const m of code.matchAll(re)) {
      const entry = { spec: m[group], typeOnly: typeOnly(m) };
      if (namedGroup !== undefined) entry.named = m[namedGroup].trim();
      found.push(entry);
    }
  }
  return found;
}

function withoutComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** The problems found under `root` (a project checkout), one line each; empty when the layers hold. */
export function check(root = projectRoot) {
  const files = SCANNED.filter((d) => fs.existsSync(path.join(root, d))).flatMap((d) => walk(root, d, []));
  const problems = [];
  const graph = new Map();
  for (const file of files) {
    const from = layerOf(file);
    if (from === null) problems.push(`${file}: in no layer; add its folder to LAYERS in scripts/check-layers.mjs`);
    const edges = [];
    const source = fs.readFileSync(path.join(root, file), 'utf8');
    for (const rule of FORBIDDEN) {
      if (file !== rule.allowedIn && rule.inCode.test(withoutComments(source))) problems.push(`forbidden call: ${file} uses ${rule.inCode.source.replace(/\\b|\\/g, '')}: ${rule.why}`);
    }
    for (const { spec, typeOnly, named = '' } of importsOf(source)) {
      for (const rule of FORBIDDEN) {
        if (!typeOnly && file !== rule.allowedIn && rule.test(spec, named)) problems.push(`forbidden import: ${file} imports ${spec}${named ? ` (${named})` : ''}: ${rule.why}`);
      }
      if (!spec.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (!fs.existsSync(path.join(root, target))) continue; // tsc reports missing modules
      if (!typeOnly) edges.push(target);
      const to = layerOf(target);
      if (from !== null && to !== null && to > from) {
        problems.push(`upward import: ${file} (${LAYERS[from].name}) imports ${target} (${LAYERS[to].name})`);
      }
    }
    graph.set(file, edges);
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${cycle.join(' -> ')} -> ${cycle[0]}`);
  return problems;
}

/** Strongly connected components of more than one file (Tarjan), each as one cycle through it. */
function cycles(graph) {
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], out = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(pathThrough(graph, new Set(comp), comp.sort()[0]));
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** A concrete loop from `start` back to itself inside one component (BFS), to name in the error. */
function pathThrough(graph, comp, start) {
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const loop = [];
        for (let x = v; x !== null; x = prev.get(x)) loop.unshift(x);
        return loop;
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return [...comp];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = check();
  if (problems.length > 0) {
    for (const p of problems) console.error(p);
    console.error(`\n${problems.length} layering problem(s). Layers, bottom to top: ${LAYERS.map((l) => l.name).join(' -> ')} (docs/architecture.md).`);
    process.exit(1);
  }
  console.log(`layers ok: ${LAYERS.map((l) => l.name).join(' -> ')}, no import cycles`);
}
