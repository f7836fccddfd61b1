/**
 * OLAP sinks (issue 13):
 *  - olap-duckdb-{1k,10k,100k}: rows/s of BENCH_OLAP_ROWS generated rows (default 300k) into an
 *    append-only DuckDB table through the sink (staged in batches of that size, 1 s checkpoints,
 *    parallelism 1); baseline: the same rows with @duckdb/node-api's appender straight into a table,
 *    one transaction per batch, in one loop.
 *  - olap-clickhouse-{1k,10k,100k}: the same into ClickHouse 18.16 (WEIR_CLICKHOUSE_URL, from
 *    test/services/clickhouse.sh); baseline: one HTTP INSERT ... FORMAT JSONEachRow per batch.
 *  - olap-{duckdb,clickhouse}-freshness: with 1 s checkpoints, 5k rows/s for BENCH_OLAP_FRESHNESS_SECONDS
 *    (default 20), the time from a row leaving the source to a reader seeing it (DuckDB: in the
 *    published read copy; ClickHouse: in the table), polled every 20 ms: median, p99 in the metric text.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MiniCluster } from 'weir';
import { ClickHouseHttp } from '../connectors/clickhouse/http.ts';
import job, { olapBenchRow, type OlapBenchParams } from './jobs/olap.ts';
import { median, perSecond, type Benchmark, type Measurement } from './harness.ts';

const ROWS = Number(process.env.BENCH_OLAP_ROWS ?? 300_000);
const FRESHNESS_SECONDS = Number(process.env.BENCH_OLAP_FRESHNESS_SECONDS ?? 20);
const RATE = 5000;

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-olap-bench-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function clickhouseUrl(): string {
  const url = process.env.WEIR_CLICKHOUSE_URL;
  if (!url) throw new Error('WEIR_CLICKHOUSE_URL is not set: bash test/services/clickhouse.sh start, then export what `env` prints');
  return url;
}

let tableNo = 0;
const tableName = (kind: string): string => `bench_${kind}_${process.pid}_${Date.now()}_${tableNo++}`;

function cluster(dir: string): MiniCluster {
  return new MiniCluster({ workers: 2, batchSize: 8192, workDir: path.join(dir, 'work'), checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } } });
}

async function duckdbCount(file: string, table: string): Promise<number> {
  const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  try {
    const c = await db.connect();
    const n = Number((await c.runAndReadAll(`SELECT count(*) FROM ${table}`)).getRows()[0]![0]);
    c.closeSync();
    return n;
  } finally {
    db.closeSync();
  }
}

async function sinkThroughput(store: 'duckdb' | 'clickhouse', batch: number): Promise<Measurement> {
  const s = scratch();
  try {
    const table = tableName('sink');
    const params: OlapBenchParams = { store, kind: 'throughput', count: ROWS, batch, table, ...(store === 'duckdb' ? { path: path.join(s.dir, 'olap.duckdb') } : { url: clickhouseUrl() }) };
    const handle = await cluster(s.dir).submit(job, { params, parallelism: 1 });
    const started = performance.now();
    await handle.result();
    const ms = performance.now() - started;
    const n = store === 'duckdb' ? await duckdbCount(path.join(s.dir, 'olap.read.duckdb'), table) : Number((await new ClickHouseHttp({ url: clickhouseUrl() }, 'bench').select<{ n: string }>(`SELECT count() AS n FROM ${table}`))[0]!.n);
    if (n !== ROWS) throw new Error(`${store} table holds ${n} rows, expected ${ROWS}`);
    return { value: perSecond(ROWS, ms) };
  } finally {
    s.done();
  }
}

/** The same rows with the appender, one transaction per batch. */
async function duckdbDirect(batch: number): Promise<Measurement> {
  const s = scratch();
  try {
    const started = performance.now();
    const db = await DuckDBInstance.create(path.join(s.dir, 'direct.duckdb'));
    const c = await db.connect();
    await c.run('CREATE TABLE t (id BIGINT, region VARCHAR, name VARCHAR, price DOUBLE, qty INTEGER, createdAt BIGINT)');
    for (let from = 0; from < ROWS; from += batch) {
      await c.run('BEGIN');
      const a = await c.createAppender('t');
      for (let i = from; i < Math.min(ROWS, from + batch); i++) {
        const r = olapBenchRow(i, false);
        a.appendBigInt(BigInt(r.id));
        a.appendVarchar(r.region);
        a.appendVarchar(r.name);
        a.appendDouble(r.price);
        a.appendInteger(r.qty);
        a.appendBigInt(BigInt(r.createdAt));
        a.endRow();
      }
      a.flushSync();
      a.closeSync();
      await c.run('COMMIT');
    }
    c.closeSync();
    db.closeSync();
    return { value: perSecond(ROWS, performance.now() - started) };
  } finally {
    s.done();
  }
}

