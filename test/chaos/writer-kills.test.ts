/**
 * Terminating a task manager never lands inside an lmdb-js open or close, in its own thread or in
 * its LMDB writer thread. A thread terminated there aborts the whole process ("FATAL ERROR:
 * Error::ThrowAsJavaScriptException napi_throw"), and Node ends a thread's child threads with it:
 * that took down a chaos test run in CI. Writer threads are now siblings of their task manager
 * (runtime/sibling-threads.ts), and a task manager's own opens and closes run behind a guard that
 * its terminate() waits for (runtime/terminate-guard.ts).
 *
 * The test runs threads/writer-kills.ts in a child process, so that an abort fails the test instead
 * of ending the test runner: a stand-in task manager keeps creating, writing and disposing of LMDB
 * backends, and is terminated at a seeded random moment, round after round. `unguarded` (the writer
 * as the task manager's child, terminate() at once) aborted or crashed the process within 2 to 21
 * rounds in each of five seeds tried.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-writer-kills-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const script = fileURLToPath(new URL('./threads/writer-kills.ts', import.meta.url));
const ROUNDS = 25;

describe('killing a task manager while it and its LMDB writer thread open environments', () => {
  it(`${ROUNDS} kills at random moments: the process survives and each writer thread ends itself`, () => {
    const dir = path.join(root, 'run');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, dir, String(ROUNDS), '7'], { encoding: 'utf8', timeout: 150_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, `exit ${r.status}; stderr:\n${r.stderr.slice(-2000)}`).toBe(0);
    expect(r.stdout).toContain(`survived ${ROUNDS} kills`);
    // Every round ran its writer: each opened environments of its own.
    expect(readdirSync(dir).length).toBe(ROUNDS);
  }, 180_000);
});
