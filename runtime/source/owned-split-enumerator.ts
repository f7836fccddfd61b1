/**
 * An enumerator for sources whose splits each belong to one subtask (Kafka partition p to reader
 * p % parallelism, bucket b to b % parallelism, generator range j to j % parallelism): a split waits
 * until its owner registers, and goes to it then. Assignment by owner keeps a split's records on
 * one subtask across restarts at the same parallelism, so output order per split stays stable.
 *
 * Splits are known at construction (`complete`), or discovered later with `addSplits` and closed
 * with `finishDiscovery()`; a reader hears "no more splits" once discovery is finished and nothing
 * of its own is pending. The snapshot is the pending splits and whether discovery finished.
 */
import type { SourceSplit, SplitEnumerator, SplitEnumeratorContext } from './contract.ts';

export interface OwnedSplitsState<Split> {
  pending: Split[];
  discoveryFinished: boolean;
}

export class OwnedSplitEnumerator<Split extends SourceSplit> implements SplitEnumerator<Split, OwnedSplitsState<Split>> {
  private pending: Split[];
  private discoveryFinished: boolean;
  private readonly toldNoMore = new Set<number>();

  constructor(
    private readonly ctx: SplitEnumeratorContext<Split>,
    private readonly ownerOf: (split: Split, parallelism: number) => number,
    state: OwnedSplitsState<Split>,
  ) {
    this.pending = [...state.pending];
    this.discoveryFinished = state.discoveryFinished;
  }

  start(): void {}

  addReader(subtask: number): void {
    this.assign(subtask);
  }

  handleSplitRequest(subtask: number): void {
    this.assign(subtask);
  }

  addSplitsBack(splits: readonly Split[], subtask: number): void {
    this.toldNoMore.delete(subtask);
    this.addSplits(splits);
  }

  /** Newly discovered splits: they go to their owners now if registered, else when they register. */
  addSplits(splits: readonly Split[]): void {
    this.pending.push(...splits);
    for (const r of this.ctx.registeredReaders()) this.assign(r);
  }

  /** Every split is known: readers hear "no more splits" once theirs are assigned. */
  finishDiscovery(): void {
    this.discoveryFinished = true;
    for (const r of this.ctx.registeredReaders()) this.assign(r);
  }

  get unassigned(): readonly Split[] {
    return this.pending;
  }

  private assign(subtask: number): void {
    const p = this.ctx.parallelism;
    const mine = this.pending.filter((s) => this.ownerOf(s, p) === subtask);
    if (mine.length > 0) {
      this.pending = this.pending.filter((s) => this.ownerOf(s, p) !== subtask);
      this.ctx.assignSplits(subtask, mine);
    }
    if (this.discoveryFinished && !this.toldNoMore.has(subtask)) {
      this.toldNoMore.add(subtask);
      this.ctx.signalNoMoreSplits(subtask);
    }
  }

  snapshotState(): OwnedSplitsState<Split> {
    return { pending: this.pending.map((s) => ({ ...s })), discoveryFinished: this.discoveryFinished };
  }
}
