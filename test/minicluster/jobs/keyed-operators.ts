/**
 * One source feeding every keyed operator of the runtime (keyed process with one and two inputs,
 * group aggregate with and without local aggregation, deduplicate, top-N, count distinct, approx
 * count distinct, tumbling, sliding and session windows, regular, interval, window and temporal
 * joins), each through its own keyBy exchange: what the key-group test counts hashes over.
 */
import { type Change, collectSink, datagen, defineJob, eventTimeSessionWindows } from 'weir';
import { type Row, row, tag, timedRows, windowsAndJoinsOf } from './windows-and-joins.ts';

export { type Row, row };

/** The keyed operators' names: every record they take came through a keyBy exchange. */
export const KEYED_OPERATORS = ['reduce', 'agg', 'agg-local', 'dedup', 'top', 'distinct', 'approx', 'co', 'tumbling', 'sliding', 'session', 'join-regular', 'join-interval', 'join-window', 'join-temporal'];

export const results = collectSink<string>('keyed-results');

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  const rows = env.fromSource(datagen({ count: params.count, generate: row }), { uid: 'rows' });
  const changes = rows.map((r): Change<Row> => ({ kind: '+I', row: r }));
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
  // windows and joins: event time from the row number
  const timed = timedRows(env, params.count);
  const count = { createAccumulator: () => 0, add: (_r: Row, a: number) => a + 1, merge: (a: number, b: number) => a + b, getResult: (a: number) => a };
  const session = timed.keyBy((r) => r.key).window(eventTimeSessionWindows(150)).aggregate(count, undefined, { uid: 'session', name: 'session' }).map(tag('session'));
  reduced.union(agg, aggLocal, dedup, top, distinct, approx, co, session, ...windowsAndJoinsOf(timed)).sinkTo(results);
});
