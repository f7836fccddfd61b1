/**
 * The source driver's public behaviour: records stamped by the timestamp assigner (or the source's
 * own timestamp), watermarks per split (largest timestamp minus the bound minus 1, the source's
 * being the minimum over splits, never going back), splits idle after the idle timeout leave the
 * minimum, and the source says idle when every split is. The wall clock is set by hand.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PollStatus, ReaderOutput, Source, SourceReader, SourceSplit } from '../../../runtime/source/contract.ts';
import { SourceDriver } from '../../../runtime/task/source-driver.ts';
import { WatermarkStrategy } from '../../../runtime/graph/watermark-strategy.ts';
import { OperatorStateStore } from '../../../state/operator-state.ts';

interface Rec {
  split: number;
  ts: number;
}

/** A reader that emits, per poll, what the test queued, each record on split `String(rec.split)`. */
class ScriptedReader implements SourceReader<Rec, SourceSplit> {
  readonly queue: Rec[][] = [];
  readonly splits: SourceSplit[] = [];
  addSplits(splits: readonly SourceSplit[]): void {
    this.splits.push(...splits);
  }
  notifyNoMoreSplits(): void {}
  poll(out: ReaderOutput<Rec>): PollStatus {
    const batch = this.queue.shift();
    if (!batch) return 'wait';
    for (const r of batch) out.forSplit(String(r.split)).collect(r, r.ts + 1_000_000);
    return 'more';
  }
  available(): Promise<void> {
    return Promise.resolve();
  }
  snapshotState(): SourceSplit[] {
    return this.splits;
  }
}

async function driver(strategy: WatermarkStrategy<Rec> | undefined, splits = 2, watermarkIntervalMs = 0) {
  const reader = new ScriptedReader();
  const source = { name: 'scripted', bounded: false, createReader: () => reader } as unknown as Source<Rec, SourceSplit, unknown>;
  const emitted: [Rec, number][] = [];
  const d = new SourceDriver<Rec>(source, strategy, { emit: (v, t) => emitted.push([v, t]) }, 'scripted', watermarkIntervalMs);
  d.open({ subtaskIndex: 0, parallelism: 1, operatorState: new OperatorStateStore('src', 0), sendToEnumerator: () => {} });
  d.handle({ type: 'add-splits', splits: Array.from({ length: splits }, (_, i) => ({ id: String(i) })) });
  const step = async (...batch: Rec[]) => {
    reader.queue.push(batch);
    d.poll(100);
    return d.watermarkUpdate();
  };
  return { d, reader, emitted, step };
}

