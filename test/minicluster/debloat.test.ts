/**
 * Buffer debloating under back-pressure: a slow keyed stage asks its senders for small batches, so
 * a checkpoint barrier has few records ahead of it; without debloating it waits behind every
 * credit's worth of full batches. Counts only: how many records were in flight ahead of barriers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, type ClusterOptions } from '../../runtime/api/index.ts';
import job from './jobs/slow-keyed.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-debloat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const credits = 4;
const batchSize = 1024;
const minBatchSize = 16;
const count = 30_000;

async function run(debloat: ClusterOptions['debloat']) {
  const cluster = new MiniCluster({
    workers: 2,
    credits,
    batchSize,
    stateBackend: 'heap',
    debloat,
    checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(dir, String(Math.random())) } },
  });
  // At least 0.1 ms per record: each keyed subtask takes at most 10k records/s.
  const handle = await cluster.submit(job, { params: { count, sleepMs: 0.1 }, parallelism: 2 });
  const result = await handle.result();
  expect(result.get<number>({ topic: 'count' }).reduce((a, b) => a + b, 0)).toBe(count);
  expect(handle.checkpoints().filter((c) => c.status === 'completed').length).toBeGreaterThanOrEqual(2);
  const byName = new Map(result.metrics.operators.map((o) => [o.name, o]));
  return { source: byName.get('datagen')!, slow: byName.get('process')! };
}

describe('buffer debloating', () => {
  it('under back-pressure, records ahead of a barrier stay within credits x the debloated batch size', async () => {
    // 10k records/s x 10 ms target = 100 records for 2 channels x 4 credits: below the minimum of 16 per batch.
    const { source, slow } = await run({ targetMs: 10, periodMs: 20, samples: 1, minBatchSize });
    expect(slow.inputBatchSize).toBe(minBatchSize);
    expect(source.backPressuredMs).toBeGreaterThan(0);
    // Barriers before the first throughput sample, or behind batches made before it, wait behind
    // full-size batches; every barrier after that has at most `credits` batches sent and not yet
    // processed ahead of it, plus what one source step (2 channels x 16 records) and the partial
    // batch before it left held back.
    expect(source.debloatedBarriers).toBeGreaterThan(0);
    expect(source.maxRecordsAheadOfDebloatedBarrier).toBeLessThanOrEqual((credits + 3) * minBatchSize);
    expect(slow.maxInputQueue).toBeLessThanOrEqual(credits);
  });

  it('without debloating, barriers wait behind full batches (the same measurement can fail)', async () => {
    const { source, slow } = await run(false);
    expect(slow.inputBatchSize).toBeUndefined();
    expect(source.debloatedBarriers).toBe(0);
    expect(source.maxRecordsAheadOfBarrier).toBeGreaterThan((credits + 3) * minBatchSize);
    expect(source.maxRecordsAheadOfBarrier).toBeGreaterThanOrEqual(batchSize);
  });
});
