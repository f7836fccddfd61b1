/**
 * Local pre-aggregation for window counts (Flink's local-global window aggregation): each source
 * subtask counts its records per (pane, key) in a Map and, once the watermark passes the end of a
 * pane, emits the pane's counts as one record (its partial accumulator) with the timestamp
 * paneEnd - 1: once with the pane's start, or with `windowMs` once per window holding the pane (its
 * start in `window`), since the keyed stage downstream is keyed by window. Panes are aligned with
 * the windows downstream (a window is a whole number of panes), so a partial count falls in the same
 * windows as the records it stands for and the keyed stage sums them. Counts of panes not yet
 * emitted are written to operator state at checkpoints.
 *
 * One record per (pane, window), not one per (pane, window, key): q5's panes hold about 1,500
 * auctions per source subtask, so per-key records sent nearly as many records over the exchange
 * as there were bids (1.5M for 1.84M bids), each with its own object, key hash, encoding and
 * keyed-state lookup of the window.
 */
import type { Operator, OperatorContext, OperatorListState, Output } from 'weir';

/** One pane's counts of one source subtask: `keys[i]` was seen `counts[i]` times. */
export interface PaneCounts {
  /** The pane's start; with `windowMs`, the start of one of the windows the pane is in. */
  window: number;
  keys: Float64Array;
  counts: Float64Array;
}

/** [pane start, key, count] */
type PendingCount = [number, number, number];

export class LocalPaneCount<T> implements Operator<T, PaneCounts> {
  private out!: Output<PaneCounts>;
  private state!: OperatorListState<PendingCount>;
  private readonly panes = new Map<number, Map<number, number>>();
  /** Smallest pane start held, so most watermarks are answered without a look at the panes. */
  private oldest = Infinity;

  constructor(
    readonly name: string,
    private readonly keyOf: (value: T) => number,
    private readonly paneMs: number,
    /** Emit each pane's count once per window of this size that holds the pane (a multiple of paneMs). */
    private readonly windowMs?: number,
  ) {}

  open(ctx: OperatorContext<PaneCounts>): void {
    this.out = ctx.output;
    this.state = ctx.operatorState.getListState<PendingCount>(`${this.name}-pending`);
    for (const [pane, key, count] of this.state.get()) {
      const counts = this.pane(pane);
      counts.set(key, (counts.get(key) ?? 0) + count);
    }
  }

  private pane(start: number): Map<number, number> {
    let counts = this.panes.get(start);
    if (counts === undefined) {
      this.panes.set(start, (counts = new Map()));
      if (start < this.oldest) this.oldest = start;
    }
    return counts;
  }

  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    const size = this.paneMs;
    const keyOf = this.keyOf;
    let paneStart = NaN;
    let counts: Map<number, number> | undefined;
    for (let i = 0; i < values.length; i++) {
      const t = times[i]!;
      const start = t - (((t % size) + size) % size);
      if (start !== paneStart || counts === undefined) {
        paneStart = start;
        counts = this.pane(start);
      }
      const key = keyOf(values[i]!);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }

  processWatermark(watermark: number): void {
    if (this.oldest + this.paneMs - 1 > watermark) return;
    let oldest = Infinity;
    for (const [start, counts] of this.panes) {
      const last = start + this.paneMs - 1;
      if (last > watermark) {
        if (start < oldest) oldest = start;
        continue;
      }
      const keys = new Float64Array(counts.size);
      const values = new Float64Array(counts.size);
      let i = 0;
      for (const [key, count] of counts) {
        keys[i] = key;
        values[i++] = count;
      }
      // The arrays are shared by the pane's windows: no one changes a record once it is emitted.
      if (this.windowMs === undefined) this.out.emit({ window: start, keys, counts: values }, last);
      else for (let w = start; w > start - this.windowMs; w -= this.paneMs) this.out.emit({ window: w, keys, counts: values }, last);
      this.panes.delete(start);
    }
    this.oldest = oldest;
  }

  snapshotState(): void {
    const pending: PendingCount[] = [];
    for (const [start, counts] of this.panes) for (const [key, count] of counts) pending.push([start, key, count]);
    this.state.update(pending);
  }
}
