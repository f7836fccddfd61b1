/**
 * Rows/s written into a Paimon primary-key table with 4 buckets through the sink API
 * (TableWriter.write for each row, prepareCommit, TableCommit.commit), against writing the same rows
 * as one plain Parquet file with parquet-wasm (Arrow columns built directly, same compression).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Benchmark } from './harness.ts';
import { perSecond } from './harness.ts';
import { Catalog, T, TableCommit, TableWriter } from 'weir/lake';
import { arrowField, buildColumn } from '../connectors/lake/format/arrow-columns.ts';
import { writeParquetBytes } from '../connectors/lake/format/parquet.ts';

const ROWS = 200_000;
const fields = [
  { id: 0, name: 'id', type: T.notNull(T.bigint()) },
  { id: 1, name: 'name', type: T.string() },
  { id: 2, name: 'price', type: T.double() },
  { id: 3, name: 'qty', type: T.int() },
];

function makeRows(): Array<{ id: bigint; name: string; price: number; qty: number }> {
  const rows = [];
  for (let i = 0; i < ROWS; i++) rows.push({ id: BigInt((i * 7919) % ROWS), name: `item-${i % 5000}`, price: i * 0.01, qty: i % 100 });
  return rows;
}

const rows = makeRows();

const benchmark: Benchmark = {
  name: 'lake-write',
  metric: `rows/s into a Paimon primary-key table, 4 buckets, ${ROWS / 1000}k rows, write + prepareCommit + commit`,
  unit: 'rows/s',
  runs: 3,
  async run() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-bench-'));
    try {
      const cat = new Catalog(dir);
      const table = await cat.createTable('bench', 't', { fields, primaryKeys: ['id'], options: { bucket: '4', 'file.compression': 'zstd' } });
      const start = performance.now();
      const writer = new TableWriter(table);
      for (const r of rows) writer.write(r);
      await new TableCommit(table, 'bench').commit(1, await writer.prepareCommit());
      return { value: perSecond(ROWS, performance.now() - start) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  async baseline() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-bench-'));
    try {
      const start = performance.now();
      const cols = [rows.map((r) => r.id), rows.map((r) => r.name), rows.map((r) => r.price), rows.map((r) => r.qty)];
      const data = fields.map((f, i) => buildColumn(f.type, cols[i]!));
      const bytes = writeParquetBytes(fields.map((f) => arrowField(f)), data, 'zstd');
      writeFileSync(path.join(dir, 'plain.parquet'), bytes);
      return { value: perSecond(ROWS, performance.now() - start) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default benchmark;
