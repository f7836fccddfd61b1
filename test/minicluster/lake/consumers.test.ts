/**
 * A streaming lake source with a consumer id protects the snapshots it still needs from expiration,
 * across a stop-with-savepoint and a restart: snapshots written while the job is down are kept by
 * the consumer file, and the resumed job reads every change exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { Catalog, ConsumerManager, expireSnapshots, TableCommit, TableWriter, type FileStoreTable } from 'weir/lake';
import readJob from './jobs/read-table.ts';
import { accountSchema } from './jobs/pk-writes.ts';
import { readCommitted } from '../../harness/transactional-sink.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-consumers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PER_SNAPSHOT = 30;

function cluster(name: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
  });
}

/** Snapshot n inserts ids (n-1)*30 .. n*30-1. */
async function writeSnapshots(table: FileStoreTable, from: number, to: number): Promise<void> {
  const commit = new TableCommit(table, 'writer');
  for (let n = from; n <= to; n++) {
    const w = new TableWriter(table);
    for (let i = (n - 1) * PER_SNAPSHOT; i < n * PER_SNAPSHOT; i++) w.write({ id: i, version: n, balance: i / 10, owner: `o${i}` }, 0);
    await commit.commit(n, await w.prepareCommit());
  }
}

async function consumerReaches(consumers: ConsumerManager, next: number): Promise<void> {
  while (((await consumers.get('copy')) ?? 0) < next) await new Promise((r) => setTimeout(r, 20));
}

describe('lake consumers', () => {
  it('keep the snapshots a stopped streaming job needs, and it resumes with every change once', async () => {
    const table = await new Catalog(path.join(root, 'warehouse')).createTable('db', 'accounts', accountSchema());
    const consumers = new ConsumerManager(table.io, table.path);
    await writeSnapshots(table, 1, 3);
    const outDir = path.join(root, 'out');
    const params = { kind: 'changes-to-files' as const, path: table.path, outDir, consumerId: 'copy', pollIntervalMs: 20, busyMs: 0 };

    const first = await cluster('first').submit(readJob, { params, parallelism: 2 });
    await consumerReaches(consumers, 4);
    const savepoint = await first.stopWithSavepoint();
    await first.result();

    // while the job is down: more snapshots, and an expiration that would keep only the latest
    await writeSnapshots(table, 4, 7);
    const expired = await expireSnapshots(table, { retainMin: 1, retainMax: 1 });
    expect(expired).toEqual([1, 2, 3]); // 4 and later: the consumer needs them
    expect(await consumers.list()).toMatchObject([{ id: 'copy', nextSnapshot: 4 }]);

    const resumed = await cluster('resumed').submit(readJob, { params, parallelism: 3, restoreFrom: savepoint });
    await consumerReaches(consumers, 8);
    await resumed.stopWithSavepoint();
    await resumed.result();

    const ids = readCommitted<string>(outDir).map((line) => Number(line.split('|')[1]));
    expect(ids.length).toBe(7 * PER_SNAPSHOT);
    expect(new Set(ids).size).toBe(7 * PER_SNAPSHOT);
    // with the consumer at 8 the old snapshots may go now
    expect(await expireSnapshots(table, { retainMin: 1, retainMax: 1 })).toEqual([4, 5, 6]);
  });
});
