/**
 * Batch reads of a Paimon primary-key table (issue 15):
 *  - lake-read-dv: rows/s of `readTable` over a 1M-row table with deletion vectors (1M rows
 *    compacted into the last level, then 100k updates compacted by lookup: the old rows are marked
 *    in deletion vectors, the new ones sit one level up); baseline: DuckDB `read_parquet` of the
 *    same data files into JS rows (DuckDB reads every row: it does not apply the vectors);
 *  - lake-read-compacted: the same rows fully compacted without deletion vectors; baseline: DuckDB
 *    on that table's files.
 * The tables are built once per process (about half a minute) and shared by both benchmarks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Catalog, T, TableCommit, TableWriter, compactTable, readTable, type FileStoreTable } from 'weir/lake';
import { perSecond, type Benchmark, type Measurement } from './harness.ts';

const ROWS = Number(process.env.BENCH_LAKE_READ_ROWS ?? 1_000_000);
const UPDATES = ROWS / 10;

interface Tables { dv: FileStoreTable; compacted: FileStoreTable; liveRows: number }
let built: Promise<Tables> | undefined;
let scratchDir: string | undefined;

async function fill(t: FileStoreTable): Promise<void> {
  const w = new TableWriter(t, { trustedRows: true });
  const commit = new TableCommit(t, 'bench');
  let id = 1;
  for (let i = 0; i < ROWS; i++) {
    w.write([BigInt(i), `name-${i % 10_000}`, i * 0.5, i % 1000]);
    if ((i + 1) % 250_000 === 0) await commit.commit(id++, await w.prepareCommit());
  }
  await commit.commit(id++, await w.prepareCommit());
  await compactTable(t, { full: true });
  for (let i = 0; i < UPDATES; i++) w.write([BigInt((i * 7919) % ROWS), `updated-${i}`, -i, i % 7], 2);
  await commit.commit(id++, await w.prepareCommit());
  await compactTable(t);
}

function tables(): Promise<Tables> {
  built ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-read-bench-'));
    scratchDir = dir;
    const cat = new Catalog(dir);
    const def = (options: Record<string, string>) => ({
      fields: [{ name: 'id', type: T.bigint() }, { name: 'name', type: T.string() }, { name: 'price', type: T.double() }, { name: 'qty', type: T.int() }],
      primaryKeys: ['id'], options: { bucket: '4', ...options },
    });
    const dv = await cat.createTable('db', 'dv', def({ 'deletion-vectors.enabled': 'true' }));
    const compacted = await cat.createTable('db', 'compacted', def({}));
    await fill(dv);
    await fill(compacted);
    await compactTable(compacted, { full: true });
    const vectors = (await dv.indexEntries((await dv.snapshots.latest())!)).length;
    if (vectors === 0) throw new Error('the deletion-vector table has no deletion vectors; the benchmark would measure the wrong thing');
    return { dv, compacted, liveRows: ROWS };
  })();
  return built;
}

async function readRows(pick: (t: Tables) => FileStoreTable): Promise<Measurement> {
  const t = await tables();
  const started = performance.now();
  const rows = await readTable(pick(t));
  const ms = performance.now() - started;
  if (rows.length !== t.liveRows) throw new Error(`read ${rows.length} rows, expected ${t.liveRows}`);
  return { value: perSecond(rows.length, ms) };
}

async function duckdbRows(pick: (t: Tables) => FileStoreTable): Promise<Measurement> {
  const t = await tables();
  const table = pick(t);
  const latest = (await table.snapshots.latest())!;
  const files = (await table.liveEntries(latest)).map((e) => `'${table.dataFileLocation(e)}'`);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const started = performance.now();
  const reader = await conn.runAndReadAll(`SELECT id, name, price, qty FROM read_parquet([${files.join(', ')}])`);
  const rows = reader.getRows();
  const ms = performance.now() - started;
  conn.closeSync();
  return { value: perSecond(rows.length, ms) };
}

const benchmarks: Benchmark[] = [
  {
    name: 'lake-read-dv',
    metric: `rows/s of a batch read of a ${ROWS / 1e6}M-row primary-key table with deletion vectors (${UPDATES / 1000}k rows updated through vectors), 4 buckets; baseline: DuckDB read_parquet of the same files into JS rows`,
    unit: 'rows/s',
    runs: 3,
    run: () => readRows((t) => t.dv),
    baseline: () => duckdbRows((t) => t.dv),
  },
  {
    name: 'lake-read-compacted',
    metric: `rows/s of a batch read of the same ${ROWS / 1e6}M rows fully compacted without deletion vectors; baseline: DuckDB read_parquet of its files into JS rows`,
    unit: 'rows/s',
    runs: 3,
    run: () => readRows((t) => t.compacted),
    baseline: () => duckdbRows((t) => t.compacted),
  },
];

process.once('exit', () => { if (scratchDir) rmSync(scratchDir, { recursive: true, force: true }); });

export default benchmarks;
