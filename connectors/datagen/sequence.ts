/**
 * Splits of an index space, for sources that generate record n as a pure function of n (datagen,
 * the Nexmark generator): the space [0, end) is cut into `count` splits, split j holding the
 * indexes j, j + count, j + 2 * count, ... Split j belongs to reader j % parallelism; its position
 * is the next index it generates, checkpointed per split, so a restore (also at another parallelism)
 * continues each split exactly where it was.
 */
import { ConfigError } from '../../runtime/errors.ts';
import { OwnedSplitEnumerator, type OwnedSplitsState } from '../../runtime/source/owned-split-enumerator.ts';
import type { PollStatus, ReaderOutput, SourceReader, SourceReaderContext, SourceSplit, SplitEnumerator, SplitEnumeratorContext, SplitOutput } from '../../runtime/source/contract.ts';

export interface SequenceSplit extends SourceSplit {
  /** j: this split holds indexes j, j + count, ... */
  index: number;
  /** The next index this split generates. */
  next: number;
}

export type SequenceEnumeratorState = OwnedSplitsState<SequenceSplit>;

/** The enumerator of a fresh start: every split at its first index. */
export function sequenceEnumerator(ctx: SplitEnumeratorContext<SequenceSplit>, count: number, setting: string): SplitEnumerator<SequenceSplit, SequenceEnumeratorState> {
  if (ctx.parallelism > count) {
    throw new ConfigError(setting, `is ${count}, below the source's parallelism ${ctx.parallelism}; raise it (it bounds the parallelism, and must stay the same across restarts)`);
  }
  const pending = Array.from({ length: count }, (_, j) => ({ id: `split-${j}`, index: j, next: j }));
  return restoreSequenceEnumerator(ctx, { pending, discoveryFinished: true });
}

export function restoreSequenceEnumerator(ctx: SplitEnumeratorContext<SequenceSplit>, state: SequenceEnumeratorState): SplitEnumerator<SequenceSplit, SequenceEnumeratorState> {
  return new OwnedSplitEnumerator<SequenceSplit>(ctx, (s, p) => s.index % p, state);
}

interface HeldSplit<T> {
  split: SequenceSplit;
  out: SplitOutput<T>;
}

/**
 * A reader of sequence splits: takes its splits in turn, one index each, so that their event times
 * stay together (and at parallelism 1 the records come out in index order). Generation is
 * synchronous and cheap, so `poll` never waits for I/O; a rate limit makes it wait for time.
 */
export abstract class SequenceReader<T> implements SourceReader<T, SequenceSplit> {
  private held: HeldSplit<T>[] = [];
  private noMoreSplits = false;
  private cursor = 0;
  private wake: (() => void) | undefined;

  constructor(
    protected readonly ctx: SourceReaderContext,
    /** The number of splits (the stride between a split's indexes). */
    protected readonly stride: number,
    /** Indexes at or above this are not generated (Infinity: unbounded). */
    protected readonly end: number,
  ) {}

  /** Emits record `n` (or nothing, to skip it) into one split's output. */
  protected abstract emit(n: number, out: SplitOutput<T>): void;

  /** How many records may be emitted now (default: as many as asked). */
  protected allowance(max: number): number {
    return max;
  }

  /** How many splits this reader holds. */
  protected get splitCount(): number {
    return this.held.length;
  }

  addSplits(splits: readonly SequenceSplit[]): void {
    for (const s of splits) this.held.push({ split: { ...s }, out: undefined as unknown as SplitOutput<T> });
    this.held.sort((a, b) => a.split.index - b.split.index);
    this.cursor = this.nextTurn();
    this.wake?.();
  }

  /**
   * Whose turn it is: the split with the lowest next index. The turn is not checkpointed (only the
   * splits' positions are), so it is derived from them; a restore taken in the middle of a turn over
   * the splits then continues in the same order as the failure-free run (restarting at the first
   * split would emit later indexes before earlier ones, and a changelog source, an +I and a later
   * -U of the same row, depends on that order).
   */
  private nextTurn(): number {
    const held = this.held;
    let k = 0;
    for (let j = 1; j < held.length; j++) if (held[j]!.split.next < held[k]!.split.next) k = j;
    return k;
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
    this.wake?.();
  }

  poll(output: ReaderOutput<T>, max: number): PollStatus {
    const held = this.held;
    if (held.length === 0) return this.noMoreSplits ? 'end' : 'wait';
    const n = this.allowance(max);
    if (n <= 0) return 'wait';
    const end = this.end;
    const stride = this.stride;
    let produced = 0;
    let k = this.cursor < held.length ? this.cursor : 0;
    let finished = false;
    while (produced < n) {
      const h = held[k]!;
      const i = h.split.next;
      if (i >= end) {
        finished = true;
        break;
      }
      h.out ??= output.forSplit(h.split.id);
      h.split.next = i + stride;
      this.emit(i, h.out);
      produced++;
      k = k + 1 === held.length ? 0 : k + 1;
    }
    this.cursor = k;
    if (finished) {
      // A split past the end finished: its watermark stops counting.
      for (const h of held) if (h.split.next >= end) output.releaseSplit(h.split.id);
      this.held = held.filter((h) => h.split.next < end);
      this.cursor = this.nextTurn();
      if (this.held.length === 0) return this.noMoreSplits ? 'end' : 'wait';
    }
    this.consumed(produced);
    return 'more';
  }

  /** Called with the number of records a poll emitted (for rate limits). */
  protected consumed(_n: number): void {}

  available(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, this.waitMs());
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** How long to wait before polling again when a poll said `wait` (splits arrive by mail anyway). */
  protected waitMs(): number {
    return 100;
  }

  snapshotState(): SequenceSplit[] {
    return this.held.map((h) => ({ ...h.split }));
  }
}