/** The same rows as one HTTP INSERT ... FORMAT JSONEachRow per batch. */
async function clickhouseDirect(batch: number): Promise<Measurement> {
  const http = new ClickHouseHttp({ url: clickhouseUrl() }, 'bench');
  const table = tableName('direct');
  await http.run(`CREATE TABLE ${table} (id Int64, region String, name String, price Float64, qty Int32, createdAt Int64) ENGINE = MergeTree() ORDER BY id`);
  const started = performance.now();
  for (let from = 0; from < ROWS; from += batch) {
    let body = '';
    for (let i = from; i < Math.min(ROWS, from + batch); i++) body += `${JSON.stringify(olapBenchRow(i, false))}\n`;
    await http.run(`INSERT INTO ${table} FORMAT JSONEachRow`, body);
  }
  const ms = performance.now() - started;
  await http.run(`DROP TABLE ${table}`);
  return { value: perSecond(ROWS, ms) };
}

const freshnessStats: Record<string, { p99: number; rows: number }> = {};

async function freshness(store: 'duckdb' | 'clickhouse'): Promise<Measurement> {
  const s = scratch();
  try {
    const table = tableName('fresh');
    const dbFile = path.join(s.dir, 'olap.duckdb');
    const params: OlapBenchParams = { store, kind: 'freshness', count: RATE * FRESHNESS_SECONDS, ratePerSecond: RATE, batch: 100_000, table, ...(store === 'duckdb' ? { path: dbFile } : { url: clickhouseUrl() }) };
    const handle = await cluster(s.dir).submit(job, { params, parallelism: 1 });
    let done = false;
    void handle.result().finally(() => (done = true));
    const ages: number[] = [];
    let lastId = -1;
    const http = store === 'clickhouse' ? new ClickHouseHttp({ url: clickhouseUrl() }, 'bench') : undefined;
    while (!done) {
      await new Promise((r) => setTimeout(r, 20));
      let rows: { id: number; createdAt: number }[] = [];
      try {
        if (http) {
          rows = (await http.select<{ id: string; createdAt: string }>(`SELECT id, createdAt FROM ${table} WHERE id > ${lastId}`)).map((r) => ({ id: Number(r.id), createdAt: Number(r.createdAt) }));
        } else {
          const db = await DuckDBInstance.create(path.join(s.dir, 'olap.read.duckdb'), { access_mode: 'READ_ONLY' });
          const c = await db.connect();
          rows = (await c.runAndReadAll(`SELECT id, createdAt FROM ${table} WHERE id > ${lastId}`)).getRows().map((r) => ({ id: Number(r[0]), createdAt: Number(r[1]) }));
          c.closeSync();
          db.closeSync();
        }
      } catch {
        continue; // not created / published yet
      }
      const seenAt = Date.now();
      for (const r of rows) {
        ages.push(seenAt - r.createdAt);
        lastId = Math.max(lastId, r.id);
      }
    }
    await handle.result();
    ages.sort((a, b) => a - b);
    freshnessStats[store] = { p99: ages[Math.floor(ages.length * 0.99)] ?? 0, rows: ages.length };
    return { value: median(ages) };
  } finally {
    s.done();
  }
}

const sizes: [string, number][] = [['1k', 1000], ['10k', 10_000], ['100k', 100_000]];

const benchmarks: Benchmark[] = [
  ...sizes.map(([label, batch]): Benchmark => ({
    name: `olap-duckdb-${label}`,
    metric: `rows/s of ${ROWS / 1000}k rows into an append-only DuckDB table through duckdbSink, batches of ${label} rows, 1 s checkpoints, parallelism 1; baseline: the appender straight into a table, one transaction per ${label}-row batch`,
    unit: 'rows/s',
    runs: 2,
    run: () => sinkThroughput('duckdb', batch),
    baseline: () => duckdbDirect(batch),
  })),
  ...sizes.map(([label, batch]): Benchmark => ({
    name: `olap-clickhouse-${label}`,
    metric: `rows/s of ${ROWS / 1000}k rows into an append-only ClickHouse 18.16 table through clickhouseSink, batches of ${label} rows, 1 s checkpoints, parallelism 1; baseline: one HTTP INSERT FORMAT JSONEachRow per ${label}-row batch`,
    unit: 'rows/s',
    runs: 2,
    run: () => sinkThroughput('clickhouse', batch),
    baseline: () => clickhouseDirect(batch),
  })),
  ...(['duckdb', 'clickhouse'] as const).map(
    (store): Benchmark => ({
      name: `olap-${store}-freshness`,
      get metric() {
        const st = freshnessStats[store];
        return `ms from a row leaving the source to a reader seeing it (${store === 'duckdb' ? 'published read copy' : 'the table'}), 1 s checkpoints, ${RATE / 1000}k rows/s for ${FRESHNESS_SECONDS} s: median (last run: p99 ${st?.p99 ?? '-'} ms over ${st?.rows ?? '-'} rows)`;
      },
      unit: 'ms',
      lowerIsBetter: true,
      runs: 1,
      run: () => freshness(store),
    }),
  ),
];

export default benchmarks;
