/**
 * The window and changelog operators in one failure-injection job: rate-limited, out-of-order
 * events (within the watermark bound, so no record is late and the output does not depend on
 * timing) through one of: tumbling windows with early firing, tumbling windows without (their
 * panes held in memory between checkpoints), sliding windows, session windows,
 * dedup -> changelog aggregate -> top-N, count distinct; written as lines by an exactly-once sink.
 * One pipeline per job: a source feeding several branches that meet again in one sink (a diamond)
 * did not complete checkpoint 1 in 60 s (aligned barriers under back-pressure), a runtime matter.
 */
import {
  type AggregateFunction,
  type Change,
  continuousEventTimeTrigger,
  datagen,
  type DataStream,
  defineJob,
  eventTimeSessionWindows,
  slidingEventTimeWindows,
  tumblingEventTimeWindows,
  WatermarkStrategy,
} from 'weir';
import { transactionalFileSink } from '../../harness/transactional-sink.ts';
import { event, MAX_JITTER, STEP, type Event } from '../../minicluster/windows/jobs/windows-job.ts';

export type Pipeline = 'tumbling' | 'tumbling-held' | 'sliding' | 'session' | 'changelog' | 'distinct';

export type Line = { kind: 'window'; text: string } | { kind: 'change'; change: Change<unknown> };

const sumCount: AggregateFunction<Event, [number, number], [number, number]> = {
  createAccumulator: () => [0, 0],
  add: (e, acc) => [acc[0] + e.v, acc[1] + 1],
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
  getResult: (acc) => acc,
};

export default defineJob(import.meta.url, (env, p: { pipeline: Pipeline; count: number; seed: number; keys: number; ratePerSecond: number; outDir: string }) => {
  const events = env.fromSource(datagen({ name: 'events', count: p.count, seed: p.seed, ratePerSecond: p.ratePerSecond, generate: (i, r) => event(i, r, p.keys) }), {
    uid: 'events',
    watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Event>(MAX_JITTER * STEP + STEP, (e) => e.ts),
  });
  const byKey = events.keyBy((e) => e.k);
  const line = (name: string) => ([sum, n]: [number, number], ctx: { key: string; window: { start: number; end: number }; firing: string }): Line => ({
    kind: 'window',
    text: `${name}|${ctx.firing}|${ctx.key}@${ctx.window.start}-${ctx.window.end}=${sum}/${n}`,
  });
  const sink = transactionalFileSink<Line>(p.outDir);
  const changes = (stream: DataStream<Change<unknown>>): void => stream.map((c): Line => ({ kind: 'change', change: c }), { name: 'lines' }).sinkTo(sink, { uid: 'sink' });
  switch (p.pipeline) {
    case 'tumbling':
      return byKey.window(tumblingEventTimeWindows(2000)).earlyFiring(continuousEventTimeTrigger(500)).aggregate(sumCount, line('tumbling'), { uid: 'tumbling' }).sinkTo(sink, { uid: 'sink' });
    case 'tumbling-held':
      // Without early firing (nor allowed lateness), panes are held in memory between checkpoints.
      return byKey.window(tumblingEventTimeWindows(500)).aggregate(sumCount, line('tumbling-held'), { uid: 'tumbling-held' }).sinkTo(sink, { uid: 'sink' });
    case 'sliding':
      return byKey.window(slidingEventTimeWindows(2000, 250)).aggregate(sumCount, line('sliding'), { uid: 'sliding' }).sinkTo(sink, { uid: 'sink' });
    case 'session':
      return byKey.window(eventTimeSessionWindows(50)).aggregate(sumCount, line('session'), { uid: 'session' }).sinkTo(sink, { uid: 'sink' });
    case 'changelog': {
      const revenue = events
        .keyBy((e) => e.id)
        .deduplicate({ keep: 'last', order: 'event-time' }, { uid: 'dedup' })
        .keyBy((c) => c.row.k)
        .aggregateChangelog(
          {
            createAccumulator: () => ({ revenue: 0, rows: 0 }),
            add: (e, acc) => ({ revenue: acc.revenue + e.v, rows: acc.rows + 1 }),
            retract: (e, acc) => ({ revenue: acc.revenue - e.v, rows: acc.rows - 1 }),
            getResult: (acc, k) => ({ k, revenue: acc.revenue, rows: acc.rows }),
          },
          { uid: 'revenue' },
        );
      const top = revenue.keyBy(() => 'all').topN({ n: 3, compare: (a, b) => b.revenue - a.revenue || a.k.localeCompare(b.k), rowKey: (r) => r.k }, { uid: 'top' });
      return changes(top as unknown as DataStream<Change<unknown>>);
    }
    case 'distinct':
      return changes(byKey.countDistinct((e) => e.id, { uid: 'distinct' }) as unknown as DataStream<Change<unknown>>);
  }
});
