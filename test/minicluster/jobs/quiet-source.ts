/**
 * A source that emits `polls` batches of timestamped ticks on consecutive polls, then has nothing
 * more and never ends, with no wake-up from its reader: only the task's own timer can send the
 * watermark the auto-watermark interval held back. Each tick sets an event-time timer at its time.
 */
import { collectSink, defineJob, OwnedSplitEnumerator, type KeyedProcessFunction, type OwnedSplitsState, type Source, type SourceSplit, WatermarkStrategy } from 'weir';

export interface Tick {
  key: string;
  ts: number;
}

const PER_POLL = 10;

function quiet(polls: number): Source<Tick, SourceSplit, OwnedSplitsState<SourceSplit>> {
  return {
    name: 'quiet',
    bounded: false,
    createEnumerator: (ctx) => new OwnedSplitEnumerator(ctx, () => 0, { pending: [{ id: 'ticks' }], discoveryFinished: true }),
    restoreEnumerator: (ctx, state) => new OwnedSplitEnumerator(ctx, () => 0, state),
    createReader: () => {
      let splits: SourceSplit[] = [];
      let polled = 0;
      return {
        addSplits: (s) => void (splits = [...splits, ...s]),
        notifyNoMoreSplits: () => {},
        poll: (out) => {
          const split = splits[0];
          if (split === undefined || polled >= polls) return 'wait' as const;
          const o = out.forSplit(split.id);
          for (let i = 0; i < PER_POLL; i++) {
            const n = polled * PER_POLL + i;
            // 1 ms apart: a poll moves event time by 10 ms, far less than the test's interval, so
            // only the clock can release a held-back watermark.
            o.collect({ key: `k${n % 3}`, ts: n });
          }
          polled++;
          return 'more' as const;
        },
        // Never: nothing more will come.
        available: () => new Promise<void>(() => {}),
        snapshotState: () => splits,
      };
    },
  };
}

export const fired = collectSink<number>('fired');

export default defineJob(import.meta.url, (env, params: { polls: number }) => {
  const timers: KeyedProcessFunction<string, Tick, number> = {
    processElement(t, ctx) {
      ctx.timerService.registerEventTimeTimer(t.ts);
    },
    onTimer(time, _ctx, out) {
      out.collect(time);
    },
  };
  env
    .fromSource(quiet(params.polls), { uid: 'quiet', watermarks: WatermarkStrategy.forMonotonousTimestamps<Tick>((t) => t.ts) })
    .keyBy((t) => t.key)
    .process(timers, { uid: 'timers' })
    .sinkTo(fired, { uid: 'fired' });
});

export const ticksOf = (polls: number): number => polls * PER_POLL;
