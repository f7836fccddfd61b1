/**
 * The standalone cluster end to end through the `weir` command: start a cluster, submit two jobs,
 * see them running, savepoint one, cancel it, resume it from the savepoint (its committed output
 * equals an uninterrupted run's), kill a task manager and see the other job fail over (its output
 * still exactly once), stop the cluster, no process left. Secrets in parameters stay out of what
 * the cluster shows. The job is the failure-injection job of test/chaos (exactly-once file sink).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { listPending, readCommitted } from '../../harness/transactional-sink.ts';
import type { ShopSecond } from '../../chaos/jobs/keyed-aggregation.ts';
import { alive, clusterInfo, rest, weir, weirOk, type JobJson } from './helpers.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-cluster-cli-'));
const dir = path.join(root, 'cluster');
const JOB = 'test/chaos/jobs/keyed-aggregation.ts';
const COUNT = 8_000;
const SEED = 5;
const SECRET = 'hunter2-very-secret';

function params(outDir: string, ratePerSecond: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ count: COUNT, seed: SEED, ratePerSecond, outDir, ...extra });
}

function canonical(rows: ShopSecond[]): string[] {
  return rows.map((r) => `${r.shop}@${r.second}:${r.orders}:${r.cents}`).sort();
}

async function job(ref: string): Promise<JobJson> {
  return rest<JobJson>(dir, `/jobs/${ref}`);
}

async function sourceRead(ref: string): Promise<number> {
  const j = await job(ref);
  return Number(j.vertices.find((v) => v.name.startsWith('orders'))?.metrics.numRecordsOut ?? 0);
}

let pid: number | undefined;
afterAll(async () => {
  if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('weir cluster', () => {
  it('runs two jobs; savepoint, cancel and resume one; fails the other over a killed task manager; stops with no process left', async () => {
    await weirOk(['cluster', 'start', '--dir', dir, '--workers', '2', '--slots', '2', '--port', '0', '--state', 'heap']);
    pid = clusterInfo(dir).pid;
    expect(alive(pid)).toBe(true);

    // the reference: an uninterrupted run, attached (weir run returns when it finished)
    const refOut = path.join(root, 'reference');
    const reference = await weirOk(['run', JOB, '--dir', dir, '--parallelism', '1', '--params', params(refOut, 40_000)]);
    expect(reference.stderr).toMatch(/finished in/);
    const expected = canonical(readCommitted<ShopSecond>(refOut));
    expect(expected.length).toBeGreaterThan(0);

    // two jobs at once: A without checkpoints (to savepoint), B with checkpoints (to fail over)
    const outA = path.join(root, 'a');
    const outB = path.join(root, 'b');
    const a = (await weirOk(['run', JOB, '--dir', dir, '--detached', '--parallelism', '1', '--params', params(outA, 400, { password: SECRET })])).stdout.trim();
    const b = (await weirOk(['run', JOB, '--dir', dir, '--detached', '--parallelism', '1', '--checkpoint-interval', '100', '--params', params(outB, 400)])).stdout.trim();
    const listed = (await weirOk(['list', '--dir', dir])).stdout;
    expect(listed).toMatch(new RegExp(`${a}\\s+RUNNING`));
    expect(listed).toMatch(new RegExp(`${b}\\s+RUNNING`));
    // each took one slot, on its own task manager; a job asking for more than the two left is refused with the reason
    const third = await weir(['run', JOB, '--dir', dir, '--detached', '--parallelism', '3', '--params', params(path.join(root, 'c'), 1000)]);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain('needs 3 slots (its highest parallelism) but 2 of the cluster');

    // B: kill its task manager; the cluster replaces it and B fails over, A (on the other one) goes on
    const before = await job(b);
    expect(before.state).toBe('RUNNING');
    const tms = await rest<{ taskmanagers: { id: number; jobs: string[] }[] }>(dir, '/taskmanagers');
    const victim = tms.taskmanagers.find((t) => t.jobs.includes(b))!;
    expect(victim.jobs).toEqual([b]);
    await rest(dir, `/taskmanagers/${victim.id}/kill`, { method: 'POST' });
    await vi.waitFor(async () => expect((await job(b)).restarts).toBeGreaterThanOrEqual(1), { timeout: 30_000, interval: 100 });
    // A: a savepoint mid-stream, then cancel; nothing was committed (no checkpoints)
    await vi.waitFor(async () => expect(await sourceRead(a)).toBeGreaterThan(500), { timeout: 30_000, interval: 100 });
    const savepointOut = await weirOk(['savepoint', a.slice(0, 8), '--dir', dir]);
    const location = /savepoint \d+ at (\S+)/.exec(savepointOut.stdout)![1]!;
    expect(savepointOut.stdout).toContain(`--from-savepoint ${location}`);
    expect(existsSync(path.join(location, '_metadata'))).toBe(true);
    expect((await job(a)).restarts).toBe(0);
    await weirOk(['cancel', a, '--dir', dir]);
    expect((await job(a)).state).toBe('CANCELED');
    expect(readCommitted<ShopSecond>(outA)).toEqual([]);

    // the secret parameter is masked in REST answers, the CLI and the logs
    expect(JSON.stringify((await job(a)).params)).toContain('"password":"******"');
    const status = (await weirOk(['status', a, '--dir', dir])).stdout;
    const logs = (await weirOk(['logs', a, '--dir', dir])).stdout;
    expect(logs).toMatch(/savepoint \d+ at/);
    expect(logs).toMatch(/canceled/);
    for (const text of [status, logs, readFileSync(path.join(dir, 'cluster.log'), 'utf8'), JSON.stringify(await rest(dir, '/jobs'))]) expect(text).not.toContain(SECRET);

    // resume A from the savepoint (attached, to its end): the output equals the uninterrupted run's
    const resumed = await weirOk(['run', JOB, '--dir', dir, '--parallelism', '1', '--from-savepoint', location, '--params', params(outA, 40_000)]);
    expect(resumed.stderr).toMatch(/finished in/);
    expect(canonical(readCommitted<ShopSecond>(outA))).toEqual(expected);
    expect(listPending(outA)).toEqual([]);

    // B ends with exactly the uninterrupted run's output
    await vi.waitFor(async () => expect((await job(b)).state).toBe('FINISHED'), { timeout: 60_000, interval: 200 });
    const replaced = await rest<{ taskmanagers: { id: number; alive: boolean; replacements: number }[] }>(dir, '/taskmanagers');
    expect(replaced.taskmanagers.find((t) => t.id === victim.id)).toMatchObject({ alive: true, replacements: 1 });
    expect(canonical(readCommitted<ShopSecond>(outB))).toEqual(expected);
    const exceptions = await rest<{ exceptionHistory: { entries: { message: string; restarted: boolean }[] } }>(dir, `/jobs/${b}/exceptions`);
    expect(exceptions.exceptionHistory.entries[0]).toMatchObject({ restarted: true });
    expect(exceptions.exceptionHistory.entries[0]!.message).toMatch(/task manager/);

    // a loopback cluster refuses a Host that is not a loopback name (DNS rebinding)
    const status403 = await new Promise<number>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: clusterInfo(dir).port, path: '/jobs', headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    expect(status403).toBe(403);

    await weirOk(['cluster', 'stop', '--dir', dir]);
    expect(alive(pid)).toBe(false);
    expect(existsSync(path.join(dir, 'cluster.json'))).toBe(false);
    expect((await weir(['list', '--dir', dir])).stderr).toMatch(/no cluster is running/);
  }, 180_000);
});
