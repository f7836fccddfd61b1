/**
 * Write throughput of a dynamic-bucket table (`bucket = -1`, 50k keys a bucket, so 4 buckets for
 * 200k keys) against the same rows into a table with 4 fixed buckets, through the sink API
 * (TableWriter.write, prepareCommit, TableCommit.commit). Two commits: the second writer loads the
 * HASH index the first wrote (a restart), updates every key again and adds none.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Benchmark, Measurement } from './harness.ts';
import { perSecond } from './harness.ts';
import { Catalog, T, TableCommit, TableWriter } from 'weir/lake';

const ROWS = 200_000;
const fields = [
  { name: 'id', type: T.notNull(T.bigint()) },
  { name: 'name', type: T.string() },
  { name: 'price', type: T.double() },
  { name: 'qty', type: T.int() },
];
const rows = Array.from({ length: ROWS }, (_, i) => ({ id: BigInt((i * 7919) % ROWS), name: `item-${i % 5000}`, price: i * 0.01, qty: i % 100 }));

async function writeTwice(options: Record<string, string>): Promise<Measurement> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-dynbucket-bench-'));
  try {
    const table = await new Catalog(dir).createTable('bench', 't', { fields, primaryKeys: ['id'], options: { 'file.compression': 'zstd', ...options } });
    const start = performance.now();
    for (let round = 1; round <= 2; round++) {
      const writer = new TableWriter(table);
      for (const r of rows) writer.write(r);
      await new TableCommit(table, 'bench').commit(round, await writer.prepareCommit());
    }
    return { value: perSecond(2 * ROWS, performance.now() - start) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const benchmark: Benchmark = {
  name: 'lake-dynamic-bucket',
  metric: `rows/s into a primary-key table with dynamic buckets (bucket = -1, 50k keys a bucket), ${ROWS / 1000}k keys written twice; baseline 4 fixed buckets`,
  unit: 'rows/s',
  runs: 3,
  run: () => writeTwice({ bucket: '-1', 'dynamic-bucket.target-row-num': '50000' }),
  baseline: () => writeTwice({ bucket: '4' }),
};

export default benchmark;
