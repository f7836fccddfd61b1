/**
 * A deterministic generator source: record i is `generate(i, random)` with `random` seeded from
 * (seed, i). Bounded (`count`) or unbounded, as fast as possible or rate-limited. Subtask s of p
 * generates records s, s+p, s+2p, ...; its position (the next index) is checkpointed, so a restored
 * job continues exactly where the checkpoint was taken.
 */
import type { PollStatus, Source, SourceOutput, SourceReader, SourceReaderContext } from '../source.ts';
import type { OperatorListState } from '../../state/operator-state.ts';
import { ConfigError } from '../../runtime/errors.ts';
import { SeededRandom } from './seeded-random.ts';

export { SeededRandom };

export interface DatagenOptions<T> {
  name?: string;
  /** Total records over all subtasks; omit for an unbounded source. */
  count?: number;
  /** Records per second over all subtasks; omit to generate as fast as possible. */
  ratePerSecond?: number;
  seed?: number;
  generate(index: number, random: SeededRandom): T;
  /** The record's source timestamp (used when the watermark strategy has no assigner). */
  timestampOf?(value: T, index: number): number;
}

class DatagenReader<T> implements SourceReader<T> {
  readonly splits = 1;
  private next: number;
  private readonly random = new SeededRandom();
  private readonly position: OperatorListState<number>;
  private readonly startedAt = Date.now();
  private emitted = 0;

  constructor(
    private readonly options: DatagenOptions<T>,
    private readonly ctx: SourceReaderContext,
  ) {
    this.position = ctx.operatorState.getListState<number>('datagen-next');
    const restored = this.position.get();
    this.next = restored.length > 0 ? Math.min(...restored) : ctx.subtaskIndex;
  }

  poll(out: SourceOutput<T>, max: number): PollStatus {
    const { generate, timestampOf, count, ratePerSecond } = this.options;
    const seed = this.options.seed ?? 0;
    const stride = this.ctx.parallelism;
    let n = max;
    if (ratePerSecond !== undefined) {
      const allowed = Math.floor(((Date.now() - this.startedAt) / 1000) * (ratePerSecond / stride)) - this.emitted;
      if (allowed <= 0) return 'wait';
      n = Math.min(n, allowed);
    }
    const end = count ?? Infinity;
    let i = this.next;
    for (let k = 0; k < n && i < end; k++, i += stride) {
      const value = generate(i, this.random.reset(seed, i));
      out.collect(value, timestampOf ? timestampOf(value, i) : undefined, 0);
    }
    this.emitted += (i - this.next) / stride;
    this.next = i;
    return i >= end ? 'end' : 'more';
  }

  available(): Promise<void> {
    const perRecordMs = this.options.ratePerSecond ? (1000 * this.ctx.parallelism) / this.options.ratePerSecond : 1;
    return new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, perRecordMs))));
  }

  snapshotState(): void {
    this.position.update([this.next]);
  }
}

export function datagen<T>(options: DatagenOptions<T>): Source<T> {
  if (options.count !== undefined && !(Number.isInteger(options.count) && options.count >= 0)) {
    throw new ConfigError('datagen.count', `must be a whole number >= 0, got ${options.count}`);
  }
  if (options.ratePerSecond !== undefined && !(options.ratePerSecond > 0)) {
    throw new ConfigError('datagen.ratePerSecond', `must be > 0, got ${options.ratePerSecond}`);
  }
  return {
    name: options.name ?? 'datagen',
    bounded: options.count !== undefined,
    createReader: (ctx) => new DatagenReader(options, ctx),
  };
}

/** A bounded source of the given records, in order, spread over subtasks by index. */
export function fromElements<T>(elements: readonly T[], options: { name?: string; timestampOf?: (value: T) => number } = {}): Source<T> {
  return datagen<T>({
    name: options.name ?? 'elements',
    count: elements.length,
    generate: (i) => elements[i]!,
    timestampOf: options.timestampOf ? (v) => options.timestampOf!(v) : undefined,
  });
}
