/**
 * A source whose reader fetches its data in the background and only gets it when the test opens
 * `gate`: while the fetch is pending `poll` says 'wait', so checkpoint barriers (and every mail) go
 * through the task loop. Run with `workers: 0` so that the test and the task share `gate`.
 */
import { collectSink, defineJob, OwnedSplitEnumerator, type OwnedSplitsState, type PollStatus, type ReaderOutput, type Source, type SourceReader, type SourceSplit } from '../../../runtime/api/index.ts';

let open!: () => void;
/** Opens when the test calls `gate.release()`; `gate.fetching` is set once a reader started its fetch. */
export const gate = {
  opened: new Promise<void>((r) => (open = r)),
  fetching: false,
  release: () => open(),
};

interface RangeSplit extends SourceSplit {
  count: number;
  next: number;
}

class SlowReader implements SourceReader<number, RangeSplit> {
  private split: RangeSplit | undefined;
  private buffer: number[] | undefined;
  private fetch: Promise<void> | undefined;
  private noMoreSplits = false;

  addSplits(splits: readonly RangeSplit[]): void {
    const split = { ...splits[0]! };
    this.split = split;
    gate.fetching = true;
    // the "network fetch": runs in the background, delivers into the buffer
    this.fetch = gate.opened.then(() => {
      this.buffer = Array.from({ length: split.count - split.next }, (_, i) => split.next + i);
    });
  }

  notifyNoMoreSplits(): void {
    this.noMoreSplits = true;
  }

  poll(output: ReaderOutput<number>, max: number): PollStatus {
    const split = this.split;
    if (!split) return this.noMoreSplits ? 'end' : 'wait';
    if (!this.buffer) return 'wait';
    const out = output.forSplit(split.id);
    for (const v of this.buffer.splice(0, max)) {
      out.collect(v);
      split.next = v + 1;
    }
    if (this.buffer.length > 0) return 'more';
    output.releaseSplit(split.id);
    this.split = undefined;
    return this.noMoreSplits ? 'end' : 'wait';
  }

  available(): Promise<void> {
    return this.fetch ?? new Promise(() => {});
  }

  snapshotState(): RangeSplit[] {
    return this.split ? [{ ...this.split }] : [];
  }
}

const slowSource = (count: number): Source<number, RangeSplit, OwnedSplitsState<RangeSplit>> => ({
  name: 'slow-io',
  bounded: true,
  createEnumerator: (ctx) => new OwnedSplitEnumerator(ctx, () => 0, { pending: [{ id: 'range', count, next: 0 }], discoveryFinished: true }),
  restoreEnumerator: (ctx, state) => new OwnedSplitEnumerator(ctx, () => 0, state),
  createReader: () => new SlowReader(),
});

export const received = collectSink<number>('slow-io-received');

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  env.fromSource(slowSource(params.count), { uid: 'slow-io' }).map((v) => v * 2).sinkTo(received);
});
