import { describe, expect, it } from 'vitest';
import { BufferDebloater, ThroughputMeter, debloatConfig } from '../../../runtime/exchange/buffer-debloater.ts';
import { ConfigError } from '../../../runtime/errors.ts';

describe('buffer debloater: sizing', () => {
  // 2 input channels x 4 credits = 8 batches in flight towards the task.
  const config = debloatConfig({ targetMs: 100, samples: 1, thresholdPercent: 25, minBatchSize: 32 });

  it('sizes batches so that credits x batch size on every channel take the target time to process', () => {
    const d = new BufferDebloater(config, 4096, 8);
    // 10k records/s x 100 ms = 1000 records in flight, over 8 batches: 125 each.
    expect(d.desiredBatchSize(10_000)).toBe(125);
    // Rounds up: 1001 records over 8 batches.
    expect(d.desiredBatchSize(10_010)).toBe(126);
  });

  it('keeps the configured size for a fast consumer and the minimum for a very slow one', () => {
    const d = new BufferDebloater(config, 4096, 8);
    expect(d.desiredBatchSize(5_000_000)).toBe(4096);
    expect(d.desiredBatchSize(100)).toBe(32);
    expect(d.desiredBatchSize(0)).toBe(32);
    // A minimum above the configured size never makes batches larger than configured.
    expect(new BufferDebloater(debloatConfig({ minBatchSize: 64, targetMs: 100 }), 16, 8).desiredBatchSize(0)).toBe(16);
  });

  it('announces a new size only when it moved by the threshold, or reached a bound', () => {
    const d = new BufferDebloater(config, 4096, 8);
    expect(d.batchSize).toBe(4096);
    expect(d.onSample(80_000)).toBe(1000);
    // 1100 is 10% away from 1000: below the 25% threshold, nothing announced.
    expect(d.onSample(88_000)).toBeUndefined();
    expect(d.batchSize).toBe(1000);
    // 1300 is 30% away.
    expect(d.onSample(104_000)).toBe(1300);
    // Up to the configured size (a bound).
    expect(d.onSample(10_000_000)).toBe(4096);
    expect(d.onSample(10_000_000)).toBeUndefined();
    // Down to the minimum.
    expect(d.onSample(10)).toBe(32);
    expect(d.onSample(10)).toBeUndefined();
  });

  it('smooths throughput samples with an exponential moving average', () => {
    // samples 3: alpha = 2 / (3 + 1) = 0.5.
    const d = new BufferDebloater(debloatConfig({ targetMs: 100, samples: 3, thresholdPercent: 0, minBatchSize: 1 }), 1_000_000, 1);
    d.onSample(1000);
    expect(d.throughput).toBe(1000);
    d.onSample(3000);
    expect(d.throughput).toBe(2000);
    d.onSample(0);
    expect(d.throughput).toBe(1000);
    // 1000 records/s x 100 ms over one batch in flight.
    expect(d.batchSize).toBe(100);
  });

  it('ignores samples that are not throughputs', () => {
    const d = new BufferDebloater(config, 4096, 8);
    expect(d.onSample(Number.NaN)).toBeUndefined();
    expect(d.onSample(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(d.onSample(-5)).toBeUndefined();
    expect(d.batchSize).toBe(4096);
  });
});

describe('buffer debloater: throughput meter', () => {
  it('gives one sample per period: records over the time the task could take them', () => {
    let now = 0;
    const meter = new ThroughputMeter(100, () => now);
    now = 40;
    expect(meter.took(400)).toBeUndefined();
    // Idle (nothing to take) from 40 until the next take at 100: 60 ms that do not count.
    meter.idle();
    now = 90;
    meter.idle(); // still idle: idleness started at 40
    now = 100;
    // 400 + 100 records over 100 - 60 = 40 ms of activity.
    expect(meter.took(100)).toBe(12_500);
    // The next period starts afresh.
    now = 150;
    expect(meter.took(100)).toBeUndefined();
    now = 200;
    expect(meter.took(100)).toBe(2000);
  });

  it('gives no sample for a period without records or activity', () => {
    let now = 0;
    const meter = new ThroughputMeter(100, () => now);
    meter.idle();
    now = 500;
    expect(meter.took(0)).toBeUndefined();
  });
});

describe('buffer debloater: configuration', () => {
  it('is on by default with Flink-like settings, and can be switched off', () => {
    expect(debloatConfig()).toMatchObject({ enabled: true, targetMs: 200, thresholdPercent: 25 });
    expect(debloatConfig(false).enabled).toBe(false);
  });

  it('names the setting that is wrong', () => {
    expect(() => debloatConfig({ targetMs: 0 })).toThrow(ConfigError);
    expect(() => debloatConfig({ targetMs: 0 })).toThrow(/debloat\.targetMs/);
    expect(() => debloatConfig({ minBatchSize: 0.5 })).toThrow(/debloat\.minBatchSize/);
    expect(() => debloatConfig({ thresholdPercent: 100 })).toThrow(/debloat\.thresholdPercent/);
  });
});
