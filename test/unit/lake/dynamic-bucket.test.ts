/**
 * Dynamic bucket mode (`bucket = -1` on primary-key tables): each key gets a bucket once and keeps
 * it across writers that load the HASH index again (a restart), new buckets open at
 * `dynamic-bucket.target-row-num`, two assigners (writers) never claim one key, and the HASH index
 * files have Java's layout (big-endian int key hashes, one file per partition and bucket, listed in
 * the snapshot's index manifest with type HASH).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, FileStoreTable, TableWriter, TableCommit, readTable, compactTable, T, DELETE } from '../../../connectors/lake/index.ts';
import { planSplits } from '../../../connectors/lake/table/read.ts';
import { LookupChangelogProducer } from '../../../connectors/lake/table/changelog.ts';
import type { Snapshot } from '../../../connectors/lake/format/snapshot.ts';
import { assignerOf, dynamicBucketHashers } from '../../../connectors/lake/table/dynamic-bucket.ts';
import { HASH_INDEX, decodeHashIndex } from '../../../connectors/lake/format/hash-index.ts';
import { BinaryRowWriter } from '../../../connectors/lake/format/binary-row.ts';
import { tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

async function dynamicTable(options: Record<string, string> = {}, partitioned = false): Promise<FileStoreTable> {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  return new Catalog(tmp.dir).createTable('db', 't', {
    fields: [{ name: 'k', type: T.notNull(T.int()) }, { name: 'p', type: T.notNull(T.string()) }, { name: 'v', type: T.string() }],
    primaryKeys: partitioned ? ['k', 'p'] : ['k'],
    partitionKeys: partitioned ? ['p'] : [],
    options: { 'dynamic-bucket.target-row-num': '100', ...options },
  });
}

/** key -> bucket(s) holding it, from the live data files of the latest snapshot. */
async function bucketsOfKeys(t: FileStoreTable): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  const { splits } = await planSplits(t, { allLevels: true });
  for (const s of splits) {
    for (const e of s.files) {
      const batch = await t.readDataFile(e);
      for (const r of batch.rows) {
        const key = `${String(r[1])}|${String(r[0])}`;
        const set = out.get(key) ?? new Set<number>();
        set.add(s.bucket);
        out.set(key, set);
      }
    }
  }
  return out;
}

async function hashIndex(t: FileStoreTable): Promise<Map<string, { bucket: number; hashes: number[]; rowCount: number }>> {
  const latest = (await t.snapshots.latest())!;
  const out = new Map<string, { bucket: number; hashes: number[]; rowCount: number }>();
  for (const e of await t.indexEntries(latest)) {
    expect(e.indexType).toBe(HASH_INDEX);
    const p = path.join(t.path, 'index', e.fileName);
    out.set(`${e.partition}|${e.bucket}`, { bucket: e.bucket, hashes: [...decodeHashIndex(readFileSync(p), p)], rowCount: e.rowCount });
  }
  return out;
}

