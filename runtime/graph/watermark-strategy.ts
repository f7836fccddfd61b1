/**
 * How a source turns records into event time: a timestamp per record and a watermark that trails
 * the largest timestamp seen by a bound on out-of-orderness, per source split; a split that has
 * produced nothing for `idleTimeoutMs` stops holding the watermark back.
 */
export interface WatermarkStrategy<T> {
  /** The record's event time; without it, the timestamp the source itself gives (e.g. Kafka's). */
  readonly timestampOf: ((value: T) => number) | undefined;
  /** How late (ms) a record may be relative to the largest timestamp seen and still be on time. */
  readonly outOfOrdernessMs: number;
  /** After this long (ms of processing time) without records, a split is idle. */
  readonly idleTimeoutMs: number | undefined;
  /** False for `noWatermarks()`: records get timestamps but no watermarks are generated. */
  readonly emitsWatermarks: boolean;
  withIdleness(ms: number): WatermarkStrategy<T>;
}

class Strategy<T> implements WatermarkStrategy<T> {
  constructor(
    readonly timestampOf: ((value: T) => number) | undefined,
    readonly outOfOrdernessMs: number,
    readonly idleTimeoutMs: number | undefined,
    readonly emitsWatermarks: boolean,
  ) {
    if (!(outOfOrdernessMs >= 0)) throw new RangeError(`out-of-orderness must be >= 0 ms, got ${outOfOrdernessMs}`);
    if (idleTimeoutMs !== undefined && !(idleTimeoutMs > 0)) throw new RangeError(`idle timeout must be > 0 ms, got ${idleTimeoutMs}`);
  }

  withIdleness(ms: number): WatermarkStrategy<T> {
    return new Strategy(this.timestampOf, this.outOfOrdernessMs, ms, this.emitsWatermarks);
  }
}

export const WatermarkStrategy = {
  forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number, timestampOf?: (value: T) => number): WatermarkStrategy<T> {
    return new Strategy(timestampOf, maxOutOfOrdernessMs, undefined, true);
  },
  forMonotonousTimestamps<T>(timestampOf?: (value: T) => number): WatermarkStrategy<T> {
    return new Strategy(timestampOf, 0, undefined, true);
  },
  noWatermarks<T>(timestampOf?: (value: T) => number): WatermarkStrategy<T> {
    return new Strategy(timestampOf, 0, undefined, false);
  },
};
