import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../runtime/cli/bin.mjs');

describe('weir run', () => {
  it('runs a job module on a local cluster and reports its sinks', async () => {
    const { stdout, stderr } = await run('node', [bin, 'run', 'test/minicluster/jobs/word-count.ts', '--params', '{"lines":2000,"seed":3}', '--workers', '2', '--state', 'heap'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
    });
    expect(stdout).toMatch(/^word-counts: \d+ records$/m);
    expect(stderr).toMatch(/finished in/);
  });

  it('names the setting when an option is wrong', async () => {
    const failed = await run('node', [bin, 'run', 'test/minicluster/jobs/word-count.ts', '--params', '{oops'], { cwd: path.resolve(import.meta.dirname, '../..') }).catch((e: { stderr: string; code: number }) => e);
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toMatch(/--params: is not JSON/);
  });

  it('says what a job folder outside any ES-module package needs, instead of a loader error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-outside-job-'));
    try {
      const api = path.resolve(import.meta.dirname, '../../runtime/api/index.ts');
      writeFileSync(
        path.join(dir, 'job.ts'),
        `import { collectSink, datagen, defineJob } from ${JSON.stringify(api)};\n` +
          `export const out = collectSink<number>('out');\n` +
          `export default defineJob(import.meta.url, (env) => { env.fromSource(datagen({ count: 10, generate: (i) => i })).sinkTo(out); });\n`,
      );
      const failed = await run('node', [bin, 'run', path.join(dir, 'job.ts'), '--workers', '1'], { cwd: dir }).catch((e: { stderr: string; code: number }) => e);
      expect((failed as { code: number }).code).toBe(1);
      expect((failed as { stderr: string }).stderr).toContain(`no package.json above ${dir} says "type": "module"`);
      writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}');
      const { stdout } = await run('node', [bin, 'run', path.join(dir, 'job.ts'), '--workers', '1', '--state', 'heap'], { cwd: dir, env: { ...process.env, WEIR_HOME: path.join(dir, 'home') } });
      expect(stdout).toMatch(/^out: 10 records$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
