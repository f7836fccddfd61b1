/**
 * Exactly-once into DuckDB under failure injection: worker threads are killed at seeded random
 * points and right after checkpoints complete (commits in flight) while a job writes inserts,
 * updates and deletes through the DuckDB sink (two keyed writers, 200 ms checkpoints). The final
 * table must equal the failure-free run's and the model. Meanwhile a reader polls the published
 * read-only copy: every state it sees must be the table after some prefix of the operations (a
 * checkpoint's writers committed all together, nothing of an uncommitted checkpoint), and its last
 * commit must be a checkpoint of the job covered by a completed one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster, SeededRandom } from 'weir';
import job, { accountText, digest, modelRows, prefixDigests } from './jobs/olap-changes.ts';
import { killAtCheckpoints, killAtSeededTimes } from '../harness/kills.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-duckdb-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COUNT = 8_000;
const KEYS = 1_000;
const SEED = 7;
const RATE = 8_000;

interface Seen {
  digest: string;
  lastCommit: number;
}

async function query(file: string): Promise<{ rows: string[]; lastCommit: number } | undefined> {
  let db: DuckDBInstance;
  try {
    db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  } catch {
    return undefined; // not published yet
  }
  try {
    const c = await db.connect();
    try {
      const rows = (await c.runAndReadAll('SELECT id, version, balance, owner FROM accounts')).getRowObjects().map((r) => accountText(r as { id: unknown; version: unknown; balance: unknown; owner: unknown }));
      const last = Number((await c.runAndReadAll('SELECT coalesce(max(checkpoint_id), 0) FROM _weir_commits')).getRows()[0]![0]);
      return { rows, lastCommit: last };
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

async function run(name: string, kills: (handle: JobHandle) => void): Promise<{ rows: string[]; restarts: number; seen: Seen[]; triggered: Set<number>; lastCompleted: number }> {
  const dir = path.join(root, name);
  const dbPath = path.join(dir, 'olap.duckdb');
  const readCopy = path.join(dir, 'olap.read.duckdb');
  const handle = await new MiniCluster({
    workers: 2,
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 200, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 20 },
  }).submit(job, { params: { sink: 'duckdb', path: dbPath, count: COUNT, keys: KEYS, seed: SEED, ratePerSecond: RATE, writers: 2, maxRows: 700 }, parallelism: 2 });
  kills(handle);
  const seen: Seen[] = [];
  let done = false;
  const ended = handle.result().finally(() => (done = true));
  while (!done) {
    const s = await query(readCopy);
    if (s) seen.push({ digest: digest(s.rows), lastCommit: s.lastCommit });
    await new Promise((r) => setTimeout(r, 60));
  }
  await ended;
  const history = handle.checkpoints();
  const triggered = new Set(history.map((c) => c.id));
  const lastCompleted = Math.max(...history.filter((c) => c.status === 'completed').map((c) => c.id));
  const final = await query(readCopy);
  return { rows: (final?.rows ?? []).sort(), restarts: handle.restarts, seen, triggered, lastCompleted };
}

describe('DuckDB sink exactly-once with worker kills', () => {
  const prefixes = prefixDigests(COUNT, KEYS, SEED);
  let expected: string[] = [];

  const checkReader = (r: { seen: Seen[]; triggered: Set<number>; lastCompleted: number }): void => {
    expect(r.seen.length).toBeGreaterThan(0);
    for (const s of r.seen) {
      expect(prefixes.has(s.digest), `a reader saw a state that is no prefix of the operations (last commit ${s.lastCommit})`).toBe(true);
      // a checkpoint of the job, and covered by a completed one (an aborted checkpoint's batches are
      // committed under their own id when the next one completes, as Flink's committers do)
      if (s.lastCommit > 0) expect(r.triggered.has(s.lastCommit) && s.lastCommit <= r.lastCompleted, `a reader saw commit ${s.lastCommit}, not a checkpoint covered by a completed one`).toBe(true);
    }
  };

  it('a failure-free run writes the model, and readers see only committed prefixes', async () => {
    const r = await run('reference', () => {});
    expect(r.restarts).toBe(0);
    expected = r.rows;
    expect(expected).toEqual(modelRows(COUNT, KEYS, SEED));
    checkReader(r);
  });

  for (let runNo = 1; runNo <= 2; runNo++) {
    it(`run ${runNo}: kills at seeded random points leave the same table`, async () => {
      const random = new SeededRandom(500 + runNo);
      const r = await run(`random-${runNo}`, (handle) => {
        killAtSeededTimes(handle, random, { from: 150, spread: 600, gap: 150, gapSpread: 400 });
      });
      expect(r.restarts).toBeGreaterThanOrEqual(1);
      expect(r.rows).toEqual(expected);
      checkReader(r);
    });
  }

  it('kills right after checkpoints complete (commit in flight) leave the same table', async () => {
    let kills = (): number => 0;
    const r = await run('at-commit', (handle) => {
      kills = killAtCheckpoints(handle, 'checkpoint-completed', { every: 3, remainder: 1, max: 3 });
    });
    expect(kills()).toBeGreaterThanOrEqual(1);
    expect(r.rows).toEqual(expected);
    checkReader(r);
  });
});
