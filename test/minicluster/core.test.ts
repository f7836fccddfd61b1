import { afterEach, describe, expect, it } from 'vitest';
import { JobFailedError, type JobHandle, MiniCluster, SeededRandom } from 'weir';
import wordCount, { counts, sentence } from './jobs/word-count.ts';
import runningSum, { reading, sums } from './jobs/running-sum.ts';
import eventTimers, { BUCKET_MS, event, firings, late } from './jobs/event-timers.ts';
import idleUnion, { fired } from './jobs/idle-union.ts';
import quietSource, { fired as quietFired, ticksOf } from './jobs/quiet-source.ts';
import slowSink from './jobs/slow-sink.ts';
import failing from './jobs/failing.ts';

/** Final count per word, computed without Weir. */
function plainWordCount(lines: number, seed: number): Map<string, number> {
  const r = new SeededRandom();
  const m = new Map<string, number>();
  for (let i = 0; i < lines; i++) for (const w of sentence(i, r.reset(seed, i)).split(' ')) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

function lastPerKey<T>(records: T[], key: (r: T) => string, value: (r: T) => number, pick: 'max' | 'last'): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) {
    const k = key(r);
    const v = value(r);
    m.set(k, pick === 'max' ? Math.max(m.get(k) ?? -Infinity, v) : v);
  }
  return m;
}

let handles: JobHandle[] = [];
afterEach(async () => {
  for (const h of handles) await h.cancel();
  handles = [];
});

describe('mini-cluster: results do not depend on parallelism', () => {
  const lines = 20_000;
  const expected = plainWordCount(lines, 7);

  for (const parallelism of [1, 2, 4]) {
    it(`word count at parallelism ${parallelism}`, async () => {
      const result = await new MiniCluster({ workers: 2 }).execute(wordCount, { params: { lines, seed: 7 }, parallelism });
      const got = lastPerKey(result.get(counts), (c) => c.word, (c) => c.count, 'max');
      expect(got).toEqual(expected);
      // Every update is emitted once: the number of updates is the number of words.
      expect(result.get(counts).length).toBe([...expected.values()].reduce((a, b) => a + b, 0));
    });
  }

  it('keyed running sum at parallelism 1, 2 and 4 equals a plain computation', async () => {
    const count = 30_000;
    const r = new SeededRandom();
    const expected = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const x = reading(i, r.reset(3, i));
      if (x.value * 2 === 0) continue;
      expected.set(x.sensor, (expected.get(x.sensor) ?? 0) + x.value * 2);
    }
    for (const parallelism of [1, 2, 4]) {
      const result = await new MiniCluster({ workers: 2 }).execute(runningSum, { params: { count, seed: 3 }, parallelism });
      // Within a key, records stay in order, so the key's last emitted sum is its total.
      expect(lastPerKey(result.get(sums), (s) => s.sensor, (s) => s.value, 'last')).toEqual(expected);
    }
  });

  it('runs the same on an in-process task manager', async () => {
    const result = await new MiniCluster({ workers: 0 }).execute(wordCount, { params: { lines: 5000, seed: 7 }, parallelism: 3 });
    expect(lastPerKey(result.get(counts), (c) => c.word, (c) => c.count, 'max')).toEqual(plainWordCount(5000, 7));
  });
});

