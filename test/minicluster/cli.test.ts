import { execFile } from 'node:child_process';
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
});
