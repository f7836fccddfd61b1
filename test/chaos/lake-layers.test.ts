/**
 * A two-layer lake chain under worker kills in both jobs: job 1 writes an accounts (ODS/DWD)
 * primary-key table with the lookup changelog producer; job 2 streams that table's changelog,
 * aggregates balances per owner and upserts a DWS table. The DWS table must equal a brute-force
 * computation over job 1's input, which it can only do if every change reaches job 2 exactly once
 * with its retraction (a changelog without -U/-D would double-count updated accounts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, SeededRandom } from 'weir';
import { FileStoreTable, readTable } from 'weir/lake';
import writeJob, { operation, type Account } from '../minicluster/lake/jobs/pk-writes.ts';
import totalsJob from '../minicluster/lake/jobs/owner-totals.ts';
import { killAtCompletedCounts } from '../harness/kills.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-layers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COUNT = 10_000;
const KEYS = 800;
const SEED = 23;

/** Owner -> "accounts|cents" over the final accounts, as job 2 must compute it. */
function bruteForce(): string[] {
  const model = new Map<number, Account>();
  const random = new SeededRandom();
  for (let i = 0; i < COUNT; i++) {
    const op = operation(i, random.reset(SEED, i), KEYS);
    if (op.kind === 'delete') model.delete(op.row.id);
    else model.set(op.row.id, op.row);
  }
  const totals = new Map<string, { accounts: number; cents: number }>();
  for (const a of model.values()) {
    const t = totals.get(a.owner) ?? { accounts: 0, cents: 0 };
    t.accounts++;
    t.cents += Math.round(a.balance * 100);
    totals.set(a.owner, t);
  }
  return [...totals].map(([o, t]) => `${o}|${t.accounts}|${t.cents}`).sort();
}

function cluster(dir: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(dir, 'work'),
    checkpoints: { intervalMs: 150, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 20 },
  });
}

async function dwsText(p: string): Promise<string[]> {
  try {
    return (await readTable(await FileStoreTable.open(p))).map((r) => r.join('|')).sort();
  } catch {
    return []; // not created yet
  }
}

describe('two-layer lake chain with worker kills', () => {
  const expected = bruteForce();

  for (const run of [1, 2]) {
    it(`run ${run}: the DWS table equals a brute-force aggregation of the input`, async () => {
      const dir = path.join(root, `run-${run}`);
      const ods = path.join(dir, 'ods');
      const dws = path.join(dir, 'dws');
      const random = new SeededRandom(500 + run);
      const writer = await cluster(path.join(dir, 'job1')).submit(writeJob, {
        params: { count: COUNT, keys: KEYS, seed: SEED, path: ods, writers: 2, ratePerSecond: 5000, compactionTrigger: 3, changelogProducer: 'lookup' },
        parallelism: 2,
      });
      const totals = await cluster(path.join(dir, 'job2')).submit(totalsJob, { params: { from: ods, to: dws }, parallelism: 2 });
      killAtCompletedCounts(writer, random);
      killAtCompletedCounts(totals, random);
      await writer.result();
      let got: string[] = [];
      for (let attempt = 0; attempt < 600; attempt++) {
        got = await dwsText(dws);
        if (got.length === expected.length && got.every((r, i) => r === expected[i])) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const restarts = writer.restarts + totals.restarts;
      await totals.cancel();
      expect(restarts).toBeGreaterThanOrEqual(1);
      expect(got).toEqual(expected);
    });
  }
});