describe('dynamic bucket tables', () => {
  it('opens a new bucket at target-row-num and keeps every key in its bucket after a restart', async () => {
    const t = await dynamicTable();
    expect(t.options.dynamicBucket).toEqual({ targetRowNum: 100, maxBuckets: -1 });
    expect(t.totalBuckets).toBe(-1);
    let w = new TableWriter(t);
    for (let k = 0; k < 350; k++) w.write([k, 'a', `v${k}`]);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    const first = await bucketsOfKeys(t);
    const counts = new Map<number, number>();
    for (const b of first.values()) { expect(b.size).toBe(1); const [x] = b; counts.set(x!, (counts.get(x!) ?? 0) + 1); }
    expect([...counts].sort((a, b) => a[0] - b[0])).toEqual([[0, 100], [1, 100], [2, 100], [3, 50]]);

    // a new writer (a restart) loads the index: old keys stay, new keys fill bucket 3, then open 4
    const reopened = await FileStoreTable.open(t.path);
    w = new TableWriter(reopened);
    for (let k = 349; k >= 0; k -= 7) w.write([k, 'a', `w${k}`]);
    for (let k = 350; k < 420; k++) w.write([k, 'a', `v${k}`]);
    w.write([5, 'a', null], DELETE);
    await new TableCommit(reopened, 'u').commit(2, await w.prepareCommit());
    const second = await bucketsOfKeys(reopened);
    for (const [key, b] of first) expect(second.get(key)).toEqual(b);
    const newCounts = new Map<number, number>();
    for (let k = 350; k < 420; k++) { const [b] = second.get(`a|${k}`)!; newCounts.set(b!, (newCounts.get(b!) ?? 0) + 1); }
    expect([...newCounts].sort((a, b) => a[0] - b[0])).toEqual([[3, 50], [4, 20]]);

    // the index: one HASH file per bucket, its hashes the keys' BinaryRow hashes
    const { keyHash } = dynamicBucketHashers(reopened);
    const index = await hashIndex(reopened);
    expect([...index.values()].map((e) => e.bucket).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const e of index.values()) {
      expect(e.rowCount).toBe(e.hashes.length);
      const keys = [...second].filter(([, b]) => b.has(e.bucket)).map(([key]) => keyHash([Number(key.split('|')[1]), 'a', null]));
      expect(new Set(e.hashes)).toEqual(new Set(keys));
    }
    // batch read: merged per bucket, as for fixed buckets
    const rows = (await readTable(reopened)).map((r) => `${r[0]}=${r[2]}`).sort();
    const expected: string[] = [];
    for (let k = 0; k < 420; k++) if (k !== 5) expected.push(`${k}=${k < 350 && k % 7 === 349 % 7 ? 'w' : 'v'}${k}`);
    expect(rows).toEqual(expected.sort());
    // compaction keeps the dynamic buckets and the index
    await compactTable(reopened, { full: true });
    expect((await readTable(reopened)).length).toBe(419);
    expect((await hashIndex(reopened)).size).toBe(5);
  });

  it('two assigners never claim one key, and each opens only its own buckets', async () => {
    const t = await dynamicTable({}, true);
    const { keyHash, partitionHash } = dynamicBucketHashers(t);
    const run = async (id: number, rows: unknown[][]) => {
      const writers = [0, 1].map((assignId) => new TableWriter(t, { assigner: { numAssigners: 2, assignId } }));
      for (const r of rows) writers[assignerOf(partitionHash(r), keyHash(r), 2)]!.write(r);
      const messages = [...(await writers[0]!.prepareCommit()), ...(await writers[1]!.prepareCommit())];
      await new TableCommit(t, 'u').commit(id, messages);
    };
    const rows = (from: number, to: number, tag: string) => Array.from({ length: to - from }, (_, i) => [from + i, (from + i) % 3 === 0 ? 'x' : 'y', tag]);
    await run(1, rows(0, 500, 'a'));
    await run(2, [...rows(250, 900, 'b')]);
    // a writer handed a key of the other assigner refuses it (routing bug), rather than claiming it
    const w = new TableWriter(t, { assigner: { numAssigners: 2, assignId: 0 } });
    const foreign = rows(0, 50, 'c').find((r) => assignerOf(partitionHash(r), keyHash(r), 2) === 1)!;
    w.write(foreign);
    await expect(w.prepareCommit()).rejects.toThrow(/belongs to assigner 1/);

    const keys = await bucketsOfKeys(t);
    expect(keys.size).toBe(900);
    for (const [key, b] of keys) {
      expect(b.size, key).toBe(1);
      const [k, p] = [Number(key.split('|')[1]), key.split('|')[0]];
      const [bucket] = b;
      // the key's assigner opened its bucket: bucket % 2 == assigner
      expect(bucket! % 2, key).toBe(assignerOf(partitionHash([k, p, null]), keyHash([k, p, null]), 2));
    }
    const index = await hashIndex(t);
    for (const e of index.values()) expect(e.rowCount).toBeLessThanOrEqual(100);
    const total = [...index.values()].reduce((n, e) => n + e.rowCount, 0);
    expect(total).toBe(900);
    expect((await readTable(t)).filter((r) => r[2] === 'b').length).toBe(650);
  });

  it('a restored writer sees the assignments of files not committed yet (pending index files)', async () => {
    const t = await dynamicTable({ 'dynamic-bucket.target-row-num': '10' });
    const a = new TableWriter(t);
    for (let k = 0; k < 35; k++) a.write([k, 'a', 'first']);
    const held = await a.prepareCommit();      // in a checkpoint, not yet committed
    const b = new TableWriter(t);
    b.dynamic!.seedPending(a.dynamic!.pendingFiles());
    for (let k = 44; k >= 0; k--) b.write([k, 'a', 'second']);  // another order: fresh assignment would differ
    const next = await b.prepareCommit();    // assigns before the held files are committed
    const commit = new TableCommit(t, 'u');
    await commit.commit(1, held);
    await commit.commit(2, next);
    const keys = await bucketsOfKeys(t);
    for (const [key, set] of keys) expect(set.size, key).toBe(1);
    expect(new Set([...keys.values()].map((s) => [...s][0])).size).toBe(5);
    await b.dynamic!.prunePending();
    expect(b.dynamic!.pendingFiles()).toEqual([]);
  });

  it('with deletion vectors: lookup and full compactions replace the vectors and keep the HASH index', async () => {
    const t = await dynamicTable({ 'dynamic-bucket.target-row-num': '20', 'deletion-vectors.enabled': 'true' });
    const commit = new TableCommit(t, 'u');
    for (let round = 0; round < 3; round++) {
      const w = new TableWriter(t);
      for (let k = 0; k < 50; k++) if ((k + round) % 2 === 0) w.write([k, 'a', `r${round}`]);
      await commit.commit(round + 1, await w.prepareCommit());
      await compactTable(t);
    }
    const types = async () => (await t.indexEntries((await t.snapshots.latest())!)).map((e) => `${e.indexType}:${e.bucket}`).sort();
    expect((await types()).filter((x) => x.startsWith('HASH'))).toEqual(['HASH:0', 'HASH:1', 'HASH:2']);
    expect((await types()).some((x) => x.startsWith('DELETION_VECTORS'))).toBe(true);
    await compactTable(t, { full: true });
    expect(await types()).toEqual(['HASH:0', 'HASH:1', 'HASH:2']);
    const rows = (await readTable(t)).map((r) => `${r[0]}=${r[2]}`).sort();
    expect(rows).toEqual(Array.from({ length: 50 }, (_, k) => `${k}=r${k % 2 === 0 ? 2 : 1}`).sort());
    for (const set of (await bucketsOfKeys(t)).values()) expect(set.size).toBe(1);
  });

  it('lookup changelog producer: a key updated in its bucket gives -U/+U, across buckets and writers', async () => {
    const t = await dynamicTable({ 'dynamic-bucket.target-row-num': '2', 'changelog-producer': 'lookup' });
    const kinds = ['+I', '-U', '+U', '-D'];
    const commitWith = async (id: number, rows: Array<[unknown[], number]>) => {
      const w = new TableWriter(t);
      for (const [r, k] of rows) w.write(r, k);
      const produced = await new LookupChangelogProducer(t).produce(await w.prepareCommit());
      await new TableCommit(t, 'u').commit(id, produced.messages);
      produced.apply();
      const out: string[] = [];
      for (const e of await t.changelogEntries(await t.snapshots.latest() as Snapshot)) {
        const b = await t.readDataFile(e);
        b.rows.forEach((r, i) => out.push(`${kinds[b.kinds[i]!]} ${r[0]}=${r[2]}`));
      }
      return out.sort();
    };
    expect(await commitWith(1, [[[1, 'a', 'x'], 0], [[2, 'a', 'y'], 0], [[3, 'a', 'z'], 0], [[4, 'a', 'w'], 0], [[5, 'a', 'v'], 0]])).toEqual(['+I 1=x', '+I 2=y', '+I 3=z', '+I 4=w', '+I 5=v']);
    expect(await commitWith(2, [[[5, 'a', 'v2'], 0], [[1, 'a', 'x'], 3], [[6, 'a', 'u'], 0], [[3, 'a', 'z'], 0]])).toEqual(['+I 6=u', '+U 5=v2', '-D 1=x', '-U 5=v']);
    for (const set of (await bucketsOfKeys(t)).values()) expect(set.size).toBe(1);
    expect((await hashIndex(t)).size).toBe(3);
  });

  it('max-buckets caps the buckets; options are checked', async () => {
    const t = await dynamicTable({ 'dynamic-bucket.target-row-num': '10', 'dynamic-bucket.max-buckets': '3' });
    const w = new TableWriter(t);
    for (let k = 0; k < 100; k++) w.write([k, 'a', 'v']);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    const keys = await bucketsOfKeys(t);
    expect(new Set([...keys.values()].map((s) => [...s][0]))).toEqual(new Set([0, 1, 2]));
    await expect(dynamicTable({ 'bucket-key': 'k' })).rejects.toThrow(/bucket-key/);
    await expect(dynamicTable({ bucket: '-2' })).rejects.toThrow(/bucket/);
  });

  it('hash index files are big-endian ints of the key BinaryRow hash (Java HashIndexFile)', async () => {
    const t = await dynamicTable();
    const w = new TableWriter(t);
    w.write([7, 'a', 'v']);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    const latest = (await t.snapshots.latest())!;
    const [e] = await t.indexEntries(latest);
    expect(e).toMatchObject({ kind: 0, bucket: 0, indexType: 'HASH', fileSize: 4, rowCount: 1, ranges: null });
    const bytes = readFileSync(path.join(t.path, 'index', e!.fileName));
    const row = new BinaryRowWriter([T.notNull(T.int())]);
    row.encode([7]);
    const expected = Buffer.alloc(4);
    expected.writeInt32BE(row.hash());
    expect(Buffer.from(bytes)).toEqual(expected);
    expect(latest.commitKind).toBe('APPEND');
  });
});
