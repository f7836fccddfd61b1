/**
 * Six generator sources of different parallelism and size, in one union, through a map and into a
 * sink: every record must arrive exactly once (collect sink), or be committed exactly once
 * (transactional sink, when `outDir` is given, for the failure-injection test).
 */
import { collectSink, datagen, defineJob } from 'weir';
import { transactionalFileSink } from '../../harness/transactional-sink.ts';

export interface Tagged {
  source: number;
  i: number;
}

export const SOURCES = [
  { parallelism: 1, count: 3000 },
  { parallelism: 2, count: 5000 },
  { parallelism: 3, count: 7000 },
  { parallelism: 1, count: 1 },
  { parallelism: 2, count: 0 },
  { parallelism: 3, count: 4000 },
];

/** How many of the sources' records are missing from `records`, and how many are there twice. */
export function missingAndDuplicates(records: Tagged[]): { missing: number; duplicates: number; total: number } {
  const seen = SOURCES.map((s) => new Uint8Array(s.count));
  let duplicates = 0;
  for (const r of records) {
    if (seen[r.source]![r.i]! > 0) duplicates++;
    seen[r.source]![r.i] = 1;
  }
  const missing = seen.reduce((a, s) => a + s.length - s.reduce((x, y) => x + y, 0), 0);
  return { missing, duplicates, total: records.length };
}

export const unioned = collectSink<Tagged>('unioned');

export default defineJob(import.meta.url, (env, p: { ratePerSecond?: number; outDir?: string; sinkParallelism: number }) => {
  const streams = SOURCES.map((s, k) =>
    env.fromSource(
      datagen<Tagged>({ count: s.count, generate: (i) => ({ source: k, i }), ...(p.ratePerSecond ? { ratePerSecond: (p.ratePerSecond * s.count) / 7000 + 1 } : {}) }),
      { parallelism: s.parallelism, uid: `source-${k}`, name: `source-${k}` },
    ),
  );
  const all = streams[0]!.union(...streams.slice(1)).map((t) => ({ source: t.source, i: t.i }), { parallelism: p.sinkParallelism, uid: 'copy' });
  if (p.outDir) all.sinkTo(transactionalFileSink<Tagged>(p.outDir), { parallelism: p.sinkParallelism, uid: 'sink' });
  else all.sinkTo(unioned, { parallelism: p.sinkParallelism });
});
