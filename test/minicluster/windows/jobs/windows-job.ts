/**
 * One job module for the randomized window/changelog tests: seeded out-of-order events through one
 * of the operators, results to collect sinks. `params.kind` picks the pipeline; the test computes
 * the same thing by brute force from `event(i, random)`.
 */
import {
  type AggregateFunction,
  type Change,
  collectSink,
  datagen,
  defineJob,
  type DistinctCount,
  eventTimeSessionWindows,
  type FiringKind,
  OutputTag,
  type RankedRow,
  slidingEventTimeWindows,
  tumblingEventTimeWindows,
  WatermarkStrategy,
  type WindowAssigner,
  type WindowRanked,
} from 'weir';

export interface Event {
  id: number;
  k: string;
  v: number;
  ts: number;
}

export const STEP = 16;
/** In records. The watermark reaching the windows trails the newest record by about 75 records, so disorder must be larger for records to be late. */
export const MAX_JITTER = 400;

/**
 * Event i: ids repeat (for dedup/upserts), up to (MAX_JITTER - 1) * STEP ms out of order, and
 * timestamps unique (the fraction i % 1000 / 1000 tells apart records that the jitter would put on one ms).
 */
export function event(i: number, random: { int(n: number): number }, keys: number): Event {
  return { id: random.int(200), k: `k${random.int(keys)}`, v: 1 + random.int(100), ts: 1_000_000 + (i - random.int(MAX_JITTER)) * STEP + (i % 1000) / 1000 };
}

export interface WindowResult {
  key: string;
  start: number;
  end: number;
  sum: number;
  n: number;
  firing: FiringKind;
}

export type JobParams = {
  kind: 'tumbling' | 'sliding' | 'session' | 'tumbling-process' | 'window-top-n' | 'changelog' | 'count-distinct';
  count: number;
  seed: number;
  keys: number;
  /** Watermark bound (ms). */
  bound: number;
  lateness: number;
  size: number;
  slide: number;
  gap: number;
  /** Tumbling and sliding: with local pre-aggregation (a small bound, so panes also go on early), no late side output; changelog: the group aggregate in two phases. */
  local?: boolean;
};

export const windows = collectSink<WindowResult>('windows');
export const late = collectSink<Event>('late');
export const ranked = collectSink<WindowRanked<string, Event>>('ranked');
export const lastRows = collectSink<Change<Event>>('last-rows');
export const firstRows = collectSink<Change<Event>>('first-rows');
export const revenue = collectSink<Change<{ k: string; revenue: number; rows: number }>>('revenue');
export const topKeys = collectSink<Change<RankedRow<string, { k: string; revenue: number; rows: number }>>>('top-keys');
export const distinct = collectSink<Change<DistinctCount<string>>>('distinct');
export const approxDistinct = collectSink<Change<DistinctCount<string>>>('approx-distinct');

const lateTag = new OutputTag<Event>('late-events');

const sumCount: AggregateFunction<Event, [number, number], [number, number]> = {
  createAccumulator: () => [0, 0],
  add: (e, acc) => [acc[0] + e.v, acc[1] + 1],
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
  getResult: (acc) => acc,
};

export default defineJob(import.meta.url, (env, p: JobParams) => {
  const events = env.fromSource(datagen({ count: p.count, seed: p.seed, generate: (i, r) => event(i, r, p.keys) }), {
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Event>(p.bound, (e) => e.ts),
  });
  const byKey = events.keyBy((e) => e.k);
  const windowed = (assigner: WindowAssigner) => byKey.window(assigner).allowedLateness(p.lateness).sideOutputLateData(lateTag);
  switch (p.kind) {
    case 'tumbling':
    case 'sliding':
    case 'session': {
      const assigner = p.kind === 'tumbling' ? tumblingEventTimeWindows(p.size) : p.kind === 'sliding' ? slidingEventTimeWindows(p.size, p.slide) : eventTimeSessionWindows(p.gap);
      const w = p.local ? byKey.window(assigner).allowedLateness(p.lateness).localAggregation({ maxEntries: 7 }) : windowed(assigner);
      const out = w.aggregate(sumCount, ([sum, n], ctx): WindowResult => ({ key: ctx.key, start: ctx.window.start, end: ctx.window.end, sum, n, firing: ctx.firing }), { uid: 'window' });
      out.sinkTo(windows);
      if (!p.local) out.getSideOutput(lateTag).sinkTo(late);
      return;
    }
    case 'tumbling-process': {
      const out = windowed(tumblingEventTimeWindows(p.size)).process<WindowResult>(
        (els, ctx, o) => o.collect({ key: ctx.key, start: ctx.window.start, end: ctx.window.end, sum: els.reduce((a, e) => a + e.v, 0), n: els.length, firing: ctx.firing }),
        { uid: 'window' },
      );
      out.sinkTo(windows);
      out.getSideOutput(lateTag).sinkTo(late);
      return;
    }
    case 'window-top-n': {
      const out = windowed(tumblingEventTimeWindows(p.size)).topN(3, (a, b) => b.v - a.v || a.id - b.id || a.ts - b.ts, { uid: 'top' });
      out.sinkTo(ranked);
      out.getSideOutput(lateTag).sinkTo(late);
      return;
    }
    case 'changelog': {
      // Upserts by id (the last by event time wins) -> revenue per key -> top 3 keys by revenue.
      const last = events.keyBy((e) => e.id).deduplicate({ keep: 'last', order: 'event-time' }, { uid: 'dedup-last' });
      last.sinkTo(lastRows);
      events.keyBy((e) => e.id).deduplicate({ keep: 'first', order: 'event-time' }, { uid: 'dedup-first' }).sinkTo(firstRows);
      const rev = last.keyBy((c) => c.row.k).aggregateChangelog(
        {
          createAccumulator: () => ({ revenue: 0, rows: 0 }),
          add: (e, acc) => ({ revenue: acc.revenue + e.v, rows: acc.rows + 1 }),
          retract: (e, acc) => ({ revenue: acc.revenue - e.v, rows: acc.rows - 1 }),
          getResult: (acc, k) => ({ k, revenue: acc.revenue, rows: acc.rows }),
          merge: (a, b) => ({ revenue: a.revenue + b.revenue, rows: a.rows + b.rows }),
        },
        { uid: 'revenue', localAggregation: p.local === true },
      );
      rev.sinkTo(revenue);
      rev.keyBy(() => 'all').topN({ n: 3, compare: (a, b) => b.revenue - a.revenue || a.k.localeCompare(b.k), rowKey: (r) => r.k }, { uid: 'top-keys' }).sinkTo(topKeys);
      return;
    }
    case 'count-distinct': {
      byKey.countDistinct((e) => e.id, { uid: 'distinct' }).sinkTo(distinct);
      byKey.approxCountDistinct((e) => e.id, { uid: 'approx-distinct' }).sinkTo(approxDistinct);
      return;
    }
  }
});
