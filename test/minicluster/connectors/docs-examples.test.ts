/**
 * The examples of docs/connectors.md work: the lines source and the part-file sink in a job at
 * parallelism 2 with checkpoints, every line exactly once; and the doc shows this file's code.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MiniCluster } from '../../../runtime/api/index.ts';
import job from './docs-examples.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('docs/connectors.md examples', () => {
  it('the doc shows the tested code', () => {
    const doc = readFileSync(path.join(here, '../../../docs/connectors.md'), 'utf8');
    const code = readFileSync(path.join(here, 'docs-examples.ts'), 'utf8');
    const examples = [...code.matchAll(/\/\/ example: (\w+)\n([\s\S]*?)\/\/ end example/g)];
    expect(examples.map((m) => m[1])).toEqual(['source', 'sink']);
    for (const m of examples) expect(doc).toContain(m[2]!.trim());
  });

  it('copies every line of every file once through the lines source and the part-file sink', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'weir-docs-examples-'));
    const input = path.join(root, 'in');
    const output = path.join(root, 'out');
    mkdirSync(input);
    mkdirSync(output);
    const expected: string[] = [];
    for (let f = 0; f < 3; f++) {
      const lines = Array.from({ length: 2000 }, (_, i) => `file ${f} line ${i}`);
      writeFileSync(path.join(input, `f${f}.txt`), lines.join('\n') + '\n');
      expected.push(...lines.map((l) => l.toUpperCase()));
    }
    const cluster = new MiniCluster({ workers: 2, workDir: path.join(root, 'work'), checkpoints: { intervalMs: 30, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } } });
    await cluster.execute(job, { params: { input, output }, parallelism: 2 });
    const files = readdirSync(output);
    expect(files.filter((f) => f.startsWith('.'))).toEqual([]);
    const written = files.flatMap((f) => readFileSync(path.join(output, f), 'utf8').split('\n').filter((l) => l.length > 0));
    expect(written.sort()).toEqual(expected.sort());
  });
});
