/**
 * Local pre-aggregation for event-time window aggregates (Flink's two-phase, local-global
 * aggregation: `table.optimizer.agg-phase-strategy=TWO_PHASE`), the first phase. It runs with its
 * input, before the exchange, and folds its records per (key, pane) into accumulators with the
 * aggregate function's `add`; once the watermark passes a pane's end it emits one partial
 * `{ key, acc }` per key with the timestamp paneEnd - 1. A pane is the window (tumbling) or
 * gcd(size, slide) (sliding), aligned like the windows, so a partial falls into exactly the windows
 * its records fall into, and the keyed window operator downstream (the second phase) merges
 * partials with the function's `merge`. A hot key then crosses the exchange once per pane and
 * input subtask instead of once per record.
 *
 * Memory is bounded by `maxEntries` (key, pane) accumulators: past it, the oldest pane is emitted
 * early (the second phase merges any number of partials). Accumulators of panes not yet emitted
 * are operator state at checkpoints (so they must be plain data, as keyed state must), split
 * between subtasks on rescale; a record behind the watermark is emitted at once, and the window
 * operator treats its partial as it would treat the record (late).
 */
import { BadRecordError, describeRecord, userFunctionError } from '../../runtime/errors.ts';
import type { AggregateFunction } from '../../state/descriptors.ts';
import { keyId, type KeyId } from '../../state/key-codec.ts';
import type { StateKey } from '../../state/key-groups.ts';
import type { OperatorListState } from '../../state/operator-state.ts';
import type { Operator, OperatorContext, Output } from '../operator.ts';

/** What the first phase sends to the second: a key's accumulator over some of its records of one pane. */
export interface WindowPartial<K, ACC> {
  key: K;
  acc: ACC;
}

/** [pane start, key, accumulator] */
type Pending<K, ACC> = [number, K, ACC];

export const DEFAULT_LOCAL_MAX_ENTRIES = 10_000;

export class LocalWindowAggregateOperator<K extends StateKey, T, ACC, OUT> implements Operator<T, WindowPartial<K, ACC>> {
  private ctx!: OperatorContext<WindowPartial<K, ACC>>;
  private out!: Output<WindowPartial<K, ACC>>;
  private state!: OperatorListState<Pending<K, ACC>>;
  private readonly panes = new Map<number, Map<KeyId, [K, ACC]>>();
  private entries = 0;
  /** Times processBatch worked out a pane (once per run of records in one pane), and key lookups (once per run of one key): work counts for tests. */
  paneRuns = 0;
  lookups = 0;
  /** Smallest pane start held, so most watermarks are answered without a look at the panes. */
  private oldest = Infinity;

  constructor(
    readonly name: string,
    private readonly keyOf: (value: T) => K,
    private readonly agg: AggregateFunction<T, ACC, OUT>,
    private readonly paneMs: number,
    private readonly offsetMs: number,
    private readonly maxEntries = DEFAULT_LOCAL_MAX_ENTRIES,
  ) {}

  open(ctx: OperatorContext<WindowPartial<K, ACC>>): void {
    this.ctx = ctx;
    this.out = ctx.output;
    this.state = ctx.operatorState.getListState<Pending<K, ACC>>(`${this.name}-pending`);
    for (const [start, key, acc] of this.state.get()) {
      const pane = this.pane(start);
      const id = keyId(key);
      const e = pane.get(id);
      if (e === undefined) {
        pane.set(id, [key, acc]);
        this.entries++;
      } else if (this.agg.merge) e[1] = this.agg.merge(e[1], acc);
      else this.out.emit({ key, acc }, start + this.paneMs - 1);
    }
  }

  private pane(start: number): Map<KeyId, [K, ACC]> {
    let p = this.panes.get(start);
    if (p === undefined) {
      this.panes.set(start, (p = new Map()));
      if (start < this.oldest) this.oldest = start;
    }
    return p;
  }

  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    const size = this.paneMs;
    const offset = this.offsetMs;
    // The pane of the previous record, [paneStart, paneEnd): working a pane out costs two
    // floating-point remainders, so only a record outside it does. The previous record's key and
    // entry: a run of one (primitive) key's records, as a hot key makes, folds without a lookup.
    let paneStart = Infinity;
    let paneEnd = -Infinity;
    let pane: Map<KeyId, [K, ACC]> | undefined;
    let lastKey: K | undefined;
    let last: [K, ACC] | undefined;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const t = times[i]!;
      if (t !== t) {
        throw new BadRecordError(`window '${this.name}' works in event time, but a record has no timestamp: give its source a watermark strategy with a timestamp assigner`, describeRecord(v));
      }
      if (t < paneStart || t >= paneEnd || pane === undefined) {
        this.paneRuns++;
        paneStart = t - ((((t - offset) % size) + size) % size);
        paneEnd = paneStart + size;
        pane = this.pane(paneStart);
        last = undefined;
      }
      try {
        const key = this.keyOf(v);
        if (last !== undefined && key === lastKey && typeof key !== 'object') {
          last[1] = this.agg.add(v, last[1]);
          continue;
        }
        this.lookups++;
        const id = keyId(key);
        let e = pane.get(id);
        if (e === undefined) {
          e = [key, this.agg.add(v, this.agg.createAccumulator())];
          pane.set(id, e);
          this.entries++;
        } else e[1] = this.agg.add(v, e[1]);
        last = e;
        lastKey = key;
      } catch (err) {
        throw userFunctionError(this.name, v, err);
      }
    }
    if (this.entries > this.maxEntries) this.emitOldest();
    // Records behind the watermark (late): their panes have ended, send them on now.
    this.processWatermark(this.ctx.currentWatermark());
  }

  /** Emits the oldest pane before its end (memory bound); later partials of it are merged downstream. */
  private emitOldest(): void {
    while (this.entries > this.maxEntries && this.panes.size > 0) {
      let oldest = Infinity;
      for (const start of this.panes.keys()) if (start < oldest) oldest = start;
      this.emitPane(oldest, this.panes.get(oldest)!);
    }
    this.oldest = Math.min(Infinity, ...this.panes.keys());
  }

  private emitPane(start: number, pane: Map<KeyId, [K, ACC]>): void {
    const time = start + this.paneMs - 1;
    for (const [key, acc] of pane.values()) this.out.emit({ key, acc }, time);
    this.entries -= pane.size;
    this.panes.delete(start);
  }

  processWatermark(watermark: number): void {
    if (this.oldest + this.paneMs - 1 > watermark) return;
    let oldest = Infinity;
    for (const [start, pane] of this.panes) {
      if (start + this.paneMs - 1 > watermark) {
        if (start < oldest) oldest = start;
        continue;
      }
      this.emitPane(start, pane);
    }
    this.oldest = oldest;
  }

  snapshotState(): void {
    const pending: Pending<K, ACC>[] = [];
    for (const [start, pane] of this.panes) for (const [key, acc] of pane.values()) pending.push([start, key, acc]);
    this.state.update(pending);
  }
}
