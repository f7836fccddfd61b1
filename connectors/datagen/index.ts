/**
 * A deterministic generator source: record i is `generate(i, random)` with `random` seeded from
 * (seed, i). Bounded (`count`) or unbounded, as fast as possible or rate-limited.
 *
 * The index space is cut into a fixed number of splits (split j holds records j, j+S, j+2S, ...);
 * subtasks share the splits, and each split's position is checkpointed, so a restored job
 * continues exactly where the checkpoint was taken, also at another parallelism (the splits are
 * dealt anew). Each split has its own watermark.
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
  /** How many splits the index space is cut into (default 32): the highest parallelism the source can run at. */
  splits?: number;
  generate(index: number, random: SeededRandom): T;
  /** The record's source timestamp (used when the watermark strategy has no assigner). */
  timestampOf?(value: T, index: number): number;
}

interface SplitPosition {
  split: number;
  /** The next index this split generates. */
  next: number;
}

class DatagenReader<T> implements SourceReader<T> {
  private readonly owned: SplitPosition[];
  readonly splits: number;
  private readonly random = new SeededRandom();
  private readonly state: OperatorListState<SplitPosition>;
  private readonly startedAt = Date.now();
  private readonly totalSplits: number;
  private emitted = 0;
  private cursor = 0;

  constructor(
    private readonly options: DatagenOptions<T>,
    ctx: SourceReaderContext,
  ) {
    this.totalSplits = options.splits ?? 32;
    if (ctx.parallelism > this.totalSplits) {
      throw new ConfigError(`datagen '${options.name ?? 'datagen'}'.splits`, `is ${this.totalSplits}, below the source's parallelism ${ctx.parallelism}; raise splits (it bounds the parallelism, and must stay the same across restarts)`);
    }
    this.state = ctx.operatorState.getListState<SplitPosition>('datagen-splits');
    const restored = this.state.get();
    this.owned = ctx.restored
      ? restored.map((p) => ({ ...p }))
      : Array.from({ length: this.totalSplits }, (_, j) => j)
          .filter((j) => j % ctx.parallelism === ctx.subtaskIndex)
          .map((j) => ({ split: j, next: j }));
    this.owned.sort((a, b) => a.split - b.split);
    this.splits = Math.max(1, this.owned.length);
  }

  poll(out: SourceOutput<T>, max: number): PollStatus {
    const { generate, timestampOf, ratePerSecond } = this.options;
    const seed = this.options.seed ?? 0;
    const end = this.options.count ?? Infinity;
    const owned = this.owned;
    const stride = this.totalSplits;
    let n = max;
    if (ratePerSecond !== undefined) {
      const share = (ratePerSecond * owned.length) / stride;
      const allowed = Math.floor(((Date.now() - this.startedAt) / 1000) * share) - this.emitted;
      if (allowed <= 0) return owned.some((p) => p.next < end) ? 'wait' : 'end';
      n = Math.min(n, allowed);
    }
    // Round robin over the owned splits keeps their event times together.
    let produced = 0;
    let exhausted = 0;
    while (produced < n && exhausted < owned.length) {
      const k = this.cursor;
      this.cursor = k + 1 === owned.length ? 0 : k + 1;
      const p = owned[k]!;
      const i = p.next;
      if (i >= end) {
        exhausted++;
        continue;
      }
      exhausted = 0;
      const value = generate(i, this.random.reset(seed, i));
      out.collect(value, timestampOf ? timestampOf(value, i) : undefined, k);
      p.next = i + stride;
      produced++;
    }
    this.emitted += produced;
    return owned.some((p) => p.next < end) ? 'more' : 'end';
  }

  available(): Promise<void> {
    const perRecordMs = this.options.ratePerSecond ? (1000 * this.totalSplits) / (this.options.ratePerSecond * Math.max(1, this.owned.length)) : 1;
    return new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, perRecordMs))));
  }

  snapshotState(): void {
    this.state.update(this.owned);
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
