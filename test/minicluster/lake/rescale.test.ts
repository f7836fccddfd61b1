/**
 * Rescaling through a savepoint: a job writing a table with 2 writers is stopped with a savepoint
 * and resumed with 3 (the committer keeps its commitUser, writers continue their buckets' sequence
 * numbers), and the table equals the model; a streaming read stopped at parallelism 2 and resumed at
 * 3 hands each bucket's position to its new subtask and delivers every change once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster } from 'weir';
import { FileStoreTable, IncrementalReader } from 'weir/lake';
import { rowKindOfByte } from '../../../operators/changelog.ts';
import { readCommitted } from '../../harness/transactional-sink.ts';
import writeJob from './jobs/pk-writes.ts';
import readJob from './jobs/read-table.ts';
import { duplicateCommits, expectedRows, snapshotSummaries, tableText } from './model.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-rescale-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Clusters of one test share the checkpoint storage, where savepoints are found. */
function cluster(name: string, workers = 2): MiniCluster {
  return new MiniCluster({ workers, workDir: path.join(root, name, `work-${workers}`), checkpoints: { intervalMs: 150, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } } });
}

async function afterCheckpoints(handle: JobHandle, n: number): Promise<void> {
  while (handle.checkpoints().filter((c) => c.status === 'completed').length < n) await new Promise((r) => setTimeout(r, 20));
}

describe('lake rescale', () => {
  it('a sink resumed from a savepoint with more writers writes the model', async () => {
    const tablePath = path.join(root, 'sink', 'table');
    const params = { count: 12_000, keys: 800, seed: 13, path: tablePath, ratePerSecond: 3000 };
    const first = await cluster('sink').submit(writeJob, { params: { ...params, writers: 2 }, parallelism: 2 });
    await afterCheckpoints(first, 3);
    const savepoint = await first.stopWithSavepoint();
    const before = await snapshotSummaries((await FileStoreTable.open(tablePath)).snapshots);
    expect(before.length).toBeGreaterThan(0);

    await cluster('sink', 3).execute(writeJob, { params: { ...params, writers: 3 }, parallelism: 3, restoreFrom: savepoint });
    const table = await FileStoreTable.open(tablePath);
    expect(await tableText(table)).toEqual(expectedRows(params.count, params.keys, params.seed));
    const snapshots = await snapshotSummaries(table.snapshots);
    expect(new Set(snapshots.map((s) => s.commitUser)).size).toBe(1);
    expect(duplicateCommits(snapshots)).toEqual([]);
  });

  it('a streaming read resumed at another parallelism delivers every change once', async () => {
    const tablePath = path.join(root, 'source', 'table');
    await cluster('source-write').execute(writeJob, { params: { count: 20_000, keys: 4000, seed: 17, path: tablePath, writers: 2, ratePerSecond: 10_000 }, parallelism: 2 });
    const table = await FileStoreTable.open(tablePath);
    const expected: string[] = [];
    const reader = new IncrementalReader(table, 0);
    for (let batch = await reader.next(); batch; batch = await reader.next()) batch.rows.forEach((r, i) => expected.push(`${rowKindOfByte(batch.kinds[i]!)}|${r.join('|')}`));
    expected.sort();

    const outDir = path.join(root, 'source', 'out');
    const params = { kind: 'changes-to-files' as const, path: tablePath, outDir, pollIntervalMs: 20 };
    const first = await cluster('source-read').submit(readJob, { params, parallelism: 2 });
    while (readCommitted<string>(outDir).length === 0) await new Promise((r) => setTimeout(r, 20));
    const savepoint = await first.stopWithSavepoint();
    const atSavepoint = readCommitted<string>(outDir).length;
    expect(atSavepoint).toBeLessThan(expected.length);

    const second = await cluster('source-read', 3).submit(readJob, { params, parallelism: 3, restoreFrom: savepoint });
    for (let i = 0; i < 600 && readCommitted<string>(outDir).length < expected.length; i++) await new Promise((r) => setTimeout(r, 25));
    await afterCheckpoints(second, 2);
    await second.cancel();
    expect(readCommitted<string>(outDir).sort()).toEqual(expected);
  });
});
