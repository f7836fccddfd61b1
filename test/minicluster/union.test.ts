/** A union of six sources of parallelism 1, 2 and 3 loses nothing and duplicates nothing. */
import { describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { missingAndDuplicates, SOURCES, unioned } from './jobs/union-many.ts';

describe('union of many sources', () => {
  const total = SOURCES.reduce((a, s) => a + s.count, 0);
  for (const sinkParallelism of [1, 2]) {
    it(`delivers every record of 6 sources (parallelism 1-3, one empty) exactly once into ${sinkParallelism} subtask(s)`, async () => {
      const result = await new MiniCluster({ workers: 2, batchSize: 256 }).execute(job, { params: { sinkParallelism }, parallelism: 2 });
      expect(missingAndDuplicates(result.get(unioned))).toEqual({ missing: 0, duplicates: 0, total });
    });
  }
});