describe('mini-cluster: event time', () => {
  it('fires timers in event-time order, after the watermark passed them, once each', async () => {
    const params = { count: 20_000, seed: 11, disorder: 40, bound: 50 };
    const result = await new MiniCluster({ workers: 2 }).execute(eventTimers, { params, parallelism: 2 });
    const r = new SeededRandom();
    const expected = new Map<string, number>();
    for (let i = 0; i < params.count; i++) {
      const e = event(i, r.reset(params.seed, i), params.disorder);
      const id = `${e.key}@${Math.floor(e.ts / BUCKET_MS) * BUCKET_MS + BUCKET_MS - 1}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    // The bound covers the disorder, so no record is late and every bucket is counted in full.
    expect(result.get(late)).toEqual([]);
    const got = new Map(result.get(firings).map((f) => [`${f.key}@${f.time}`, f.count]));
    expect(got).toEqual(expected);
    expect(result.get(firings).length).toBe(expected.size);
    const lastByKey = new Map<string, number>();
    for (const f of result.get(firings)) {
      expect(f.watermark).toBeGreaterThanOrEqual(f.time);
      expect(f.time).toBeGreaterThan(lastByKey.get(f.key) ?? -Infinity);
      lastByKey.set(f.key, f.time);
    }
  });

  it('routes records behind the watermark to the late side output', async () => {
    // Disorder 300 ms against a bound of 20 ms: some records arrive behind the watermark.
    const params = { count: 20_000, seed: 5, disorder: 300, bound: 20 };
    const result = await new MiniCluster({ workers: 2 }).execute(eventTimers, { params, parallelism: 2 });
    const lateCount = result.get(late).length;
    const counted = result.get(firings).reduce((a, f) => a + f.count, 0);
    expect(lateCount).toBeGreaterThan(0);
    expect(lateCount + counted).toBe(params.count);
  });

  it('an idle source does not hold the watermark back', async () => {
    const handle = await new MiniCluster({ workers: 2 }).submit(idleUnion, { params: { count: 300 }, parallelism: 2 });
    handles.push(handle);
    // The other source never ends, so the job runs until canceled; wait for every timer to fire.
    for (let i = 0; i < 200 && handle.collectedSoFar(fired).length < 300; i++) await new Promise((r) => setTimeout(r, 50));
    expect(handle.collectedSoFar(fired).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i * 100));
  });

  it('a watermark the auto-watermark interval held back goes out when the source goes quiet', async () => {
    // Five polls in quick succession: the first one's watermark goes out, the later ones' are held
    // back by the interval; then the reader has nothing and never wakes the task.
    const handle = await new MiniCluster({ workers: 1, autoWatermarkIntervalMs: 300 }).submit(quietSource, { params: { polls: 5 }, parallelism: 1 });
    handles.push(handle);
    const n = ticksOf(5);
    // Monotonous timestamps: the watermark is the largest timestamp - 1, so the last tick's timer
    // waits for a record that never comes; every earlier one fires.
    const expected = Array.from({ length: n - 1 }, (_, i) => i);
    for (let i = 0; i < 200 && handle.collectedSoFar(quietFired).length < n - 1; i++) await new Promise((r) => setTimeout(r, 25));
    expect(handle.collectedSoFar(quietFired).sort((a, b) => a - b)).toEqual(expected);
  });
});

describe('mini-cluster: flow control', () => {
  it('a slow sink back-pressures the source and queues stay bounded by the credits', async () => {
    const credits = 4;
    const batchSize = 256;
    const result = await new MiniCluster({ workers: 2, credits, batchSize }).execute(slowSink, { params: { count: 200_000 }, parallelism: 2 });
    const byName = new Map(result.metrics.operators.map((o) => [o.name, o]));
    expect(byName.get('sleepy-sink')!.recordsIn).toBe(200_000);
    // Receivers never hold more batches than they granted credits for.
    expect(byName.get('process')!.maxInputQueue).toBeLessThanOrEqual(credits);
    // Senders hold back at most one source batch's worth per channel (4096 records / 256 per batch).
    expect(byName.get('datagen')!.maxOutputBacklog).toBeLessThanOrEqual(4096 / batchSize + 1);
    expect(byName.get('datagen')!.backPressuredMs).toBeGreaterThan(0);
  });
});

describe('mini-cluster: failures and cancellation', () => {
  it('a user-code exception fails the job with the operator, subtask and record', async () => {
    const run = new MiniCluster({ workers: 2 }).execute(failing, { params: { failAt: 4321, unbounded: false }, parallelism: 2 });
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(JobFailedError);
    const message = (error as Error).message;
    expect(message).toContain("operator 'price-orders'");
    expect(message).toContain('subtask 1');
    expect(message).toContain('"id":4321');
    expect(message).toContain('cannot price order 4321');
    expect((error as JobFailedError).operator).toBe('price-orders');
  });

  it('cancel stops every worker thread', async () => {
    const handle = await new MiniCluster({ workers: 2 }).submit(failing, { params: { failAt: -1, unbounded: true }, parallelism: 2 });
    expect(handle.liveTaskManagers).toBe(2);
    await new Promise((r) => setTimeout(r, 200));
    await handle.cancel();
    expect(handle.liveTaskManagers).toBe(0);
    expect(handle.status).toBe('canceled');
    await expect(handle.result()).rejects.toThrow(/canceled/);
  });

  it('reports per-operator metrics while running', async () => {
    const handle = await new MiniCluster({ workers: 2 }).submit(failing, { params: { failAt: -1, unbounded: true }, parallelism: 2 });
    handles.push(handle);
    let m = await handle.metrics();
    for (let i = 0; i < 100 && (m.operators.find((o) => o.name === 'price-orders')?.recordsIn ?? 0) < 500; i++) {
      await new Promise((r) => setTimeout(r, 20));
      m = await handle.metrics();
    }
    const op = m.operators.find((o) => o.name === 'price-orders')!;
    expect(op.recordsIn).toBeGreaterThanOrEqual(500);
    expect(op.recordsInPerSecond).toBeGreaterThan(0);
    expect(op.parallelism).toBe(2);
  });
});
