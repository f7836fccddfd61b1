/**
 * A deterministic generator source: record i is `generate(i, random)` with `random` seeded from
 * (seed, i). Bounded (`count`) or unbounded, as fast as possible or rate-limited.
 *
 * The index space is cut into a fixed number of splits (split j holds records j, j+S, j+2S, ...;
 * see sequence.ts): the enumerator gives split j to reader j % parallelism, each split's position is
 * checkpointed under the split's id, so a restored job continues exactly where the checkpoint was
 * taken, also at another parallelism (the splits are dealt out anew, one by one). Each split has its
 * own watermark, and a finished split stops holding the watermark back.
 */
import type { Source, SourceReaderContext, SplitOutput } from '../../runtime/source/contract.ts';
import { ConfigError } from '../../runtime/errors.ts';
import { SeededRandom } from './seeded-random.ts';
import { restoreSequenceEnumerator, sequenceEnumerator, SequenceReader, type SequenceEnumeratorState, type SequenceSplit } from './sequence.ts';

export { SeededRandom };
export { SequenceReader, sequenceEnumerator, restoreSequenceEnumerator, type SequenceSplit, type SequenceEnumeratorState } from './sequence.ts';

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

class DatagenReader<T> extends SequenceReader<T> {
  private readonly random = new SeededRandom();
  private readonly startedAt = Date.now();
  private emitted = 0;
  private readonly seed: number;

  constructor(
    private readonly options: DatagenOptions<T>,
    ctx: SourceReaderContext,
  ) {
    super(ctx, options.splits ?? 32, options.count ?? Infinity);
    this.seed = options.seed ?? 0;
  }

  protected emit(i: number, out: SplitOutput<T>): void {
    const value = this.options.generate(i, this.random.reset(this.seed, i));
    const timestampOf = this.options.timestampOf;
    out.collect(value, timestampOf ? timestampOf(value, i) : undefined);
  }

  protected override allowance(max: number): number {
    const rate = this.options.ratePerSecond;
    if (rate === undefined) return max;
    const share = (rate * this.splitCount) / this.stride;
    return Math.min(max, Math.floor(((Date.now() - this.startedAt) / 1000) * share) - this.emitted);
  }

  protected override consumed(n: number): void {
    this.emitted += n;
  }

  protected override waitMs(): number {
    const rate = this.options.ratePerSecond;
    if (!rate) return 100;
    const perRecordMs = (1000 * this.stride) / (rate * Math.max(1, this.splitCount));
    return Math.min(100, Math.max(1, perRecordMs));
  }
}

export function datagen<T>(options: DatagenOptions<T>): Source<T, SequenceSplit, SequenceEnumeratorState> {
  if (options.count !== undefined && !(Number.isInteger(options.count) && options.count >= 0)) {
    throw new ConfigError('datagen.count', `must be a whole number >= 0, got ${options.count}`);
  }
  if (options.ratePerSecond !== undefined && !(options.ratePerSecond > 0)) {
    throw new ConfigError('datagen.ratePerSecond', `must be > 0, got ${options.ratePerSecond}`);
  }
  const splits = options.splits ?? 32;
  if (!(Number.isInteger(splits) && splits >= 1)) throw new ConfigError('datagen.splits', `must be a whole number >= 1, got ${splits}`);
  const name = options.name ?? 'datagen';
  return {
    name,
    bounded: options.count !== undefined,
    createEnumerator: (ctx) => sequenceEnumerator(ctx, splits, `datagen '${name}'.splits`),
    restoreEnumerator: (ctx, state) => restoreSequenceEnumerator(ctx, state),
    createReader: (ctx) => new DatagenReader(options, ctx),
  };
}

/** A bounded source of the given records, in order, spread over subtasks by index. */
export function fromElements<T>(elements: readonly T[], options: { name?: string; timestampOf?: (value: T) => number } = {}): Source<T, SequenceSplit, SequenceEnumeratorState> {
  return datagen<T>({
    name: options.name ?? 'elements',
    count: elements.length,
    generate: (i) => elements[i]!,
    timestampOf: options.timestampOf ? (v) => options.timestampOf!(v) : undefined,
  });
}
