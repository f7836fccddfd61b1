import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  listState,
  type ListState,
  type OnTimerContext,
  type Operator,
  type OperatorContext,
  type OperatorListState,
  type Output,
} from 'weir';
import type { Bid } from '../model.ts';
import { Q7_WINDOW_MS, type Q7Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';

const W = Q7_WINDOW_MS;

/** A bid that may be the answer for the window starting at `windowStart`. */
export interface Candidate extends Q7Row {
  windowStart: number;
}

interface LocalWindow {
  max: number;
  /** Bids of the window with price `max`. */
  top: Candidate[];
  /** Bids at exactly the window's end (they belong to the next window but match this one too). */
  edge: Candidate[];
}

const row = (b: Bid, windowStart: number): Candidate => ({ windowStart, auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });

/**
 * Local pre-aggregation in each source subtask (Flink's local-global aggregation): per window, the
 * bids with the subtask's highest price, and the bids at exactly the window's end with at least
 * that price. Emitted once the watermark passes the window's end; only these few bids cross the
 * exchange. Held windows are written to operator state at checkpoints.
 */
export class LocalCandidates implements Operator<Bid, Candidate> {
  readonly name = 'q7-local-max';
  private out!: Output<Candidate>;
  private state!: OperatorListState<Candidate>;
  private readonly windows = new Map<number, LocalWindow>();

  open(ctx: OperatorContext<Candidate>): void {
    this.out = ctx.output;
    this.state = ctx.operatorState.getListState<Candidate>('q7-candidates');
    for (const c of this.state.get()) {
      if (c.dateTime < c.windowStart + W) this.add(c.windowStart, c);
      else this.window(c.windowStart).edge.push(c);
    }
  }

  private window(start: number): LocalWindow {
    let w = this.windows.get(start);
    if (w === undefined) this.windows.set(start, (w = { max: -1, top: [], edge: [] }));
    return w;
  }

  private add(start: number, c: Candidate): void {
    const w = this.window(start);
    if (c.price > w.max) {
      w.max = c.price;
      w.top = [c];
    } else if (c.price === w.max) w.top.push(c);
  }

  processBatch(values: readonly Bid[], times: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const b = values[i]!;
      const t = times[i]!;
      const start = t - (t % W);
      const w = this.window(start);
      if (b.price > w.max) {
        w.max = b.price;
        w.top = [row(b, start)];
      } else if (b.price === w.max) w.top.push(row(b, start));
      if (start === t) this.window(start - W).edge.push(row(b, start - W));
    }
  }

  processWatermark(watermark: number): void {
    for (const [start, w] of this.windows) {
      const end = start + W;
      // Bids at exactly `end` still count for this window, so wait until the watermark passes it.
      if (end > watermark) continue;
      for (const c of w.top) this.out.emit(c, end);
      for (const c of w.edge) if (c.price >= w.max) this.out.emit(c, end);
      this.windows.delete(start);
    }
  }

  endInput(): void {
    this.processWatermark(Infinity);
  }

  snapshotState(): void {
    const all: Candidate[] = [];
    for (const w of this.windows.values()) all.push(...w.top, ...w.edge);
    this.state.update(all);
  }
}

/** Per window: the highest price among its candidates, and every candidate with that price. */
class WindowMax implements KeyedProcessFunction<number, Candidate, Q7Row> {
  private candidates!: ListState<Candidate>;

  open(ctx: KeyedRuntimeContext): void {
    this.candidates = ctx.getListState(listState<Candidate>('candidates'));
  }

  processElement(c: Candidate, ctx: KeyedContext<number>): void {
    this.candidates.add(c);
    ctx.timerService.registerEventTimeTimer(c.windowStart + W);
  }

  onTimer(_time: number, ctx: OnTimerContext<number>, out: Collector<Q7Row>): void {
    const all = this.candidates.get();
    const end = ctx.key + W;
    let max = -1;
    for (const c of all) if (c.dateTime < end && c.price > max) max = c.price;
    for (const c of all) {
      if (c.price === max) out.collect({ auction: c.auction, bidder: c.bidder, price: c.price, dateTime: c.dateTime, extra: c.extra });
    }
    this.candidates.clear();
  }
}

/**
 * q7 highest bid: the bids whose price is the maximum of their 10 s tumbling window, with dateTime
 * in [windowEnd - 10 s, windowEnd] (inclusive, as the SQL's BETWEEN is).
 */
export const q7: QueryBuilder<'q7'> = (input) =>
  input
    .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
    .transform<Candidate>('q7-local-max', () => new LocalCandidates(), { uid: 'q7-local-max' })
    .keyBy((c) => c.windowStart)
    .process<Q7Row>(new WindowMax(), { name: 'q7-window-max', uid: 'q7-window-max' });
