/**
 * The ClickHouse sink against a real clickhouse-server 18.16 (test/services/clickhouse.sh), one
 * subtask driven by hand: staged rows are invisible in the table until their checkpoint commits;
 * upserts and deletes land as the changelog says when read with FINAL; a commit repeated after a
 * restore changes nothing; a failed attempt's staged batches are dropped; errors quote the server.
 */
import { describe, expect, it } from 'vitest';
import { clickhouseSink } from 'weir/clickhouse';
import { deletion, insert, updateAfter, updateBefore } from '../../../operators/changelog.ts';
import { ClickHouseHttp } from '../../../connectors/clickhouse/http.ts';
import { SinkHarness } from '../../harness/sink-harness.ts';

const url = process.env.WEIR_CLICKHOUSE_URL;

type Order = { id: number; customer: string; amount: number };

function requireUrl(): string {
  if (!url) throw new Error('WEIR_CLICKHOUSE_URL is not set: start the server with test/services/clickhouse.sh start (npm test does)');
  return url;
}

const http = (): ClickHouseHttp => new ClickHouseHttp({ url: requireUrl() }, 'test');

async function final(table: string): Promise<string[]> {
  const rows = await http().select<{ id: string; customer: string; amount: number }>(`SELECT id, customer, amount FROM ${table} FINAL WHERE _weir_deleted = 0 ORDER BY id`);
  return rows.map((r) => `${r.id}|${r.customer}|${r.amount}`);
}

async function count(sql: string): Promise<number> {
  const [r] = await http().select<{ n: string }>(`SELECT count() AS n FROM ${sql}`);
  return Number(r!.n);
}

async function exists(table: string): Promise<boolean> {
  return (await count(`system.tables WHERE database = currentDatabase() AND name = '${table}'`)) > 0;
}

function sinkFor(table: string) {
  return clickhouseSink<Order>({ url: requireUrl(), table, primaryKey: ['id'], columns: { id: 'BIGINT' }, buffer: { maxRows: 3, flushIntervalMs: 0 } });
}

describe('ClickHouse sink', () => {
  it('needs the server', () => {
    expect(url, 'WEIR_CLICKHOUSE_URL (test/services/clickhouse.sh env)').toBeTruthy();
  });

  it('upserts and deletes by key, visible once their checkpoint commits; a repeated commit changes nothing', async () => {
    const table = `orders_${Date.now()}`;
    const sink = sinkFor(table);
    const h = await SinkHarness.open(sink);
    await h.write([insert({ id: 1, customer: 'a', amount: 5 }), insert({ id: 2, customer: 'b', amount: 7 }), { id: 3, customer: 'c', amount: 1 }, insert({ id: 4, customer: 'd', amount: 2 })]);
    const snap1 = await h.checkpoint(1);
    expect(await exists(table)).toBe(false); // staged only
    expect(await count(`${table}__weir_staging`)).toBe(4);
    await h.complete(1);
    expect(await final(table)).toEqual(['1|a|5', '2|b|7', '3|c|1', '4|d|2']);
    await h.write([updateBefore({ id: 1, customer: 'a', amount: 5 }), updateAfter({ id: 1, customer: 'a', amount: 6 }), deletion({ id: 2, customer: 'b', amount: 7 }), insert({ id: 5, customer: 'e', amount: 3 }), deletion({ id: 5, customer: 'e', amount: 3 })]);
    const snap2 = await h.checkpoint(2);
    expect(await final(table)).toEqual(['1|a|5', '2|b|7', '3|c|1', '4|d|2']);
    // the "crash": checkpoint 2 completed but its commit did not run; a batch for 3 was staged
    await h.write([insert({ id: 9, customer: 'z', amount: 9 }), insert({ id: 10, customer: 'z', amount: 9 }), insert({ id: 11, customer: 'z', amount: 9 })]);
    await h.close();

    const r = await SinkHarness.open(sink, { restore: snap2 });
    expect(await final(table)).toEqual(['1|a|6', '3|c|1', '4|d|2']);
    // again (the restored commit landed before another crash): same versions, nothing changes
    await (await SinkHarness.open(sink, { restore: snap2 })).close();
    await (await SinkHarness.open(sink, { restore: snap1 })).close();
    await http().run(`OPTIMIZE TABLE ${table} FINAL`);
    expect(await final(table)).toEqual(['1|a|6', '3|c|1', '4|d|2']);
    expect(await count(`${table} FINAL`)).toBe(5); // 1, 2 (deleted), 3, 4, 5 (deleted)
    // the failed attempt's batch for checkpoint 3 is dropped by the next commit
    await r.write([insert({ id: 6, customer: 'f', amount: 1 })]);
    await r.checkpoint(7);
    await r.complete(7);
    expect(await final(table)).toEqual(['1|a|6', '3|c|1', '4|d|2', '6|f|1']);
    expect(await count(`${table}__weir_staging`)).toBe(0);
    await r.close();
  });

  it('append-only tables keep every row; a repeated commit collapses; added columns', async () => {
    const table = `events_${Date.now()}`;
    type Event = { id: number; name: string; score?: number };
    const sink = clickhouseSink<Event>({ url: requireUrl(), table, columns: { id: 'INTEGER' }, buffer: { flushIntervalMs: 0 } });
    const h = await SinkHarness.open(sink);
    await h.write([{ id: 1, name: 'a' }, { id: 1, name: 'a' }, { schemaChange: { kind: 'addColumn', column: 'score', type: 'DOUBLE' } }, { id: 2, name: 'b', score: 0.5 }]);
    const snap = await h.checkpoint(1);
    await h.complete(1);
    await h.close();
    await (await SinkHarness.open(sink, { restore: snap })).close(); // the commit again
    await http().run(`OPTIMIZE TABLE ${table} FINAL`);
    const rows = await http().select<{ id: number; name: string; score: number | null }>(`SELECT id, name, score FROM ${table} FINAL ORDER BY id, name`);
    expect(rows).toEqual([
      { id: 1, name: 'a', score: null },
      { id: 1, name: 'a', score: null },
      { id: 2, name: 'b', score: 0.5 },
    ]);
  });

  it('a rejected statement fails with the server message, without credentials', async () => {
    const sink = clickhouseSink<{ id: number }>({ url: requireUrl(), table: 'nope', columns: { id: 'INTEGER' }, user: 'default', password: 's3cret-pw', buffer: { flushIntervalMs: 0 }, retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 } });
    const h = await SinkHarness.open(sink);
    await h.write([{ id: 1 }]);
    const e = await h.checkpoint(1).then(() => undefined, (x: unknown) => x as Error);
    expect(e?.message).toMatch(/ClickHouse at http:\/\/127\.0\.0\.1:\d+ rejected 'CREATE TABLE IF NOT EXISTS `nope__weir_staging`.*Code: \d+/);
    expect(e?.message).not.toContain('s3cret-pw');
  });
});
