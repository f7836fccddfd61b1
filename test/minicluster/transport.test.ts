/**
 * The in-process transport: a job planned over two task managers runs with both on the calling
 * thread, their exchange over in-process links, and gives what it gives over worker threads.
 */
import { describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { counts, type WordCount } from './jobs/word-count.ts';

const sorted = (rows: WordCount[]) => rows.map((r) => `${r.word}:${r.count}`).sort();

describe('transport', () => {
  it('in-process task managers exchange records like worker threads', async () => {
    const params = { lines: 3000, seed: 7 };
    const threads = await new MiniCluster({ workers: 2, stateBackend: 'heap', onWarning: () => {} }).execute(job, { params, parallelism: 2 });
    const inProcess = await new MiniCluster({ workers: 2, transport: 'in-process', stateBackend: 'heap', onWarning: () => {} }).execute(job, { params, parallelism: 2 });
    expect(sorted(inProcess.get(counts))).toEqual(sorted(threads.get(counts)));
    expect(inProcess.get(counts).length).toBeGreaterThan(1000);
    // the keyed exchange crossed task managers: both ran part of the counting
    const counting = inProcess.metrics.operators.find((o) => o.name === 'process')!;
    expect(counting.parallelism).toBe(2);
  });
});
