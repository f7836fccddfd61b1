/**
 * The lake sink in a running job (issue: Lake tables in the Apache Paimon format):
 *  - lake-sink-p1 / lake-sink-p2: rows/s into a primary-key table with 4 buckets through the stream
 *    sink (datagen -> router -> writers -> committer, 1 s checkpoints), from the job running to its
 *    last commit; baseline: TableWriter + TableCommit directly in one loop (a commit per 250k rows);
 *  - lake-sink-dynamic-p2: the same at parallelism 2 into a dynamic-bucket table (bucket = -1); baseline
 *    4 fixed buckets;
 *  - lake-freshness: with 1 s checkpoints, the time from a row leaving the source to it being
 *    readable in the table (a reader polls the table every 20 ms): median, p99 in the metric text;
 *  - lake-files: live data files per partition after a scaled-down "hour" of 1 s checkpoints
 *    (BENCH_LAKE_FILES_SECONDS, default 180: 3 minutes, i.e. 180 checkpoints instead of 3600) with
 *    compaction on; baseline: the same with compaction off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MiniCluster } from 'weir';
import { FileStoreTable, openLakeTable, TableCommit, TableWriter } from 'weir/lake';
import { FILE_KIND_ADD } from '../connectors/lake/format/manifest.ts';
import job, { benchOrder, orderSchema, type LakeBenchParams } from './jobs/lake.ts';
import { median, perSecond, type Benchmark, type Measurement } from './harness.ts';

const ROWS = Number(process.env.BENCH_LAKE_ROWS ?? 1_000_000);
const KEYS = 200_000;
const FRESHNESS_SECONDS = Number(process.env.BENCH_LAKE_FRESHNESS_SECONDS ?? 30);
const FILES_SECONDS = Number(process.env.BENCH_LAKE_FILES_SECONDS ?? 180);

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-bench-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function cluster(dir: string): MiniCluster {
  return new MiniCluster({ workers: 2, batchSize: 8192, workDir: path.join(dir, 'work'), checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } } });
}

async function sinkThroughput(parallelism: number, tableOptions?: Record<string, string>): Promise<Measurement> {
  const s = scratch();
  try {
    const params: LakeBenchParams = { kind: 'throughput', path: path.join(s.dir, 'table'), count: ROWS, keys: KEYS, parallelism, ...(tableOptions ? { tableOptions } : {}) };
    const handle = await cluster(s.dir).submit(job, { params, parallelism });
    const started = performance.now();
    await handle.result();
    const ms = performance.now() - started;
    const table = await FileStoreTable.open(params.path);
    const latest = await table.snapshots.latest();
    if (!latest || (latest.totalRecordCount ?? 0) < KEYS) throw new Error(`table holds ${latest?.totalRecordCount ?? 0} records, expected at least ${KEYS}`);
    return { value: perSecond(ROWS, ms) };
  } finally {
    s.done();
  }
}

async function writerLoop(): Promise<Measurement> {
  const s = scratch();
  try {
    const table = await openLakeTable({ path: path.join(s.dir, 'table') }, orderSchema(false));
    const started = performance.now();
    const writer = new TableWriter(table);
    const commit = new TableCommit(table, 'bench');
    let id = 1;
    for (let i = 0; i < ROWS; i++) {
      writer.write(benchOrder(i, KEYS, false) as unknown as Record<string, unknown>, 0);
      if ((i + 1) % 250_000 === 0) await commit.commit(id++, await writer.prepareCommit());
    }
    await commit.commit(id, await writer.prepareCommit());
    return { value: perSecond(ROWS, performance.now() - started) };
  } finally {
    s.done();
  }
}

const freshnessStats: { p99?: number; rows?: number } = {};

/** Polls the table; for each new APPEND snapshot, the age of each of its rows when the snapshot was seen. */
async function freshness(): Promise<Measurement> {
  const s = scratch();
  try {
    const params: LakeBenchParams = { kind: 'freshness', path: path.join(s.dir, 'table'), keys: 100_000_000, ratePerSecond: 5000, count: 5000 * FRESHNESS_SECONDS, parallelism: 2, compaction: true };
    const handle = await cluster(s.dir).submit(job, { params, parallelism: 2 });
    const ages: number[] = [];
    let done = false;
    void handle.result().finally(() => {
      done = true;
    });
    let table: FileStoreTable | undefined;
    let seen = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        table ??= await FileStoreTable.open(params.path);
      } catch {
        continue;
      }
      const latest = (await table.snapshots.latestId()) ?? 0;
      const seenAt = Date.now();
      for (let id = seen + 1; id <= latest; id++) {
        const snap = await table.snapshots.snapshot(id);
        if (snap.commitKind !== 'APPEND' || snap.commitIdentifier === BigInt(Number.MAX_SAFE_INTEGER)) continue;
        for (const e of (await table.deltaEntries(snap)).filter((x) => x.kind === FILE_KIND_ADD)) {
          const batch = await table.readDataFile(e);
          const at = table.schema.fields.findIndex((f) => f.name === 'createdAt');
          for (const r of batch.rows) ages.push(seenAt - Number(r[at] as bigint));
        }
      }
      seen = latest;
    }
    await handle.result();
    // the rows of the final checkpoint (end of input) are left out above only if committed after the loop ended
    ages.sort((a, b) => a - b);
    freshnessStats.p99 = ages[Math.floor(ages.length * 0.99)] ?? 0;
    freshnessStats.rows = ages.length;
    return { value: median(ages) };
  } finally {
    s.done();
  }
}

