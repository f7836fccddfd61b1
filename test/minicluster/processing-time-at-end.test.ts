/**
 * Processing time at the end of a bounded input (Flink's behaviour): timers due before the end
 * fire and their records reach the sink; pending ones are cancelled. Nothing the operator emits is
 * lost: with checkpointing on, the task waits for the final checkpoint after the end of input, and
 * a timer firing in that wait used to emit into channels that had already ended, silently dropped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from '../../runtime/api/index.ts';
import job, { outputs } from './jobs/processing-timers-at-end.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('processing-time timers at the end of input', () => {
  it('every record the operator emitted reaches the sink; pending timers do not fire after the end', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-pt-end-'));
    dirs.push(dir);
    const count = 2000;
    const result = await new MiniCluster({ workers: 2, checkpoints: { intervalMs: 2000, storage: { kind: 'local', dir } } }).execute(job, {
      params: { count, ratePerSecond: 4000, delayMs: 100 },
      parallelism: 2,
    });
    const got = result.get(outputs);
    expect(got.filter((o) => o.kind === 'direct').length).toBe(count);
    const timed = result.metrics.operators.find((o) => o.name === 'timed')!;
    const sink = result.metrics.operators.find((o) => o.name === 'collect:outputs')!;
    expect(got.length).toBe(timed.recordsOut);
    expect(sink.recordsIn).toBe(timed.recordsOut);
    // Timers due while the input ran fired (one per key and distinct time).
    expect(got.some((o) => o.kind === 'timer')).toBe(true);
  });
});
