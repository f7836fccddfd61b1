import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

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

describe('weir run in the foreground', () => {
  it('shows progress lines; Ctrl-C stops with a savepoint and prints how to resume, and resuming completes the output', async () => {
    const { spawn } = await import('node:child_process');
    const { readCommitted } = await import('../harness/transactional-sink.ts');
    const root = mkdtempSync(path.join(os.tmpdir(), 'weir-run-sigint-'));
    const cwd = path.resolve(import.meta.dirname, '../..');
    const job = 'test/chaos/jobs/keyed-aggregation.ts';
    const env = { ...process.env, WEIR_HOME: path.join(root, 'home'), CI: '', WEIR_PROGRESS_MS: '200' };
    const common = ['--workers', '1', '--parallelism', '1', '--state', 'heap', '--checkpoint-dir', path.join(root, 'checkpoints')];
    const params = (out: string, rate: number) => JSON.stringify({ count: 6_000, seed: 9, ratePerSecond: rate, outDir: path.join(root, out) });
    const canonical = (dir: string) => readCommitted<{ shop: string; second: number; orders: number; cents: number }>(path.join(root, dir)).map((r) => `${r.shop}@${r.second}:${r.orders}:${r.cents}`).sort();
    try {
      await run('node', [bin, 'run', job, ...common, '--params', params('reference', 50_000)], { cwd, env });
      const child = spawn('node', [bin, 'run', job, ...common, '--params', params('out', 600)], { cwd, env });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
      await vi.waitFor(() => expect(stderr).toMatch(/in \S+\/s {2}out \S+\/s {2}watermark \S+ \S+ {2}checkpoint \S+ {2}back-pressure (ok|low|high)/), { timeout: 30_000, interval: 50 });
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(0);
      expect(stderr).toMatch(/stopping with a savepoint/);
      const resume = /resume with: weir run (\S+) --from-savepoint (\S+)/.exec(stderr);
      expect(resume?.[1]).toBe(job);
      expect(stderr).toMatch(/stopped in/);
      expect(canonical('out').length).toBeLessThan(canonical('reference').length);
      await run('node', [bin, 'run', job, ...common, '--from-savepoint', resume![2]!, '--params', params('out', 50_000)], { cwd, env });
      expect(canonical('out')).toEqual(canonical('reference'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);

  it('is quiet under CI=true', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'weir-run-ci-'));
    try {
      const { stderr } = await run('node', [bin, 'run', 'test/minicluster/jobs/word-count.ts', '--params', '{"lines":2000,"seed":3}', '--workers', '1', '--state', 'heap'], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: { ...process.env, WEIR_HOME: root, CI: 'true', WEIR_PROGRESS_MS: '1' },
      });
      expect(stderr).not.toMatch(/back-pressure/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
