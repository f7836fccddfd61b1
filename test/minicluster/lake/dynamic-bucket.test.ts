/**
 * A dynamic-bucket table (`bucket = -1`) written by two writers with worker kills at seeded counts
 * of completed checkpoints: every key lives in exactly one bucket (data files and HASH index agree),
 * buckets hold at most `dynamic-bucket.target-row-num` keys, the table equals the model (brute-force
 * replay of the operations), and the lake source reads it (batch and streaming).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, SeededRandom } from 'weir';
import { FileStoreTable, IncrementalReader, readTable } from 'weir/lake';
import { rowKindOfByte } from '../../../operators/changelog.ts';
import { decodeHashIndex } from '../../../connectors/lake/format/hash-index.ts';
import { assignerOf, dynamicBucketHashers } from '../../../connectors/lake/table/dynamic-bucket.ts';
import { planSplits } from '../../../connectors/lake/table/read.ts';
import { readCommitted } from '../../harness/transactional-sink.ts';
import { killAtCompletedCounts } from '../../harness/kills.ts';
import writeJob, { operation } from './jobs/pk-writes.ts';
import readJob, { rows } from './jobs/read-table.ts';
import { accountText, duplicateCommits, expectedRows, snapshotSummaries, tableText } from './model.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-dynbucket-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TARGET = 150;

function cluster(name: string, restarts = false): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs: 150, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } },
    ...(restarts ? { restartStrategy: { kind: 'fixed-delay' as const, attempts: 20, delayMs: 20 } } : {}),
  });
}

/** Key -> the buckets whose live files (every level) hold it. */
async function bucketsOfKeys(table: FileStoreTable): Promise<Map<number, Set<number>>> {
  const out = new Map<number, Set<number>>();
  const { splits } = await planSplits(table, { allLevels: true });
  for (const s of splits) {
    for (const e of s.files) for (const r of (await table.readDataFile(e)).rows) out.set(r[0] as number, (out.get(r[0] as number) ?? new Set()).add(s.bucket));
  }
  return out;
}

/** Ids the pk-writes job writes (inserted, updated or deleted). */
function touchedKeys(count: number, keys: number, seed: number): Set<number> {
  const random = new SeededRandom();
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(operation(i, random.reset(seed, i), keys).row.id);
  return out;
}

