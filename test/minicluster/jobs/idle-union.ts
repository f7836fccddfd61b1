/**
 * Two sources in a union: one emits timestamped events, the other never emits anything and never
 * ends. With idleness on the silent one, the watermark still advances and event-time timers fire.
 */
import { collectSink, datagen, defineJob, OwnedSplitEnumerator, type KeyedProcessFunction, type OwnedSplitsState, type Source, type SourceSplit, WatermarkStrategy } from 'weir';

export interface Tick {
  key: string;
  ts: number;
}

/** One split that never has data: its reader waits forever. */
const silent: Source<Tick, SourceSplit, OwnedSplitsState<SourceSplit>> = {
  name: 'silent',
  bounded: false,
  createEnumerator: (ctx) => new OwnedSplitEnumerator(ctx, () => 0, { pending: [{ id: 'silent' }], discoveryFinished: true }),
  restoreEnumerator: (ctx, state) => new OwnedSplitEnumerator(ctx, () => 0, state),
  createReader: () => {
    let splits: SourceSplit[] = [];
    return {
      addSplits: (s) => void (splits = [...splits, ...s]),
      notifyNoMoreSplits: () => {},
      poll: (out) => {
        for (const s of splits) out.forSplit(s.id);
        return 'wait' as const;
      },
      available: () => new Promise<void>((r) => setTimeout(r, 20)),
      snapshotState: () => splits,
    };
  },
};

export const fired = collectSink<number>('fired');

export default defineJob(import.meta.url, (env, params: { count: number }) => {
  const ticks = env.fromSource(datagen<Tick>({ count: params.count, generate: (i) => ({ key: `k${i % 3}`, ts: i * 100 }) }), {
    watermarks: WatermarkStrategy.forMonotonousTimestamps<Tick>((t) => t.ts),
  });
  const quiet = env.fromSource(silent, { watermarks: WatermarkStrategy.forMonotonousTimestamps<Tick>((t) => t.ts).withIdleness(50) });
  const timers: KeyedProcessFunction<string, Tick, number> = {
    processElement(t, ctx) {
      ctx.timerService.registerEventTimeTimer(t.ts);
    },
    onTimer(time, _ctx, out) {
      out.collect(time);
    },
  };
  ticks.union(quiet).keyBy((t) => t.key).process(timers).sinkTo(fired);
});
