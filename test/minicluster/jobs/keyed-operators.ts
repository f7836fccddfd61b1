/**
 * One source feeding every keyed operator of the runtime (keyed process with one and two inputs,
 * group aggregate with and without local aggregation, deduplicate, top-N, count distinct, approx
 * count distinct, tumbling, sliding and session windows, regular, interval, window and temporal
 * joins), each through its own keyBy exchange: what the key-group test counts hashes over.
 */
import { type Change, collectSink, datagen, defineJob, eventTimeSessionWindows, slidingEventTimeWindows, tumblingEventTimeWindows, tumblingWindows, WatermarkStrategy } from 'weir';

export interface Row {
  key: string;
  n: number;
}

export const row = (i: number): Row => ({ key: `k${i % 97}`, n: i });

/** The keyed operators' names: every record they take came through a keyBy exchange. */
export const KEYED_OPERATORS = ['reduce', 'agg', 'agg-local', 'dedup', 'top', 'distinct', 'approx', 'co', 'tumbling', 'sliding', 'session', 'join-regular', 'join-interval', 'join-window', 'join-temporal'];

export const results = collectSink<string>('keyed-results');

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  const rows = env.fromSource(datagen({ count: params.count, generate: row }), { uid: 'rows' });
  const changes = rows.map((r): Change<Row> => ({ kind: '+I', row: r }));
  const tag = (name: string) => (v: unknown) => `${name}:${JSON.stringify(v)}`;
  const reduced = rows.keyBy((r) => r.key).reduce((a, b) => ({ key: a.key, n: a.n + b.n }), { uid: 'reduce', name: 'reduce' }).map(tag('reduce'));
  const sum = { createAccumulator: () => 0, add: (r: Row, a: number) => a + r.n, retract: (r: Row, a: number) => a - r.n, merge: (a: number, b: number) => a + b, getResult: (a: number) => a };
  const agg = changes.keyBy((c) => c.row.key).aggregateChangelog(sum, { uid: 'agg', name: 'agg' }).map(tag('agg'));
  // two exchanges: the local phase's partials go through a keyBy too
  const aggLocal = changes.keyBy((c) => c.row.key).aggregateChangelog(sum, { uid: 'agg-local', name: 'agg-local', localAggregation: true }).map(tag('agg-local'));
  const dedup = rows.keyBy((r) => r.key).deduplicate({ keep: 'first' }, { uid: 'dedup', name: 'dedup' }).map(tag('dedup'));
  const top = changes.keyBy((c) => c.row.key).topN({ n: 2, compare: (a, b) => b.n - a.n, rowKey: (r) => r.n }, { uid: 'top', name: 'top' }).map(tag('top'));
  const distinct = rows.keyBy((r) => r.key).countDistinct((r) => r.n % 5, { uid: 'distinct', name: 'distinct' }).map(tag('distinct'));
  const approx = rows.keyBy((r) => r.key).approxCountDistinct((r) => r.n % 5, { uid: 'approx', name: 'approx' }).map(tag('approx'));
  // a keyed two-input process function: two exchanges, one per input
  const co = rows
    .connect(rows.map((r) => ({ id: r.key, m: r.n })))
    .keyBy((r) => r.key, (r) => r.id)
    .process<string>(
      {
        processElement1: (r, ctx, out) => out.collect(`1:${ctx.key}:${r.n}`),
        processElement2: (r, ctx, out) => out.collect(`2:${ctx.key}:${r.m}`),
      },
      { uid: 'co', name: 'co' },
    );
  // windows: event time from the row number
  const timed = env.fromSource(datagen({ count: params.count, generate: row }), { uid: 'timed-rows', watermarks: WatermarkStrategy.forMonotonousTimestamps<Row>((r) => r.n) });
  const count = { createAccumulator: () => 0, add: (_r: Row, a: number) => a + 1, merge: (a: number, b: number) => a + b, getResult: (a: number) => a };
  const tumbling = timed.keyBy((r) => r.key).window(tumblingEventTimeWindows(500)).aggregate(count, undefined, { uid: 'tumbling', name: 'tumbling' }).map(tag('tumbling'));
  const sliding = timed.keyBy((r) => r.key).window(slidingEventTimeWindows(500, 100)).aggregate(count, undefined, { uid: 'sliding', name: 'sliding' }).map(tag('sliding'));
  const session = timed.keyBy((r) => r.key).window(eventTimeSessionWindows(150)).aggregate(count, undefined, { uid: 'session', name: 'session' }).map(tag('session'));
  // joins (two exchanges each): every tenth row on the right side keeps the outputs small
  const tenth = timed.filter((r) => r.n % 10 === 0).map((r) => ({ id: r.key, m: r.n }));
  const regular = timed
    .join(tenth)
    .where((r) => r.key)
    .equalTo((o) => o.id)
    .inner((a, b) => a.n * 10_000 + b.m, { uid: 'join-regular', name: 'join-regular' })
    .map(tag('join-regular'));
  const interval = timed
    .join(tenth)
    .where((r) => r.key)
    .equalTo((o) => o.id)
    .between(-200, 200)
    .apply((a, b) => a.n * 10_000 + b.m, { uid: 'join-interval', name: 'join-interval' })
    .map(tag('join-interval'));
  const windowed = timed
    .join(tenth)
    .where((r) => r.key)
    .equalTo((o) => o.id)
    .window(tumblingWindows(500))
    .apply((a, b) => a.n * 10_000 + b.m, { uid: 'join-window', name: 'join-window' })
    .map(tag('join-window'));
  const temporal = timed
    .temporalJoin(tenth.map((o): Change<{ id: string; m: number }> => ({ kind: '+I', row: o })))
    .where((r) => r.key)
    .equalTo((o) => o.id)
    .apply((f, d) => f.n * 10_000 + (d === null ? -1 : d.m), { kind: 'left', uid: 'join-temporal', name: 'join-temporal' })
    .map(tag('join-temporal'));
  reduced.union(agg, aggLocal, dedup, top, distinct, approx, co, tumbling, sliding, session, regular, interval, windowed, temporal).sinkTo(results);
});
