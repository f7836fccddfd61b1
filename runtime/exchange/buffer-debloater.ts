/**
 * Buffer debloating (as Flink's FLIP-183): a receiving task measures how fast it consumes records
 * and sizes the batches its senders make so that what is in flight towards it (credits x batch
 * size on every input channel) takes about `targetMs` to process. A fast consumer keeps full-size
 * batches; a slow, back-pressured one gets small batches, so a checkpoint barrier waits behind at
 * most about `targetMs` of data instead of every credit's worth of full batches, and each step of
 * the consumer's loop (one batch) stays short, which lets the asynchronous part of its snapshot
 * (file writes, between batches on the same thread) proceed.
 *
 * Credits stay counted in batches (the receiver's memory bound does not change); only the batch
 * size moves, between `minBatchSize` and the configured batch size.
 */
import { ConfigError } from '../errors.ts';

export interface DebloatConfig {
  /** On by default. Off: every batch has the configured size. */
  enabled: boolean;
  /** Time the data in flight towards a task should take it to process (Flink: buffer-debloat.target). */
  targetMs: number;
  /** How often the consumption throughput is measured and batch sizes reconsidered. */
  periodMs: number;
  /** Throughput samples averaged (exponential moving average over about this many). */
  samples: number;
  /** A new batch size is announced only if it differs from the last one by at least this many percent. */
  thresholdPercent: number;
  /** Smallest batch size announced, in records. */
  minBatchSize: number;
}

export function debloatConfig(partial: Partial<DebloatConfig> | boolean = {}): DebloatConfig {
  const p = typeof partial === 'boolean' ? { enabled: partial } : partial;
  const c: DebloatConfig = {
    enabled: p.enabled ?? true,
    targetMs: p.targetMs ?? 200,
    periodMs: p.periodMs ?? 100,
    samples: p.samples ?? 10,
    thresholdPercent: p.thresholdPercent ?? 25,
    minBatchSize: p.minBatchSize ?? 32,
  };
  if (!(c.targetMs > 0)) throw new ConfigError('debloat.targetMs', `must be > 0, got ${c.targetMs}`);
  if (!(c.periodMs > 0)) throw new ConfigError('debloat.periodMs', `must be > 0, got ${c.periodMs}`);
  if (!(Number.isInteger(c.samples) && c.samples >= 1)) throw new ConfigError('debloat.samples', `must be a whole number >= 1, got ${c.samples}`);
  if (!(c.thresholdPercent >= 0 && c.thresholdPercent < 100)) throw new ConfigError('debloat.thresholdPercent', `must be in [0, 100), got ${c.thresholdPercent}`);
  if (!(Number.isInteger(c.minBatchSize) && c.minBatchSize >= 1)) throw new ConfigError('debloat.minBatchSize', `must be a whole number >= 1, got ${c.minBatchSize}`);
  return c;
}

/**
 * The sizing rule alone (no clock): fed one throughput sample per period, it answers the batch
 * size to announce, or undefined when the current one is close enough.
 */
export class BufferDebloater {
  private average = NaN;
  private readonly alpha: number;
  /** The batch size in force (last announced; the configured size at first). */
  batchSize: number;

  constructor(
    private readonly config: DebloatConfig,
    /** The configured (largest) batch size. */
    private readonly maxBatchSize: number,
    /** Input channels of the task and credits of each: the number of batches in flight towards it. */
    private readonly batchesInFlight: number,
  ) {
    this.alpha = 2 / (config.samples + 1);
    this.batchSize = maxBatchSize;
  }

  /** The smoothed consumption throughput, records/s (NaN before the first sample). */
  get throughput(): number {
    return this.average;
  }

  /** What the batch size should be for a smoothed throughput of `recordsPerSecond`. */
  desiredBatchSize(recordsPerSecond: number): number {
    const inFlight = (recordsPerSecond * this.config.targetMs) / 1000;
    const size = Math.ceil(inFlight / Math.max(1, this.batchesInFlight));
    return Math.min(this.maxBatchSize, Math.max(Math.min(this.config.minBatchSize, this.maxBatchSize), size));
  }

  /** One throughput sample (records/s over a period of activity); returns a new batch size to announce, if any. */
  onSample(recordsPerSecond: number): number | undefined {
    if (!(recordsPerSecond >= 0) || !Number.isFinite(recordsPerSecond)) return undefined;
    this.average = Number.isNaN(this.average) ? recordsPerSecond : this.average + this.alpha * (recordsPerSecond - this.average);
    const next = this.desiredBatchSize(this.average);
    if (next === this.batchSize) return undefined;
    const atBound = next === this.maxBatchSize || next === Math.min(this.config.minBatchSize, this.maxBatchSize);
    if (!atBound && Math.abs(next - this.batchSize) * 100 < this.config.thresholdPercent * this.batchSize) return undefined;
    this.batchSize = next;
    return next;
  }
}

/**
 * Consumption throughput of a task's input: records taken over the time it was able to take
 * them. Time with nothing to take (no input, or every channel blocked by barrier alignment) does
 * not count, so a consumer that is not the bottleneck still measures its capacity; time spent
 * back-pressured by its own output does count (that is how fast its input really drains).
 */
export class ThroughputMeter {
  private records = 0;
  private idleMs = 0;
  private idleSince = -1;
  private periodStart: number;

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.periodStart = now();
  }

  /** Nothing to take now. */
  idle(): void {
    if (this.idleSince < 0) this.idleSince = this.now();
  }

  /** `records` were taken; returns a throughput sample when a period is over. */
  took(records: number): number | undefined {
    this.records += records;
    const now = this.now();
    if (this.idleSince >= 0) {
      this.idleMs += now - this.idleSince;
      this.idleSince = -1;
    }
    const elapsed = now - this.periodStart;
    if (elapsed < this.periodMs) return undefined;
    const active = elapsed - this.idleMs;
    const sample = active >= 1 && this.records > 0 ? (this.records * 1000) / active : undefined;
    this.records = 0;
    this.idleMs = 0;
    this.periodStart = now;
    return sample;
  }
}
