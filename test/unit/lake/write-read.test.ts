/** Weir writes, Weir (and DuckDB) read back: append and primary-key tables, every merge engine, compaction. */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  Catalog, TableWriter, TableCommit, readTable, compactTable, planCompaction, runCompactTask, IncrementalReader, expireSnapshots, removeOrphanFiles,
  FileStoreTable, T, DELETE, UPDATE_BEFORE, UPDATE_AFTER, type SchemaDefinition,
} from '../../../connectors/lake/index.ts';
import { copyTestTable, sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

function warehouse(): Catalog {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return new Catalog(t.dir);
}

async function writeCommit(table: FileStoreTable, commitUser: string, id: number, rows: Array<[Record<string, unknown>, number?]>): Promise<number[]> {
  const w = new TableWriter(table);
  for (const [r, k] of rows) w.write(r, k ?? 0);
  return new TableCommit(table, commitUser).commit(id, await w.prepareCommit());
}

const kv = (opts: Record<string, string>, extra: Partial<SchemaDefinition> = {}): SchemaDefinition => ({
  fields: [{ name: 'k', type: T.int() }, { name: 'a', type: T.bigint() }, { name: 'b', type: T.string() }, { name: 'c', type: T.double() }],
  primaryKeys: ['k'],
  options: { bucket: '2', ...opts },
  ...extra,
});

describe('lake write then read', () => {
  it('append table with partitions, buckets, nested and decimal/timestamp columns', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'events', {
      fields: [
        { name: 'day', type: T.date() }, { name: 'id', type: T.bigint() }, { name: 'amount', type: T.decimal(20, 4) },
        { name: 'at', type: T.timestamp(6) }, { name: 'tags', type: T.array(T.string()) },
        { name: 'attrs', type: T.map(T.string(), T.int()) }, { name: 'point', type: T.row([{ id: 10, name: 'x', type: T.double() }, { id: 11, name: 'y', type: T.double() }]) },
      ],
      partitionKeys: ['day'],
      options: { bucket: '3', 'bucket-key': 'id' },
    });
    const rows: Array<[Record<string, unknown>]> = [];
    for (let i = 0; i < 200; i++) {
      rows.push([{ day: 19000 + (i % 3), id: BigInt(i), amount: `${i}.${i % 10}`, at: 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
        tags: i % 5 === 0 ? null : [`t${i}`, 'x'], attrs: new Map([['n', i]]), point: { x: i, y: -i } }]);
    }
    expect(await writeCommit(t, 'u', 1, rows.slice(0, 120))).toEqual([1]);
    expect(await writeCommit(t, 'u', 2, rows.slice(120))).toEqual([2]);
    const back = await readTable(t);
    expect(back.length).toBe(200);
    const expected = rows.map(([r]) => [r.day, r.id, `${String(r.amount).split('.')[0]}.${String(r.amount).split('.')[1]}000`, r.at, r.tags, r.attrs, r.point]);
    expect(sortedText(back)).toEqual(sortedText(expected));
    expect((await readTable(t, { snapshotId: 1 })).length).toBe(120);
    const dirs = readdirSync(t.path).filter((d) => d.startsWith('day='));
    expect(dirs.sort()).toEqual(['day=2022-01-08', 'day=2022-01-09', 'day=2022-01-10']);
    // partition pruning
    expect((await readTable(t, { filter: [{ field: 'day', op: '=', value: 19001 }] })).length).toBe(67);
    expect((await readTable(t, { filter: [{ field: 'id', op: 'in', value: [5n, 6n] }] })).length).toBe(2);
  });

  it('deduplicate: upserts and deletes, with sequence.field', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'dedup', kv({}));
    await writeCommit(t, 'u', 1, [[{ k: 1, a: 1n, b: 'x', c: 1 }], [{ k: 2, a: 2n, b: 'y', c: 2 }], [{ k: 3, a: 3n, b: 'z', c: 3 }]]);
    await writeCommit(t, 'u', 2, [[{ k: 1, a: 1n, b: 'x', c: 1 }, UPDATE_BEFORE], [{ k: 1, a: 10n, b: 'x2', c: 1.5 }, UPDATE_AFTER], [{ k: 2, a: 0n, b: '', c: 0 }, DELETE]]);
    expect(sortedText(await readTable(t))).toEqual(sortedText([[1, 10n, 'x2', 1.5], [3, 3n, 'z', 3]]));
    expect(sortedText(await readTable(t, { snapshotId: 1 }))).toEqual(sortedText([[1, 1n, 'x', 1], [2, 2n, 'y', 2], [3, 3n, 'z', 3]]));

    const s = await cat.createTable('db', 'seqfield', kv({ 'sequence.field': 'a' }));
    await writeCommit(s, 'u', 1, [[{ k: 1, a: 5n, b: 'newer', c: 0 }]]);
    await writeCommit(s, 'u', 2, [[{ k: 1, a: 3n, b: 'older-arrives-late', c: 0 }], [{ k: 2, a: 1n, b: 'q', c: 0 }]]);
    expect(sortedText(await readTable(s))).toEqual(sortedText([[1, 5n, 'newer', 0], [2, 1n, 'q', 0]]));
  });

  it('partial-update keeps non-null fields; ignore-delete drops deletes', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'pu', kv({ 'merge-engine': 'partial-update', 'ignore-delete': 'true' }));
    await writeCommit(t, 'u', 1, [[{ k: 1, a: 1n, b: null, c: null }], [{ k: 2, a: null, b: 'b2', c: null }]]);
    await writeCommit(t, 'u', 2, [[{ k: 1, a: null, b: 'b1', c: null }], [{ k: 1, a: null, b: null, c: 1.5 }], [{ k: 2, a: 0n, b: null, c: null }, DELETE]]);
    expect(sortedText(await readTable(t))).toEqual(sortedText([[1, 1n, 'b1', 1.5], [2, null, 'b2', null]]));
  });

  it('aggregation: sum, max, min, count, last_value, last_non_null_value, first_value, listagg, bool_and, bool_or', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'agg', {
      fields: [
        { name: 'k', type: T.int() }, { name: 's', type: T.bigint() }, { name: 'mx', type: T.int() }, { name: 'mn', type: T.double() },
        { name: 'cnt', type: T.bigint() }, { name: 'lv', type: T.string() }, { name: 'lnn', type: T.string() }, { name: 'fv', type: T.string() },
        { name: 'la', type: T.string() }, { name: 'band', type: T.boolean() }, { name: 'bor', type: T.boolean() },
      ],
      primaryKeys: ['k'],
      options: {
        bucket: '1', 'merge-engine': 'aggregation',
        'fields.s.aggregate-function': 'sum', 'fields.mx.aggregate-function': 'max', 'fields.mn.aggregate-function': 'min',
        'fields.cnt.aggregate-function': 'count', 'fields.lv.aggregate-function': 'last_value', 'fields.lnn.aggregate-function': 'last_non_null_value',
        'fields.fv.aggregate-function': 'first_value', 'fields.la.aggregate-function': 'listagg', 'fields.band.aggregate-function': 'bool_and',
        'fields.bor.aggregate-function': 'bool_or',
      },
    });
    const r = (s: bigint, mx: number, mn: number, lv: string | null, lnn: string | null, fv: string, la: string, band: boolean, bor: boolean) =>
      ({ k: 1, s, mx, mn, cnt: 1n, lv, lnn, fv, la, band, bor });
    await writeCommit(t, 'u', 1, [[r(5n, 3, 2.5, 'a', 'a', 'first', 'x', true, false)], [r(7n, 9, 1.5, 'b', null, 'second', 'y', true, false)]]);
    await writeCommit(t, 'u', 2, [[r(-2n, 4, 0.5, null, null, 'third', 'z', false, true)]]);
    // count counts merged inputs, as Paimon's: the write buffer merged commit 1 into one record, so 1 + 1
    expect(await readTable(t)).toEqual([[1, 10n, 9, 0.5, 2n, null, 'a', 'first', 'x,y,z', false, true]]);
    // sum retracts
    await writeCommit(t, 'u', 3, [[{ k: 1, s: 10n, mx: null, mn: null, cnt: null, lv: null, lnn: null, fv: null, la: null, band: null, bor: null }, UPDATE_BEFORE]]);
    const [row] = await readTable(t);
    expect(row![1]).toBe(0n);
  });

  it('first-row keeps the first row of each key', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'fr', kv({ 'merge-engine': 'first-row' }));
    await writeCommit(t, 'u', 1, [[{ k: 1, a: 1n, b: 'first', c: 0 }], [{ k: 1, a: 2n, b: 'second', c: 0 }]]);
    await writeCommit(t, 'u', 2, [[{ k: 1, a: 3n, b: 'third', c: 0 }], [{ k: 2, a: 4n, b: 'only', c: 0 }]]);
    // as Java: a batch read of a first-row table sees no level-0 file until compaction moves it up
    expect(await readTable(t)).toEqual([]);
    expect((await planCompaction(t)).length).toBe(1);
    await compactTable(t);
    expect(sortedText(await readTable(t))).toEqual(sortedText([[1, 1n, 'first', 0], [2, 4n, 'only', 0]]));
  });

  it('DuckDB reads the data files Weir writes', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'duck', {
      fields: [{ name: 'id', type: T.int() }, { name: 'name', type: T.string() }, { name: 'v', type: T.bigint() }, { name: 'd', type: T.decimal(12, 3) }, { name: 'ts', type: T.timestamp(6) }],
      primaryKeys: ['id'], options: { bucket: '1' },
    });
    const rows = Array.from({ length: 50 }, (_, i) => [{ id: i, name: `n${i}`, v: BigInt(i) * 1_000_000_000_000n, d: `${i}.125`, ts: 1_600_000_000_000_000_000n + BigInt(i) * 1000n }] as [Record<string, unknown>]);
    await writeCommit(t, 'u', 1, rows);
    const files = readdirSync(path.join(t.path, 'bucket-0')).filter((f) => f.endsWith('.parquet'));
    expect(files.length).toBe(1);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const reader = await conn.runAndReadAll(`SELECT _KEY_id, _SEQUENCE_NUMBER, _VALUE_KIND, id, name, CAST(v AS VARCHAR) AS v, CAST(d AS VARCHAR) AS d, epoch_us(ts) AS ts FROM read_parquet('${path.join(t.path, 'bucket-0', files[0]!)}') ORDER BY id`);
    const got = reader.getRowObjectsJS();
    expect(got.length).toBe(50);
    expect(got[7]).toEqual({ _KEY_id: 7, _SEQUENCE_NUMBER: 7n, _VALUE_KIND: 0, id: 7, name: 'n7', v: '7000000000000', d: '7.125', ts: 1_600_000_000_000_007n });
    conn.closeSync();
  });

  it('compaction keeps the rows, reduces files, and the table stays readable after expiry and orphan cleanup', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'cmp', kv({ 'num-sorted-run.compaction-trigger': '3' }));
    const model = new Map<number, unknown[]>();
    for (let c = 1; c <= 6; c++) {
      const batch: Array<[Record<string, unknown>, number?]> = [];
      for (let k = 0; k < 40; k++) {
        if ((k + c) % 7 === 0) { batch.push([{ k, a: 0n, b: '', c: 0 }, DELETE]); model.delete(k); continue; }
        const row = { k, a: BigInt(c * 100 + k), b: `c${c}`, c: c + k / 10 };
        batch.push([row]);
        model.set(k, [k, row.a, row.b, row.c]);
      }
      await writeCommit(t, 'writer', c, batch);
    }
    const before = await t.liveEntries((await t.snapshots.latest())!);
    expect(before.length).toBe(12);
    const snap = await compactTable(t);
    expect(snap).not.toBeNull();
    expect((await t.snapshots.snapshot(snap!)).commitKind).toBe('COMPACT');
    const after = await t.liveEntries((await t.snapshots.latest())!);
    expect(after.length).toBe(2);
    expect(after.every((e) => e.file.level === t.options.numLevels - 1 && e.file.fileSource === 1)).toBe(true);
    expect(sortedText(await readTable(t))).toEqual(sortedText([...model.values()]));
    // time travel before the compaction still works
    expect((await readTable(t, { snapshotId: 1 })).length).toBe(40 - 5);
    // keep writing after compaction: sequence numbers continue above the compacted file
    await writeCommit(t, 'writer', 7, [[{ k: 1, a: 999n, b: 'late', c: 9 }]]);
    model.set(1, [1, 999n, 'late', 9]);
    expect(sortedText(await readTable(t))).toEqual(sortedText([...model.values()]));
    const expired = await expireSnapshots(t, { retainMin: 2, olderThanMs: 0 });
    expect(expired.length).toBe(6);
    expect(await t.snapshots.earliestId()).toBe(7);
    expect(sortedText(await readTable(t))).toEqual(sortedText([...model.values()]));
    // an uncommitted file is an orphan
    const w = new TableWriter(t);
    w.write({ k: 100, a: 1n, b: 'never committed', c: 0 });
    await w.prepareCommit();
    const removed = await removeOrphanFiles(t, { olderThanMs: 0, now: Date.now() + 1000 });
    expect(removed.length).toBe(1);
    expect(sortedText(await readTable(t))).toEqual(sortedText([...model.values()]));
  });

  it('compaction tasks are plain data: a JSON round trip (as to a worker) runs and commits', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'tasks', kv({}));
    for (let c = 1; c <= 3; c++) await writeCommit(t, 'w', c, [[{ k: 1, a: BigInt(c), b: `c${c}`, c: 0 }], [{ k: c + 1, a: 0n, b: 'x', c: 0 }]]);
    const tasks = await planCompaction(t, { full: true });
    expect(tasks.length).toBeGreaterThan(0);
    const shipped = tasks.map((task) => JSON.parse(JSON.stringify(task)) as typeof task);
    const messages = await Promise.all(shipped.map((task) => runCompactTask(task)));
    const back = JSON.parse(JSON.stringify(messages)) as typeof messages;
    expect(await new TableCommit(t, 'compactor').commitCompaction(1, back)).toEqual([4]);
    expect(sortedText(await readTable(t))).toEqual(sortedText([[1, 3n, 'c3', 0], [2, 0n, 'x', 0], [3, 0n, 'x', 0], [4, 0n, 'x', 0]]));
    expect((await t.liveEntries((await t.snapshots.latest())!)).length).toBe(tasks.length);
  });

  it('incremental reader returns each APPEND snapshot\'s changes with row kinds', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'inc', kv({}));
    await writeCommit(t, 'u', 1, [[{ k: 1, a: 1n, b: 'x', c: 1 }], [{ k: 2, a: 2n, b: 'y', c: 2 }]]);
    await compactTable(t, { full: true });
    await writeCommit(t, 'u', 2, [[{ k: 1, a: 1n, b: 'x', c: 1 }, DELETE], [{ k: 3, a: 3n, b: 'z', c: 3 }]]);
    const inc = new IncrementalReader(t, 0);
    const b1 = await inc.next();
    expect(b1?.snapshotId).toBe(1);
    expect(b1?.rows.length).toBe(2);
    const b2 = await inc.next();
    expect(b2?.snapshotId).toBe(3);
    expect(sortedText(b2!.rows.map((r, i) => [b2!.kinds[i], ...r]))).toEqual(sortedText([[3, 1, 1n, 'x', 1], [0, 3, 3n, 'z', 3]]));
    expect(await inc.next()).toBeNull();
  });

  it('appends to a Java-written table (copied) and reads Java and Weir rows together', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const p = copyTestTable('pk_table_scan_and_read_mor', tmp.dir);
    const t = await FileStoreTable.open(p);
    const w = new TableWriter(t);
    w.write({ f0: 'Bob', f1: 10, f2: 0, f3: 99.9 });
    w.write({ f0: 'Zed', f1: 30, f2: 1, f3: 1 });
    w.write({ f0: 'Paul', f1: 20, f2: 1, f3: 0 }, DELETE);
    await new TableCommit(t, 'weir').commit(1, await w.prepareCommit());
    const rows = await readTable(t);
    const byName = new Map(rows.map((r) => [r[0], r]));
    expect(byName.get('Bob')).toEqual(['Bob', 10, 0, 99.9]);
    expect(byName.get('Zed')).toEqual(['Zed', 30, 1, 1]);
    expect(byName.has('Paul')).toBe(false);
    expect(rows.length).toBe(11);
  });
});
