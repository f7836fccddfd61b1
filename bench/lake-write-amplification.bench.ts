/**
 * lake-write-amplification: bytes the lake writes per byte it ingests under a steady update load
 * (BENCH_LAKE_AMP_SECONDS of 1 s checkpoints, default 120: a scaled-down hour), and the live files
 * per bucket at the end. Ingested = the level-0 files writers flush at checkpoints (what a table
 * without compaction would hold); written = those plus every compaction output. Orders update
 * 20k keys over 4 buckets at 2k rows/s with compaction at 5 sorted runs (Paimon's default).
 * Baseline: the same with `deletion-vectors.enabled` where the lake supports writing them (else the
 * same table again).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MiniCluster } from 'weir';
import { FileStoreTable } from 'weir/lake';
import { FILE_KIND_ADD, mergeEntries } from '../connectors/lake/format/manifest.ts';
import job, { type LakeBenchParams } from './jobs/lake.ts';
import type { Benchmark, Measurement } from './harness.ts';

const SECONDS = Number(process.env.BENCH_LAKE_AMP_SECONDS ?? 120);
const detail: Record<string, string> = {};

async function amplification(label: string, tableOptions: Record<string, string>): Promise<Measurement> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-amp-bench-'));
  try {
    const params: LakeBenchParams = {
      kind: 'freshness', path: path.join(dir, 'table'), keys: 20_000, ratePerSecond: 2000, count: 2000 * SECONDS, parallelism: 2, compaction: true,
      tableOptions: { 'snapshot.num-retained.min': '100000', 'snapshot.time-retained': '1 d', ...tableOptions },
    };
    await new MiniCluster({ workers: 2, workDir: path.join(dir, 'work'), checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(dir, 'checkpoints') } } })
      .execute(job, { params, parallelism: 2 });
    const table = await FileStoreTable.open(params.path);
    let ingested = 0;
    let written = 0;
    for (const id of await table.snapshots.listIds()) {
      const s = await table.snapshots.snapshot(id);
      for (const e of await table.deltaEntries(s)) {
        if (e.kind !== FILE_KIND_ADD) continue;
        written += e.file.fileSize;
        if (s.commitKind === 'APPEND') ingested += e.file.fileSize;
      }
    }
    const live = mergeEntries(await table.liveEntries((await table.snapshots.latest())!));
    const buckets = new Set(live.map((e) => `${e.partition}|${e.bucket}`)).size;
    detail[label] = `${(ingested / 2 ** 20).toFixed(1)} MiB ingested, ${(written / 2 ** 20).toFixed(1)} MiB written, live files per bucket ${(live.length / Math.max(1, buckets)).toFixed(1)}`;
    return { value: written / ingested };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const benchmarks: Benchmark[] = [
  {
    name: 'lake-write-amplification',
    get metric() {
      return `bytes written / bytes ingested into a primary-key table over ${SECONDS} s of 1 s checkpoints at 2k updates/s over 20k keys, compaction at 5 runs [${detail.plain ?? ''}]; baseline: deletion-vectors.enabled [${detail.dv ?? ''}]`;
    },
    unit: 'x',
    lowerIsBetter: true,
    runs: 1,
    run: () => amplification('plain', {}),
    baseline: () => amplification('dv', { 'deletion-vectors.enabled': 'true' }),
  },
];

export default benchmarks;
