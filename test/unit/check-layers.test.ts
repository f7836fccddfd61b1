import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { check, importsOf } from '../../scripts/check-layers.mjs';

const checkLayers = check as (root?: string) => string[];
const imports = (source: string) =>
  (importsOf as (source: string) => { spec: string; typeOnly: boolean }[])(source).map(({ spec, typeOnly }) => ({ spec, typeOnly }));

let dir: string | undefined;
function tree(files: Record<string, string>): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weir-layers-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('layer check (scripts/check-layers.mjs)', () => {
  it('passes on this project', () => {
    expect(checkLayers()).toEqual([]);
  });

  it('names both files of an upward import, also a type-only one', () => {
    const root = tree({
      'state/backend.ts': "import type { Operator } from '../operators/operator.ts';\nexport const x = 1;\n",
      'operators/operator.ts': 'export interface Operator {}\n',
    });
    expect(checkLayers(root)).toEqual(['upward import: state/backend.ts (state) imports operators/operator.ts (operators)']);
  });

  it('fails on a cycle of run-time imports and names its files; a cycle of type-only imports passes', () => {
    const root = tree({
      'operators/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
      'operators/b.ts': "import { c } from './c.ts';\nexport const b = c;\n",
      'operators/c.ts': "export { a as c } from './a.ts';\n",
      'operators/d.ts': "import type { E } from './e.ts';\nexport type D = E[];\n",
      'operators/e.ts': "import type { D } from './d.ts';\nexport interface E { d: D }\n",
    });
    expect(checkLayers(root)).toEqual(['import cycle: operators/a.ts -> operators/b.ts -> operators/c.ts -> operators/a.ts']);
  });

  it('reads static, re-exported and dynamic imports, and ignores commented-out ones', () => {
    const found = imports(`
      import { a } from './a.ts';
      import type { B } from './b.ts';
      import { type C } from './c.ts';
      export * from './d.ts';
      export type { E } from './e.ts';
      const f = await import('./f.ts');
      let g: import('./g.ts').G;
      // import { h } from './h.ts';
      /* import { i } from './i.ts'; */
      import './j.ts';
    `);
    expect(found).toEqual(
      expect.arrayContaining([
        { spec: './a.ts', typeOnly: false },
        { spec: './b.ts', typeOnly: true },
        { spec: './c.ts', typeOnly: false },
        { spec: './d.ts', typeOnly: false },
        { spec: './e.ts', typeOnly: true },
        { spec: './f.ts', typeOnly: false },
        { spec: './g.ts', typeOnly: true },
        { spec: './j.ts', typeOnly: false },
      ]),
    );
    expect(found.map((f) => f.spec).sort()).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts', './j.ts']);
  });

  it('rejects fs/promises in the layered folders, however it is reached, except in runtime/worker-safe-fs.ts', () => {
    const root = tree({
      'runtime/worker-safe-fs.ts': "import fs from 'node:fs';\nexport const p = fs.promises;\n",
      'state/a.ts': "import { readFile } from 'node:fs/promises';\nexport const a = readFile;\n",
      'state/b.ts': "import { promises as fs } from 'node:fs';\nexport const b = fs.readFile;\n",
      'connectors/c.ts': "import fs from 'node:fs';\nexport const c = () => fs.promises.stat('.');\n",
      'connectors/d.ts': "import { readFileSync } from 'node:fs';\n// fs.promises is not used here\nexport const d = readFileSync;\n",
      'operators/e.ts': "import type { FileHandle } from 'node:fs/promises';\nexport type E = FileHandle;\n",
    });
    const why = 'fs/promises aborts the process when its worker thread is terminated mid-call (Node 20); use runtime/worker-safe-fs.ts';
    expect(checkLayers(root).sort()).toEqual(
      [
        `forbidden call: connectors/c.ts uses fs.promises: ${why}`,
        `forbidden import: state/a.ts imports node:fs/promises ({ readFile }): ${why}`,
        `forbidden import: state/b.ts imports node:fs ({ promises as fs }): ${why}`,
      ].sort(),
    );
  });
});