const byTs = WatermarkStrategy.forBoundedOutOfOrderness<Rec>(10, (r) => r.ts);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('source driver', () => {
  it('stamps records with the assigner, or with the source timestamp without one', async () => {
    const a = await driver(byTs);
    await a.step({ split: 0, ts: 5 });
    expect(a.emitted).toEqual([[{ split: 0, ts: 5 }, 5]]);
    const b = await driver(WatermarkStrategy.forMonotonousTimestamps<Rec>());
    await b.step({ split: 0, ts: 5 });
    expect(b.emitted).toEqual([[{ split: 0, ts: 5 }, 1_000_005]]);
    const c = await driver(undefined); // no strategy: the source's timestamps, no watermarks
    expect(await c.step({ split: 0, ts: 5 })).toEqual({});
    expect(c.emitted).toEqual([[{ split: 0, ts: 5 }, 1_000_005]]);
  });

  it('with an interval, a watermark goes out at most once per interval of either clock; one held back is due when it has passed', async () => {
    const { d, step } = await driver(byTs, 1, 200);
    expect(d.watermarkDueInMs()).toBeUndefined();
    expect(await step({ split: 0, ts: 100 })).toEqual({ watermark: 89 }); // the first at once
    vi.setSystemTime(50);
    expect(await step({ split: 0, ts: 150 })).toEqual({}); // held back: 150 ms to go
    expect(d.watermarkDueInMs()).toBe(150);
    vi.setSystemTime(120);
    expect(await step({ split: 0, ts: 160 })).toEqual({});
    expect(d.watermarkDueInMs()).toBe(80);
    vi.setSystemTime(200);
    expect(d.watermarkDueInMs()).toBe(0);
    // nothing new to read, but the interval passed: the largest timestamp seen so far goes out
    expect(d.watermarkUpdate()).toEqual({ watermark: 149 });
    expect(d.watermarkDueInMs()).toBeUndefined();
    vi.setSystemTime(250);
    expect(await step({ split: 0, ts: 120 })).toEqual({}); // nothing past what went out: nothing held
    expect(d.watermarkDueInMs()).toBeUndefined();
    // moved by the interval in event time (a source catching up): out at once
    vi.setSystemTime(260);
    expect(await step({ split: 0, ts: 500 })).toEqual({ watermark: 489 });
    vi.setSystemTime(300);
    expect(await step({ split: 0, ts: 520 })).toEqual({});
    expect(d.watermarkDueInMs()).toBe(160);
    vi.setSystemTime(460);
    expect(await step({ split: 0, ts: 530 })).toEqual({ watermark: 519 });
  });

  it('without an interval every poll that moves the watermark sends it', async () => {
    const { d, step } = await driver(byTs, 1);
    expect(await step({ split: 0, ts: 100 })).toEqual({ watermark: 89 });
    expect(await step({ split: 0, ts: 101 })).toEqual({ watermark: 90 });
    expect(d.watermarkDueInMs()).toBeUndefined();
  });

  it('the watermark is the minimum over splits of (largest timestamp - bound - 1), and never goes back', async () => {
    const { step } = await driver(byTs);
    expect(await step({ split: 0, ts: 100 })).toEqual({}); // split 1 has seen nothing: holds the watermark
    expect(await step({ split: 1, ts: 50 })).toEqual({ watermark: 39 });
    expect(await step({ split: 1, ts: 40 })).toEqual({}); // out of order within the bound: no change
    expect(await step({ split: 1, ts: 200 })).toEqual({ watermark: 89 });
    expect(await step({ split: 0, ts: 150 })).toEqual({ watermark: 139 });
    expect(await step({ split: 0, ts: 120 }, { split: 1, ts: 130 })).toEqual({});
  });

  it('a split silent for the idle timeout leaves the minimum; when all are idle the source is idle, until a record', async () => {
    const { step, d } = await driver(byTs.withIdleness(1000));
    expect(await step({ split: 0, ts: 100 }, { split: 1, ts: 20 })).toEqual({ watermark: 9 });
    vi.setSystemTime(600);
    expect(await step({ split: 0, ts: 300 })).toEqual({}); // split 1 still active (600 ms < 1000)
    vi.setSystemTime(1000);
    expect(await step({ split: 0, ts: 310 })).toEqual({ watermark: 299 }); // split 1 idle: split 0 alone
    vi.setSystemTime(2500);
    expect(d.watermarkUpdate()).toEqual({ idle: true }); // nothing for 1000 ms anywhere
    expect(d.watermarkUpdate()).toEqual({}); // said once
    expect(await step({ split: 1, ts: 400 })).toEqual({ idle: false, watermark: 389 });
  });

  it('a split the reader emits for before it was assigned joins the minimum when it first emits', async () => {
    const { step } = await driver(byTs, 1);
    expect(await step({ split: 0, ts: 100 })).toEqual({ watermark: 89 });
    expect(await step({ split: 1, ts: 50 })).toEqual({}); // held at 89: it never goes back
    expect(await step({ split: 0, ts: 500 })).toEqual({}); // split 1 (at 39) now holds it
    expect(await step({ split: 1, ts: 300 })).toEqual({ watermark: 289 });
  });

  it('a failing timestamp assigner is an error naming the source and the record', async () => {
    const { step } = await driver(
      WatermarkStrategy.forMonotonousTimestamps<Rec>((r) => {
        if (r.ts < 0) throw new Error('negative time');
        return r.ts;
      }),
    );
    await expect(step({ split: 0, ts: -1 })).rejects.toThrow(/scripted \(timestamp assigner\).*"ts":-1.*negative time/s);
  });
});
