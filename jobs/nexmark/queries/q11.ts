import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  type OnTimerContext,
  type Operator,
  type OperatorContext,
  type OperatorListState,
  type Output,
  sharedPlainData,
  valueState,
  type ValueState,
} from 'weir';
import { Q11_GAP_MS, type Q11Row } from '../queries.ts';
import type { Bid } from '../model.ts';
import type { QueryBuilder } from './common.ts';

const GAP = Q11_GAP_MS;

/** Bids of one bidder that are connected (each at most GAP from another): first and last time, how many. */
export interface Piece {
  bidder: number;
  first: number;
  last: number;
  count: number;
}

/** [bidder, first, last, count] */
type PendingPiece = [number, number, number, number];

/**
 * Local pre-aggregation of sessions in each source subtask. Per bidder, bids are gathered into
 * pieces (a bid joins a piece it is within GAP of); a piece goes out once the watermark reaches its
 * first bid, so every bid at or before the watermark has been sent when the watermark moves on. A
 * piece is part of one session, whatever else arrives, so the keyed stage can merge pieces in any
 * order. A hot bidder's bids of ~3 s (the watermark's lag) become one record.
 */
export class LocalPieces implements Operator<Bid, Piece> {
  readonly name = 'q11-local-sessions';
  private out!: Output<Piece>;
  private state!: OperatorListState<PendingPiece>;
  /** Per bidder, open pieces flattened as (first, last, count). */
  private readonly pieces = new Map<number, number[]>();
  private oldest = Infinity;

  open(ctx: OperatorContext<Piece>): void {
    this.out = ctx.output;
    this.state = ctx.operatorState.getListState<PendingPiece>('q11-pieces');
    for (const [bidder, first, last, count] of this.state.get()) {
      const list = this.pieces.get(bidder);
      if (list === undefined) this.pieces.set(bidder, [first, last, count]);
      else list.push(first, last, count);
      if (first < this.oldest) this.oldest = first;
    }
  }

  processBatch(values: readonly Bid[], times: ArrayLike<number>): void {
    const pieces = this.pieces;
    for (let i = 0; i < values.length; i++) {
      const bidder = values[i]!.bidder;
      const t = times[i]!;
      const list = pieces.get(bidder);
      if (list === undefined) {
        pieces.set(bidder, [t, t, 1]);
        if (t < this.oldest) this.oldest = t;
        continue;
      }
      let joined = false;
      for (let k = 0; k < list.length; k += 3) {
        if (t >= list[k]! - GAP && t <= list[k + 1]! + GAP) {
          if (t < list[k]!) list[k] = t;
          if (t > list[k + 1]!) list[k + 1] = t;
          list[k + 2]!++;
          joined = true;
          break;
        }
      }
      if (!joined) list.push(t, t, 1);
      if (t < this.oldest) this.oldest = t;
    }
  }

  processWatermark(watermark: number): void {
    if (this.oldest > watermark) return;
    let oldest = Infinity;
    for (const [bidder, list] of this.pieces) {
      let keep = 0;
      for (let k = 0; k < list.length; k += 3) {
        const first = list[k]!;
        if (first <= watermark) {
          this.out.emit({ bidder, first, last: list[k + 1]!, count: list[k + 2]! }, first);
        } else {
          if (first < oldest) oldest = first;
          list[keep++] = first;
          list[keep++] = list[k + 1]!;
          list[keep++] = list[k + 2]!;
        }
      }
      if (keep === 0) this.pieces.delete(bidder);
      else list.length = keep;
    }
    this.oldest = oldest;
  }

  snapshotState(): void {
    const pending: PendingPiece[] = [];
    for (const [bidder, list] of this.pieces) for (let k = 0; k < list.length; k += 3) pending.push([bidder, list[k]!, list[k + 1]!, list[k + 2]!]);
    this.state.update(pending);
  }
}

/**
 * Per bidder, the sessions as (first, last, count) triples: a piece merges every session it is
 * within GAP of (Flink's session windows merge when they touch). A session is complete when the
 * watermark reaches last + GAP: every bid at or before it has arrived (in some piece), and a later
 * bid is more than GAP after `last`.
 */
class Sessions implements KeyedProcessFunction<number, Piece, Q11Row> {
  private sessions!: ValueState<number[]>;

  open(ctx: KeyedRuntimeContext): void {
    // Never changed after writing or reading (a change writes a new array): shared, not copied.
    this.sessions = ctx.getState(valueState<number[]>('sessions', { serializer: sharedPlainData() }));
  }

  processElement(p: Piece, ctx: KeyedContext<number>): void {
    const old = this.sessions.value() ?? [];
    let first = p.first;
    let last = p.last;
    let count = p.count;
    const next: number[] = [];
    for (let k = 0; k < old.length; k += 3) {
      if (old[k]! <= last + GAP && first <= old[k + 1]! + GAP) {
        if (old[k]! < first) first = old[k]!;
        if (old[k + 1]! > last) last = old[k + 1]!;
        count += old[k + 2]!;
      } else next.push(old[k]!, old[k + 1]!, old[k + 2]!);
    }
    next.push(first, last, count);
    this.sessions.update(next);
    ctx.timerService.registerEventTimeTimer(last + GAP);
  }

  onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Q11Row>): void {
    const old = this.sessions.value();
    if (old === undefined) return;
    const next: number[] = [];
    for (let k = 0; k < old.length; k += 3) {
      const end = old[k + 1]! + GAP;
      if (end <= time) out.collect({ bidder: ctx.key, bidCount: old[k + 2]!, starttime: old[k]!, endtime: end });
      else next.push(old[k]!, old[k + 1]!, old[k + 2]!);
    }
    if (next.length === old.length) return;
    if (next.length === 0) this.sessions.clear();
    else this.sessions.update(next);
  }
}

/**
 * q11 user sessions: bids per bidder session (10 s gap); the session ends 10 s after its last bid.
 * A local-global session aggregation with state and timers rather than the session window
 * operator, which deletes and registers a timer for every bid (see bench/nexmark.md).
 */
export const q11: QueryBuilder<'q11'> = (input) =>
  input
    .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
    .transform<Piece>('q11-local-sessions', () => new LocalPieces(), { uid: 'q11-local-sessions' })
    .keyBy((p) => p.bidder)
    .process<Q11Row>(new Sessions(), { name: 'q11-sessions', uid: 'q11-sessions' });
