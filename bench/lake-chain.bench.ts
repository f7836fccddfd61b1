/**
 * lake-chain-freshness: end-to-end freshness of a two-layer lake chain at 1 s checkpoints. Job 1
 * writes rate-limited orders stamped with the wall-clock time they left the source into an ODS
 * primary-key table with `changelog-producer = lookup`; job 2 streams that changelog, aggregates per
 * group and upserts a DWS table. A reader polls the DWS table every 20 ms; for each row of each new
 * DWS snapshot, the age of the newest event it includes when the snapshot was seen. Median (p99 in the
 * metric text); the goal is under 3 s, where the seed lakehouses report 1-5 minutes per layer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MiniCluster } from 'weir';
import { FileStoreTable } from 'weir/lake';
import odsJob, { type LakeBenchParams } from './jobs/lake.ts';
import dwsJob from './jobs/lake-chain-dws.ts';
import { median, type Benchmark, type Measurement } from './harness.ts';
import { forAppendedRows } from './lake-appends.ts';

const SECONDS = Number(process.env.BENCH_LAKE_CHAIN_SECONDS ?? 30);
const stats: { p99?: number; rows?: number } = {};

function cluster(dir: string): MiniCluster {
  return new MiniCluster({ workers: 2, workDir: path.join(dir, 'work'), checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } } });
}

async function chainFreshness(): Promise<Measurement> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-chain-bench-'));
  try {
    const ods = path.join(dir, 'ods');
    const dws = path.join(dir, 'dws');
    const params: LakeBenchParams = {
      kind: 'freshness', path: ods, keys: 50_000, ratePerSecond: 2000, count: 2000 * SECONDS, parallelism: 1, compaction: true,
      tableOptions: { 'changelog-producer': 'lookup' },
    };
    const writer = await cluster(path.join(dir, 'job1')).submit(odsJob, { params, parallelism: 1 });
    const totals = await cluster(path.join(dir, 'job2')).submit(dwsJob, { params: { from: ods, to: dws }, parallelism: 1 });
    let done = false;
    void writer.result().finally(() => {
      done = true;
    });
    const ages: number[] = [];
    let table: FileStoreTable | undefined;
    let seen = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        table ??= await FileStoreTable.open(dws);
      } catch {
        continue;
      }
      const at = table.schema.fields.findIndex((f) => f.name === 'newestCreatedAt');
      seen = await forAppendedRows(table, seen, (r, seenAt) => ages.push(seenAt - Number(r[at] as bigint)));
    }
    await totals.cancel();
    ages.sort((a, b) => a - b);
    stats.p99 = ages[Math.floor(ages.length * 0.99)] ?? 0;
    stats.rows = ages.length;
    if (ages.length === 0) throw new Error('the DWS table got no rows: the chain did not run');
    return { value: median(ages) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const benchmarks: Benchmark[] = [
  {
    name: 'lake-chain-freshness',
    get metric() {
      return `ms from an event leaving job 1's source to a DWS row that includes it being readable, two jobs chained through a lookup-changelog lake table, 1 s checkpoints, 2k events/s for ${SECONDS} s: median (last run: p99 ${stats.p99 ?? '-'} ms over ${stats.rows ?? '-'} DWS rows; the seed lakehouses report 1-5 minutes per layer)`;
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 1,
    run: chainFreshness,
  },
];

export default benchmarks;
