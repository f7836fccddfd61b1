/**
 * A job whose first attempt cannot start (its deployment fails in the task managers): the submit
 * fails with the cause, and every thread the job started ends with it, the warm spare task manager
 * included, so that a process which only submitted the job exits by itself.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-start-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a job that cannot start', () => {
  it('fails its submit and leaves no thread running: the process exits by itself', async () => {
    const script = path.join(dir, 'submit.mts');
    writeFileSync(script, `
      import { MiniCluster } from ${JSON.stringify(path.join(repo, 'runtime/api/index.ts'))};
      import job from ${JSON.stringify(path.join(repo, 'test/minicluster/jobs/fails-to-deploy.ts'))};
      const cluster = new MiniCluster({ workers: 2, stateBackend: 'heap', workDir: ${JSON.stringify(path.join(dir, 'work'))},
        checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: ${JSON.stringify(path.join(dir, 'checkpoints'))} } } });
      await cluster.submit(job, { params: { n: 1 } }).then(() => console.log('submitted'), (e) => console.log('submit failed: ' + e.message));
    `);
    // The timeout only ends a process that would otherwise never exit (the failure this test is about).
    const { stdout } = await run('node', ['--import', 'tsx', script], { cwd: repo, timeout: 30_000, killSignal: 'SIGKILL' });
    expect(stdout.trim()).toBe('submit failed: this job cannot be built in a task manager');
  }, 60_000);
});