describe('dynamic bucket table on a mini-cluster', () => {
  const tablePath = path.join(root, 'table');
  const params = { count: 8000, keys: 1200, seed: 29, path: tablePath, writers: 2, ratePerSecond: 6000, writeBufferRows: 700, tableOptions: { bucket: '-1', 'dynamic-bucket.target-row-num': String(TARGET) } };

  it('two writers with kills: each key in one bucket, the index agrees, the table equals the model', async () => {
    const handle = await cluster('write', true).submit(writeJob, { params, parallelism: 2 });
    killAtCompletedCounts(handle, new SeededRandom(616));
    await handle.result();
    expect(handle.restarts).toBeGreaterThanOrEqual(1);
    const table = await FileStoreTable.open(tablePath);
    expect(await tableText(table)).toEqual(expectedRows(params.count, params.keys, params.seed));
    expect(duplicateCommits(await snapshotSummaries(table.snapshots))).toEqual([]);

    // every key (live or deleted) in exactly one bucket, across all live files of every level
    const bucketsOf = await bucketsOfKeys(table);
    expect([...bucketsOf].filter(([, b]) => b.size > 1)).toEqual([]);
    // the HASH index: one file per bucket, holding exactly the hashes of the keys in that bucket
    const { keyHash, partitionHash } = dynamicBucketHashers(table);
    const index = await table.indexEntries((await table.snapshots.latest())!);
    const buckets = new Set([...bucketsOf.values()].map((b) => [...b][0]!));
    const indexBuckets = new Set(index.map((e) => e.bucket));
    expect(indexBuckets.size).toBe(index.length); // one HASH file per bucket
    for (const b of buckets) expect(indexBuckets.has(b), `bucket ${b}`).toBe(true);
    expect(buckets.size).toBeGreaterThanOrEqual(Math.ceil(bucketsOf.size / TARGET));
    // every key ever written (a delete of an unknown key too) is in the index once; a key's rows
    // are in the bucket whose file holds its hash (a key deleted and compacted away keeps its hash)
    const indexed = new Map<number, number>();
    for (const e of index) {
      const p = path.join(tablePath, 'index', e.fileName);
      const hashes = [...decodeHashIndex(readFileSync(p), p)];
      expect(hashes.length).toBe(e.rowCount);
      expect(hashes.length).toBeLessThanOrEqual(TARGET);
      for (const h of hashes) {
        expect(indexed.has(h), `hash ${h} in two buckets`).toBe(false);
        indexed.set(h, e.bucket);
      }
    }
    const written = touchedKeys(params.count, params.keys, params.seed);
    expect(indexed.size).toBe(written.size);
    for (const id of written) {
      const key = [id, null, null, null];
      const bucket = indexed.get(keyHash(key));
      expect(bucket, `key ${id}`).toBeDefined();
      if (bucketsOf.has(id)) expect(bucketsOf.get(id), `key ${id}`).toEqual(new Set([bucket]));
      // writer w (of 2) opens buckets b with b % 2 == w, and owns the keys routed to it
      expect(assignerOf(partitionHash(key), keyHash(key), 2), `key ${id}`).toBe(bucket! % 2);
    }
  });

  it('the lake source reads it: a batch read equals the model, a streaming read delivers every change', async () => {
    const batch = await cluster('batch-read').execute(readJob, { params: { kind: 'batch', path: tablePath }, parallelism: 2 });
    expect(batch.get(rows).map(accountText).sort()).toEqual(expectedRows(params.count, params.keys, params.seed));

    const table = await FileStoreTable.open(tablePath);
    const expected: string[] = [];
    const reader = new IncrementalReader(table, 0);
    for (let b = await reader.next(); b; b = await reader.next()) b.rows.forEach((r, i) => expected.push(`${rowKindOfByte(b.kinds[i]!)}|${r.join('|')}`));
    expect(expected.length).toBeGreaterThan(0);
    const outDir = path.join(root, 'stream-out');
    const handle = await cluster('stream-read').submit(readJob, { params: { kind: 'changes-to-files', path: tablePath, outDir, pollIntervalMs: 20, busyMs: 0 }, parallelism: 2 });
    for (let i = 0; i < 2000 && readCommitted<string>(outDir).length < expected.length; i++) await new Promise((r) => setTimeout(r, 25));
    await handle.cancel();
    expect(readCommitted<string>(outDir).sort()).toEqual(expected.sort());
    expect((await readTable(table)).length).toBe(expectedRows(params.count, params.keys, params.seed).length);
  });

  it('resumed from a savepoint with 3 writers instead of 2, every key keeps its bucket', async () => {
    const rescaled = path.join(root, 'rescaled');
    const p = { ...params, path: rescaled, count: 6000, ratePerSecond: 3000 };
    const first = await cluster('rescale-2').submit(writeJob, { params: p, parallelism: 2 });
    while (first.checkpoints().filter((c) => c.status === 'completed').length < 3) await new Promise((r) => setTimeout(r, 20));
    const savepoint = await first.stopWithSavepoint();
    const before = await bucketsOfKeys(await FileStoreTable.open(rescaled));
    expect(before.size).toBeGreaterThan(0);
    await new MiniCluster({ workers: 3, workDir: path.join(root, 'rescale-3', 'work'), checkpoints: { intervalMs: 150, storage: { kind: 'local', dir: path.join(root, 'rescale-2', 'checkpoints') } } })
      .execute(writeJob, { params: { ...p, writers: 3 }, parallelism: 3, restoreFrom: savepoint });
    const table = await FileStoreTable.open(rescaled);
    expect(await tableText(table)).toEqual(expectedRows(p.count, p.keys, p.seed));
    const after = await bucketsOfKeys(table);
    expect([...after].filter(([, b]) => b.size > 1)).toEqual([]);
    // (a deleted key may be gone from the files after a compaction; if it came back, it is in its old bucket)
    let kept = 0;
    for (const [id, b] of before) if (after.has(id)) { kept++; expect(after.get(id), `key ${id}`).toEqual(b); }
    expect(kept).toBeGreaterThan(before.size / 2);
  });
});
