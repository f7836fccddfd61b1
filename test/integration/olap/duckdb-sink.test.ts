/**
 * The DuckDB sink, one subtask driven by hand (test/harness/sink-harness.ts) against a real DuckDB
 * file: nothing is visible before its checkpoint completes; a commit is one transaction with its
 * checkpoint id, so a replay after a restore is skipped; upserts, deletes and schema changes land
 * as a changelog says; the read-only copy holds exactly the committed checkpoints.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { duckdbSink, type OlapInput } from 'weir/duckdb';
import { deletion, insert, updateAfter, updateBefore } from '../../../operators/changelog.ts';
import { SinkHarness } from '../../harness/sink-harness.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-duckdb-sink-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Order = { id: number; customer: string; amount: number };

/** Rows of a table in a published copy (opened read-only, as a reader in another process would). */
async function readCopy(file: string, sql: string): Promise<unknown[][]> {
  if (!existsSync(file)) return [];
  const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  try {
    const c = await db.connect();
    try {
      return (await c.runAndReadAll(sql)).getRowsJson() as unknown[][];
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

function sinkAt(dir: string, extra: Partial<Parameters<typeof duckdbSink<Order>>[0]> = {}) {
  return duckdbSink<Order>({ path: path.join(dir, 'olap.duckdb'), table: 'orders', primaryKey: ['id'], columns: { id: 'BIGINT' }, buffer: { maxRows: 3, flushIntervalMs: 0 }, ...extra });
}

describe('DuckDB sink', () => {
  it('applies upserts and deletes, visible only when their checkpoint completes', async () => {
    const dir = path.join(root, 'basic');
    const sink = sinkAt(dir);
    const copy = path.join(dir, 'olap.read.duckdb');
    const h = await SinkHarness.open(sink);
    const q = 'SELECT id, customer, amount FROM orders ORDER BY id';
    await h.write([insert({ id: 1, customer: 'a', amount: 5 }), insert({ id: 2, customer: 'b', amount: 7 }), { id: 3, customer: 'c', amount: 1 }, insert({ id: 4, customer: 'd', amount: 2 })]);
    await h.checkpoint(1);
    expect(await readCopy(copy, q)).toEqual([]); // pre-committed, not visible
    await h.complete(1);
    expect(await readCopy(copy, q)).toEqual([['1', 'a', 5], ['2', 'b', 7], ['3', 'c', 1], ['4', 'd', 2]]);
    await h.write([updateBefore({ id: 1, customer: 'a', amount: 5 }), updateAfter({ id: 1, customer: 'a', amount: 6 }), deletion({ id: 2, customer: 'b', amount: 7 }), insert({ id: 5, customer: 'e', amount: 3 }), deletion({ id: 5, customer: 'e', amount: 3 })]);
    await h.checkpoint(2);
    expect(await readCopy(copy, q)).toEqual([['1', 'a', 5], ['2', 'b', 7], ['3', 'c', 1], ['4', 'd', 2]]);
    await h.complete(2);
    expect(await readCopy(copy, q)).toEqual([['1', 'a', 6], ['3', 'c', 1], ['4', 'd', 2]]);
    expect(await readCopy(copy, 'SELECT checkpoint_id, rows_staged FROM _weir_commits ORDER BY checkpoint_id')).toEqual([['1', '4'], ['2', '4']]); // 2: keys 1, 2, 5 fill a batch, then 5 is deleted in the next
    expect(h.counters.get('olap-rows')).toBe(9);
    expect(h.counters.get('olap-commits')).toBe(2);
    // staged files are gone once committed
    expect(readdirSync(path.join(dir, 'olap.duckdb.staging', 'orders'))).toEqual([]);
    await h.close();
  });

  it('a restore re-commits the restored checkpoint at most once, and drops what a failed attempt staged after it', async () => {
    const dir = path.join(root, 'restore');
    const sink = sinkAt(dir);
    const q = 'SELECT id, amount FROM orders ORDER BY id';
    const copy = path.join(dir, 'olap.read.duckdb');
    const a = await SinkHarness.open(sink);
    await a.write([insert({ id: 1, customer: 'a', amount: 1 })]);
    await a.complete(0);
    const snap1 = await a.checkpoint(1);
    await a.complete(1); // committed
    await a.write([insert({ id: 2, customer: 'b', amount: 2 }), insert({ id: 3, customer: 'c', amount: 3 }), insert({ id: 4, customer: 'd', amount: 4 })]);
    const snap2 = await a.checkpoint(2); // pre-committed; the "crash" comes before it completes ...
    await a.write([insert({ id: 9, customer: 'z', amount: 9 }), insert({ id: 10, customer: 'z', amount: 9 }), insert({ id: 11, customer: 'z', amount: 9 })]); // ... and after a batch was staged for 3
    await a.close();
    expect(await readCopy(copy, q)).toEqual([['1', 1]]);

    // checkpoint 2 completed (the job manager says so), but the committer died before it committed:
    // the restored committer commits it
    const b = await SinkHarness.open(sink, { restore: snap2 });
    expect(await readCopy(copy, q)).toEqual([['1', 1], ['2', 2], ['3', 3], ['4', 4]]);
    // the batch staged for checkpoint 3 by the failed attempt is garbage: a later commit removes it
    await b.write([insert({ id: 5, customer: 'e', amount: 5 })]);
    await b.checkpoint(5);
    await b.complete(5);
    expect(await readCopy(copy, q)).toEqual([['1', 1], ['2', 2], ['3', 3], ['4', 4], ['5', 5]]);
    expect(readdirSync(path.join(dir, 'olap.duckdb.staging', 'orders'))).toEqual([]);
    await b.close();

    // restoring from checkpoint 2 again: already in _weir_commits, skipped (no duplicate, no error)
    const c = await SinkHarness.open(sink, { restore: snap2 });
    await c.close();
    expect(await readCopy(copy, 'SELECT checkpoint_id FROM _weir_commits ORDER BY 1')).toEqual([['1'], ['2'], ['5']]);
    expect(await readCopy(copy, 'SELECT count(*) FROM orders')).toEqual([['5']]);
    // an older snapshot does not take the table back either
    const d = await SinkHarness.open(sink, { restore: snap1 });
    await d.close();
    expect(await readCopy(copy, 'SELECT count(*) FROM orders')).toEqual([['5']]);
  });

  it('an append-only table keeps every row; schema changes apply in order with the rows', async () => {
    const dir = path.join(root, 'schema');
    type Event = { id: number; name: string; score?: number };
    const sink = duckdbSink<Event>({ path: path.join(dir, 'db.duckdb'), table: 'events', columns: { id: 'INTEGER' }, buffer: { flushIntervalMs: 0 } });
    const h = await SinkHarness.open(sink);
    const input: OlapInput<Event>[] = [
      { id: 1, name: 'a' },
      { id: 1, name: 'a' },
      { schemaChange: { kind: 'addColumn', column: 'score', type: 'DOUBLE' } },
      { id: 2, name: 'b', score: 0.5 },
      { schemaChange: { kind: 'renameColumn', from: 'name', to: 'label' } },
    ];
    await h.write(input);
    await h.checkpoint(1);
    await h.complete(1);
    await h.close();
    expect(await readCopy(path.join(dir, 'db.read.duckdb'), 'SELECT id, label, score FROM events ORDER BY id, score NULLS FIRST')).toEqual([[1, 'a', null], [1, 'a', null], [2, 'b', 0.5]]);
  });

  it('a keyed table takes updates, then a schema change, then rows of the same keys, in one commit', async () => {
    // DuckDB refuses to commit an ALTER after row changes of the same table in one transaction
    const dir = path.join(root, 'schema-keyed');
    type Row = { id: number; name: string; score?: number };
    const sink = duckdbSink<Row>({ path: path.join(dir, 'db.duckdb'), table: 'people', primaryKey: ['id'], columns: { id: 'INTEGER' }, buffer: { flushIntervalMs: 0, maxRows: 1 } });
    const h = await SinkHarness.open(sink);
    await h.write([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    await h.checkpoint(1);
    await h.complete(1);
    await h.write([
      { id: 2, name: 'b2' },
      { schemaChange: { kind: 'addColumn', column: 'score', type: 'DOUBLE' } },
      { id: 1, name: 'a2', score: 1.5 },
      { schemaChange: { kind: 'renameColumn', from: 'name', to: 'label' } },
      { id: 3, label: 'c', score: 2 } as unknown as Row,
    ]);
    await h.checkpoint(2);
    await h.complete(2);
    await h.close();
    expect(await readCopy(path.join(dir, 'db.read.duckdb'), 'SELECT id, label, score FROM people ORDER BY id')).toEqual([[1, 'a2', 1.5], [2, 'b2', null], [3, 'c', 2]]);
  });

  it('every column type round-trips, nulls included, keyed and append-only', async () => {
    type All = { id: number; ok: boolean; n: number; big: bigint; d: number; s: string; at: Date; day: string; b: Uint8Array; j: unknown };
    const row: All = { id: 1, ok: true, n: 7, big: 2n ** 40n, d: 0.25, s: 'x', at: new Date(Date.UTC(2026, 11, 4, 21, 0, 0, 123)), day: '2026-12-04', b: Uint8Array.of(1, 2), j: { a: [1] } };
    const nulls = { id: 2, ok: null, n: null, big: null, d: null, s: null, at: null, day: null, b: null, j: null } as unknown as All;
    const columns = { id: 'INTEGER', n: 'INTEGER', day: 'DATE', j: 'JSON', ok: 'BOOLEAN', big: 'BIGINT', d: 'DOUBLE', s: 'VARCHAR', at: 'TIMESTAMP', b: 'BLOB' } as const;
    const q = `SELECT id, ok, n, big, d, s, strftime("at", '%Y-%m-%d %H:%M:%S.%g'), day::VARCHAR, hex(b), j FROM t ORDER BY id`;
    const expected = [
      [1, true, 7, '1099511627776', 0.25, 'x', '2026-12-04 21:00:00.123', '2026-12-04', '0102', '{"a":[1]}'],
      [2, null, null, null, null, null, null, null, null, null],
    ];
    for (const primaryKey of [['id' as const], []]) {
      const dir = path.join(root, `types-${primaryKey.length}`);
      const h = await SinkHarness.open(duckdbSink<All>({ path: path.join(dir, 'db.duckdb'), table: 't', primaryKey, columns, buffer: { flushIntervalMs: 0 } }));
      await h.write([row, nulls]);
      await h.checkpoint(1);
      await h.complete(1);
      await h.close();
      expect(await readCopy(path.join(dir, 'db.read.duckdb'), q)).toEqual(expected);
    }
  });

  it('a run restored from an older savepoint commits its own checkpoints, though their ids were used before', async () => {
    const dir = path.join(root, 'savepoint');
    const sink = sinkAt(dir);
    const q = 'SELECT id, amount FROM orders ORDER BY id';
    const copy = path.join(dir, 'olap.read.duckdb');
    const first = await SinkHarness.open(sink);
    await first.write([insert({ id: 1, customer: 'a', amount: 1 })]);
    const savepoint = await first.checkpoint(2);
    await first.complete(2);
    await first.write([insert({ id: 2, customer: 'b', amount: 2 })]);
    await first.checkpoint(3);
    await first.complete(3);
    await first.close();
    expect(await readCopy(copy, q)).toEqual([['1', 1], ['2', 2]]);
    // a new run from the savepoint numbers its checkpoints 3, 4, ... again; its changes must land
    const second = await SinkHarness.open(sink, { restore: savepoint });
    await second.write([updateAfter({ id: 2, customer: 'b', amount: 20 }), insert({ id: 3, customer: 'c', amount: 3 })]);
    await second.checkpoint(3);
    await second.complete(3);
    await second.close();
    expect(await readCopy(copy, q)).toEqual([['1', 1], ['2', 20], ['3', 3]]);
    expect(await readCopy(copy, 'SELECT checkpoint_id FROM _weir_commits ORDER BY committed_at')).toEqual([['2'], ['3'], ['3']]);
  });
});
