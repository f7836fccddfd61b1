/**
 * The lake sink on a mini-cluster: a job writes inserts, updates and deletes into a primary-key
 * table through parallel writers and one committer; the table read back equals the in-memory model,
 * one APPEND snapshot per checkpoint (commitIdentifier = checkpoint id), compaction on (trigger 3 runs),
 * a small write buffer (files written between barriers, committed with the next one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { FileStoreTable, compactTable, readTable } from 'weir/lake';
import job from './jobs/pk-writes.ts';
import { duplicateCommits, expectedRows, snapshotSummaries, tableText } from './model.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-sink-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cluster(name: string, intervalMs: number): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } },
  });
}

describe('lake sink', () => {
  it('a primary-key table written with updates and deletes equals the model', async () => {
    const tablePath = path.join(root, 'pk', 'table');
    const params = { count: 6000, keys: 500, seed: 7, path: tablePath, writers: 2, ratePerSecond: 3000, compactionTrigger: 3, writeBufferRows: 400 };
    const handle = await cluster('pk', 150).submit(job, { params, parallelism: 2 });
    await handle.result();
    const table = await FileStoreTable.open(tablePath);
    expect(await tableText(table)).toEqual(expectedRows(params.count, params.keys, params.seed));

    const snapshots = await snapshotSummaries(table.snapshots);
    const appends = snapshots.filter((s) => s.commitKind === 'APPEND');
    expect(appends.length).toBeGreaterThanOrEqual(1);
    expect(new Set(appends.map((s) => s.commitIdentifier)).size).toBe(appends.length);
    expect(new Set(snapshots.map((s) => s.commitUser)).size).toBe(1);
    expect(duplicateCommits(snapshots)).toEqual([]);
    // each APPEND belongs to a checkpoint: completed, or subsumed by a later completed one
    const triggered = new Set(handle.checkpoints().map((c) => c.id));
    const lastCompleted = Math.max(...handle.checkpoints().filter((c) => c.status === 'completed').map((c) => c.id));
    for (const s of appends) {
      expect(triggered.has(s.commitIdentifier)).toBe(true);
      expect(s.commitIdentifier).toBeLessThanOrEqual(lastCompleted);
    }
  });

  it('a deletion-vector table written by the sink (background compaction on) equals the model, before and after a lookup compaction', async () => {
    const tablePath = path.join(root, 'dv', 'table');
    const params = { count: 3000, keys: 300, seed: 13, path: tablePath, writers: 2, ratePerSecond: 1000, writeBufferRows: 400, tableOptions: { 'deletion-vectors.enabled': 'true' } };
    const handle = await cluster('dv', 150).submit(job, { params, parallelism: 2 });
    await handle.result();
    const table = await FileStoreTable.open(tablePath);
    const text = (rows: unknown[][]) => rows.map((r) => r.join('|')).sort();
    const expected = expectedRows(params.count, params.keys, params.seed);
    // every level merged on read (the last commit's level-0 files may not be compacted yet)
    expect(text(await readTable(table, { allLevels: true }))).toEqual(expected);
    const summaries = await snapshotSummaries(table.snapshots);
    expect(summaries.some((s) => s.commitKind === 'COMPACT')).toBe(true); // the background compactor ran
    expect(duplicateCommits(summaries)).toEqual([]);
    // how many lookup rounds ran in the job depends on timing: one more here marks old rows in vectors
    await compactTable(table);
    const vectors = (await table.indexEntries((await table.snapshots.latest())!)).reduce((n, e) => n + (e.ranges?.length ?? 0), 0);
    expect(vectors).toBeGreaterThan(0);
    expect(await tableText(table)).toEqual(expected);
  });

  it('without checkpoints the sink commits once at the end of input', async () => {
    const tablePath = path.join(root, 'batch', 'table');
    const params = { count: 3000, keys: 300, seed: 11, path: tablePath, writers: 2 };
    await new MiniCluster({ workers: 2 }).execute(job, { params, parallelism: 2 });
    const table = await FileStoreTable.open(tablePath);
    expect(await tableText(table)).toEqual(expectedRows(params.count, params.keys, params.seed));
    const snapshots = await snapshotSummaries(table.snapshots);
    expect(snapshots.map((s) => s.commitKind)).toEqual(['APPEND']);
  });
});
