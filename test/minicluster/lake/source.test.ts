/**
 * The lake source on a mini-cluster: a bounded read at parallelism 2 returns the table (latest
 * snapshot, and an earlier one by id); a streaming job copies a table that another job is writing
 * (initial snapshot, then every change) and ends up equal to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { FileStoreTable, readTable } from 'weir/lake';
import writeJob from './jobs/pk-writes.ts';
import readJob, { rows } from './jobs/read-table.ts';
import { accountText, expectedRows, tableText } from './model.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-source-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cluster(name: string, intervalMs: number): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } },
  });
}

describe('lake source', () => {
  it('a batch read returns the latest snapshot, and an earlier one by id', async () => {
    const tablePath = path.join(root, 'batch', 'table');
    const params = { count: 4000, keys: 400, seed: 3, path: tablePath, writers: 2, ratePerSecond: 4000 };
    await cluster('batch-write', 200).execute(writeJob, { params, parallelism: 2 });
    const table = await FileStoreTable.open(tablePath);

    const latest = await cluster('batch-read', 200).execute(readJob, { params: { kind: 'batch', path: tablePath }, parallelism: 2 });
    expect(latest.get(rows).map(accountText).sort()).toEqual(expectedRows(params.count, params.keys, params.seed));

    const first = (await table.snapshots.listIds())[0]!;
    const old = await cluster('batch-read-old', 200).execute(readJob, { params: { kind: 'batch', path: tablePath, snapshotId: first }, parallelism: 2 });
    const expectedOld = (await readTable(table, { snapshotId: first })).map((r) => r.join('|')).sort();
    expect(old.get(rows).map(accountText).sort()).toEqual(expectedOld);
    expect(expectedOld.length).toBeGreaterThan(0);
  });

  it('a streaming job copies a table while another job writes it', async () => {
    const source = path.join(root, 'stream', 'source');
    const copy = path.join(root, 'stream', 'copy');
    const params = { count: 8000, keys: 600, seed: 5, path: source, writers: 2, ratePerSecond: 4000 };
    const writer = await cluster('stream-write', 150).submit(writeJob, { params, parallelism: 2 });
    const reader = await cluster('stream-read', 150).submit(readJob, { params: { kind: 'copy', path: source, copyTo: copy, pollIntervalMs: 50 }, parallelism: 2 });
    await writer.result();
    const expected = expectedRows(params.count, params.keys, params.seed);
    let copied: string[] = [];
    for (let attempt = 0; attempt < 300; attempt++) {
      try {
        copied = await tableText(await FileStoreTable.open(copy));
      } catch {
        copied = [];
      }
      if (copied.length === expected.length && copied.every((r, i) => r === expected[i])) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(reader.status).toBe('running');
    await reader.cancel();
    expect(copied).toEqual(expected);
  });
});