const filesStats: Record<string, string> = {};

async function filesPerPartition(compaction: boolean): Promise<Measurement> {
  const s = scratch();
  try {
    const params: LakeBenchParams = {
      kind: 'files', path: path.join(s.dir, 'table'), keys: 50_000, ratePerSecond: 2000, parallelism: 2, compaction,
      tableOptions: { 'snapshot.time-retained': '1 min' },
    };
    const handle = await cluster(s.dir).submit(job, { params, parallelism: 2 });
    await new Promise((r) => setTimeout(r, FILES_SECONDS * 1000));
    const checkpoints = handle.checkpoints().filter((c) => c.status === 'completed').length;
    await handle.cancel();
    const table = await FileStoreTable.open(params.path);
    const latest = (await table.snapshots.latest())!;
    const live = await table.liveEntries(latest);
    const partitions = new Set(live.map((e) => e.partition));
    const onDisk = (await table.io.listRecursive(table.path)).filter((f) => /\/bucket-\d+\/data-/.test(f.path)).length;
    const perPartition = live.length / partitions.size;
    filesStats[compaction ? 'on' : 'off'] = `${checkpoints} checkpoints, ${partitions.size} partitions x 4 buckets, live files per partition ${perPartition.toFixed(1)}, data files on disk per partition ${(onDisk / partitions.size).toFixed(1)}, snapshots kept ${(await table.snapshots.listIds()).length}`;
    return { value: perPartition };
  } finally {
    s.done();
  }
}

const benchmarks: Benchmark[] = [
  {
    name: 'lake-sink-p1',
    metric: `rows/s into a Paimon primary-key table (4 buckets, ${ROWS / 1e6}M rows over ${KEYS / 1000}k keys) through the stream sink at parallelism 1, 1 s checkpoints; baseline: TableWriter + TableCommit in one loop`,
    unit: 'rows/s',
    runs: 3,
    run: () => sinkThroughput(1),
    baseline: writerLoop,
  },
  {
    name: 'lake-sink-p2',
    metric: `rows/s into a Paimon primary-key table (4 buckets, ${ROWS / 1e6}M rows over ${KEYS / 1000}k keys) through the stream sink at parallelism 2 (2 workers), 1 s checkpoints; baseline: TableWriter + TableCommit in one loop`,
    unit: 'rows/s',
    runs: 3,
    run: () => sinkThroughput(2),
    baseline: writerLoop,
  },
  {
    name: 'lake-sink-dynamic-p2',
    metric: `rows/s into a Paimon primary-key table with dynamic buckets (bucket = -1, 50k keys a bucket: 4 buckets for ${KEYS / 1000}k keys, ${ROWS / 1e6}M rows) through the stream sink at parallelism 2, 1 s checkpoints; baseline: the same with 4 fixed buckets`,
    unit: 'rows/s',
    runs: 1,
    run: () => sinkThroughput(2, { bucket: '-1', 'dynamic-bucket.target-row-num': '50000' }),
    baseline: () => sinkThroughput(2),
  },
  {
    name: 'lake-freshness',
    get metric() {
      return `ms from a row leaving the source to it being readable in the table, 1 s checkpoints, 5k rows/s for ${FRESHNESS_SECONDS} s, parallelism 2: median (last run: p99 ${freshnessStats.p99 ?? '-'} ms over ${freshnessStats.rows ?? '-'} rows; production Paimon on Flink reports 1-5 minutes)`;
    },
    unit: 'ms',
    lowerIsBetter: true,
    runs: 1,
    run: freshness,
  },
  {
    name: 'lake-files',
    get metric() {
      return `live data files per partition after ${FILES_SECONDS} s of 1 s checkpoints (a scaled-down hour: ${FILES_SECONDS} instead of 3600 checkpoints), 2k rows/s, compaction on [${filesStats.on ?? ''}]; baseline compaction off [${filesStats.off ?? ''}]`;
    },
    unit: 'files',
    lowerIsBetter: true,
    runs: 1,
    run: () => filesPerPartition(true),
    baseline: () => filesPerPartition(false),
  },
];

export default benchmarks;
