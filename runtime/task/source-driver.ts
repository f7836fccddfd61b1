/**
 * Runs a source reader inside its task: polls it for batches, stamps records with event time, and
 * generates watermarks per split (largest timestamp seen minus the out-of-orderness bound, minus 1),
 * the source's watermark being the minimum over splits that are not idle. When every split is idle
 * the task says so downstream so that it holds no watermark back.
 */
import type { PollStatus, Source, SourceOutput, SourceReader, SourceReaderContext } from '../../connectors/source.ts';
import type { Output } from '../../operators/operator.ts';
import type { WatermarkStrategy } from '../graph/watermark-strategy.ts';
import { userFunctionError } from '../errors.ts';

export interface WatermarkUpdate {
  watermark?: number;
  idle?: boolean;
}

class SplitWatermarks {
  private readonly maxTs: number[];
  private readonly lastActive: number[];
  private emitted = -Infinity;
  private idle = false;

  constructor(
    splits: number,
    private readonly bound: number,
    private readonly idleTimeoutMs: number | undefined,
    now: number,
  ) {
    this.maxTs = new Array<number>(splits).fill(-Infinity);
    this.lastActive = new Array<number>(splits).fill(now);
  }

  observe(split: number, ts: number, now: number): void {
    if (split >= this.maxTs.length) {
      // A reader may discover more splits than it declared; they join the minimum from now on.
      for (let s = this.maxTs.length; s <= split; s++) {
        this.maxTs.push(-Infinity);
        this.lastActive.push(now);
      }
    }
    if (ts > this.maxTs[split]!) this.maxTs[split] = ts;
    this.lastActive[split] = now;
  }

  /** What changed since the last call. */
  update(now: number): WatermarkUpdate {
    let min = Infinity;
    let active = 0;
    for (let s = 0; s < this.maxTs.length; s++) {
      if (this.idleTimeoutMs !== undefined && now - this.lastActive[s]! >= this.idleTimeoutMs) continue;
      active++;
      const wm = this.maxTs[s]! - this.bound - 1;
      if (wm < min) min = wm;
    }
    const out: WatermarkUpdate = {};
    const idle = active === 0;
    if (idle !== this.idle) {
      this.idle = idle;
      out.idle = idle;
    }
    if (!idle && min > this.emitted) {
      this.emitted = min;
      out.watermark = min;
    }
    return out;
  }
}

export class SourceDriver<T> implements SourceOutput<T> {
  reader!: SourceReader<T>;
  private watermarks: SplitWatermarks | undefined;
  private now = 0;
  private readonly timestampOf: ((value: T) => number) | undefined;

  constructor(
    private readonly source: Source<T>,
    private readonly strategy: WatermarkStrategy<T> | undefined,
    private readonly out: Output<T>,
    private readonly name: string,
  ) {
    this.timestampOf = strategy?.timestampOf;
  }

  async open(context: SourceReaderContext): Promise<void> {
    this.reader = await this.source.createReader(context);
    if (this.strategy?.emitsWatermarks) {
      this.watermarks = new SplitWatermarks(this.reader.splits ?? 1, this.strategy.outOfOrdernessMs, this.strategy.idleTimeoutMs, Date.now());
    }
  }

  collect(value: T, timestamp?: number, split = 0): void {
    let ts: number;
    if (this.timestampOf) {
      try {
        ts = this.timestampOf(value);
      } catch (e) {
        throw userFunctionError(`${this.name} (timestamp assigner)`, value, e);
      }
    } else ts = timestamp ?? Number.NaN;
    this.out.emit(value, ts);
    if (this.watermarks && ts === ts) this.watermarks.observe(split, ts, this.now);
  }

  poll(max: number): PollStatus | Promise<PollStatus> {
    this.now = Date.now();
    return this.reader.poll(this, max);
  }

  /** Watermark and idleness changes after a poll (or a timer, for idleness while nothing arrives). */
  watermarkUpdate(): WatermarkUpdate {
    return this.watermarks ? this.watermarks.update(Date.now()) : {};
  }

  get idleTimeoutMs(): number | undefined {
    return this.strategy?.idleTimeoutMs;
  }
}
