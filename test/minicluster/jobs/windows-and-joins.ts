/**
 * Event-time windows (tumbling and sliding aggregates) and joins (regular, interval, window,
 * temporal) on string keys, each behind its own keyBy exchange: what the carried key hash test
 * counts the heap backend's key hashing over. keyed-operators.ts builds the same operators among
 * all the others (windowsAndJoinsOf).
 */
import { type Change, collectSink, type DataStream, datagen, defineJob, slidingEventTimeWindows, type StreamEnv, tumblingEventTimeWindows, tumblingWindows, WatermarkStrategy } from 'weir';

export interface Row {
  key: string;
  n: number;
}

export const row = (i: number): Row => ({ key: `k${i % 97}`, n: i });

export const WINDOW_AND_JOIN_OPERATORS = ['tumbling', 'sliding', 'join-regular', 'join-interval', 'join-window', 'join-temporal'];

export const joined = collectSink<string>('windows-and-joins');

export const tag = (name: string) => (v: unknown) => `${name}:${JSON.stringify(v)}`;

/** The window and join operators over `timed` (event time from the row number), each result tagged with its operator. */
export function windowsAndJoinsOf(timed: DataStream<Row>): DataStream<string>[] {
  const count = { createAccumulator: () => 0, add: (_r: Row, a: number) => a + 1, merge: (a: number, b: number) => a + b, getResult: (a: number) => a };
  const tumbling = timed.keyBy((r) => r.key).window(tumblingEventTimeWindows(500)).aggregate(count, undefined, { uid: 'tumbling', name: 'tumbling' }).map(tag('tumbling'));
  const sliding = timed.keyBy((r) => r.key).window(slidingEventTimeWindows(500, 100)).aggregate(count, undefined, { uid: 'sliding', name: 'sliding' }).map(tag('sliding'));
  // joins (two exchanges each): every tenth row on the right side keeps the outputs small
  const tenth = timed.filter((r) => r.n % 10 === 0).map((r) => ({ id: r.key, m: r.n }));
  const regular = timed.join(tenth).where((r) => r.key).equalTo((o) => o.id).inner((a, b) => a.n * 10_000 + b.m, { uid: 'join-regular', name: 'join-regular' }).map(tag('join-regular'));
  const interval = timed.join(tenth).where((r) => r.key).equalTo((o) => o.id).between(-200, 200).apply((a, b) => a.n * 10_000 + b.m, { uid: 'join-interval', name: 'join-interval' }).map(tag('join-interval'));
  const windowed = timed.join(tenth).where((r) => r.key).equalTo((o) => o.id).window(tumblingWindows(500)).apply((a, b) => a.n * 10_000 + b.m, { uid: 'join-window', name: 'join-window' }).map(tag('join-window'));
  const temporal = timed
    .temporalJoin(tenth.map((o): Change<{ id: string; m: number }> => ({ kind: '+I', row: o })))
    .where((r) => r.key)
    .equalTo((o) => o.id)
    .apply((f, d) => f.n * 10_000 + (d === null ? -1 : d.m), { kind: 'left', uid: 'join-temporal', name: 'join-temporal' })
    .map(tag('join-temporal'));
  return [tumbling, sliding, regular, interval, windowed, temporal];
}

/** Rows with event time from their number: the `timed` input of windowsAndJoinsOf. */
export function timedRows(env: StreamEnv, count: number): DataStream<Row> {
  return env.fromSource(datagen({ count, generate: row }), { uid: 'timed-rows', watermarks: WatermarkStrategy.forMonotonousTimestamps<Row>((r) => r.n) });
}

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  const [first, ...rest] = windowsAndJoinsOf(timedRows(env, params.count));
  first!.union(...rest).sinkTo(joined);
});
