/**
 * The keyed process operator's timers, on both backends: they fire one at a time (the shared loop
 * of operators/timer-driver.ts), so what a handler registers or deletes takes effect for the timers
 * still to fire, as in Flink's InternalTimerService.
 */
import { describe, expect, it } from 'vitest';
import { OperatorHarness } from '../../harness/operator-harness.ts';
import { KeyedProcessOperator } from '../../../operators/keyed-process.ts';
import type { KeyedProcessFunction, OnTimerContext } from '../../../operators/functions.ts';

interface Cmd {
  key: string;
  /** Timers to register for this key (event or processing time per `domain`). */
  register?: number[];
  remove?: number[];
}

/** Registers what a record says; on each timer, runs the scripted reaction for `key@time` and reports the firing. */
function scripted(domain: 'event' | 'processing', reactions: Record<string, (time: number, ctx: OnTimerContext<string>) => void> = {}): KeyedProcessFunction<string, Cmd, string> {
  return {
    processElement(cmd, ctx) {
      for (const t of cmd.register ?? []) {
        if (domain === 'event') ctx.timerService.registerEventTimeTimer(t);
        else ctx.timerService.registerProcessingTimeTimer(t);
      }
      for (const t of cmd.remove ?? []) {
        if (domain === 'event') ctx.timerService.deleteEventTimeTimer(t);
        else ctx.timerService.deleteProcessingTimeTimer(t);
      }
    },
    onTimer(time, ctx, out) {
      out.collect(`${ctx.key}@${time}:${ctx.timeDomain}`);
      reactions[`${ctx.key}@${time}`]?.(time, ctx);
    },
  };
}

function harness(fn: KeyedProcessFunction<string, Cmd, string>, backend: 'heap' | 'lmdb') {
  return new OperatorHarness<Cmd, string>(() => new KeyedProcessOperator<string, string>('timers', fn as KeyedProcessFunction<string, unknown, string>, [(c) => (c as Cmd).key]), { backend });
}

/** Advances the domain's time: the watermark for event time, the clock for processing time. */
async function advance(h: OperatorHarness<Cmd, string>, domain: 'event' | 'processing', to: number): Promise<void> {
  if (domain === 'event') await h.processWatermark(to);
  else await h.setProcessingTime(to);
}

describe.each(['heap', 'lmdb'] as const)('keyed process timers (%s)', (backend) => {
  describe.each(['event', 'processing'] as const)('%s time', (domain) => {
    it('a timer deleted and registered again inside a handler fires once', async () => {
      const h = harness(
        scripted(domain, {
          'a@10': (_t, ctx) => {
            // "Reset" the later timer: delete it and register it again, both already due.
            if (domain === 'event') {
              ctx.timerService.deleteEventTimeTimer(20);
              ctx.timerService.registerEventTimeTimer(20);
            } else {
              ctx.timerService.deleteProcessingTimeTimer(20);
              ctx.timerService.registerProcessingTimeTimer(20);
            }
          },
        }),
        backend,
      );
      await h.open();
      await h.processElement({ key: 'a', register: [10, 20] }, 1);
      await advance(h, domain, 30);
      expect(h.values()).toEqual([`a@10:${domain}`, `a@20:${domain}`]);
      await advance(h, domain, 100);
      expect(h.values()).toEqual([`a@10:${domain}`, `a@20:${domain}`]);
      await h.close();
    });

    it('a due timer deleted by an earlier handler does not fire, nor one of the same time', async () => {
      const remove = (t: number) => (_time: number, ctx: OnTimerContext<string>) =>
        domain === 'event' ? ctx.timerService.deleteEventTimeTimer(t) : ctx.timerService.deleteProcessingTimeTimer(t);
      const h = harness(scripted(domain, { 'a@10': remove(20), 'b@10': remove(10) }), backend);
      await h.open();
      await h.processElement({ key: 'a', register: [10, 20] }, 1);
      await h.processElement({ key: 'b', register: [10, 25] }, 1);
      await advance(h, domain, 30);
      // b@10's handler deleting b@10 (itself, already firing) changes nothing; a@20 was deleted before its turn.
      expect(h.values()).toEqual([`a@10:${domain}`, `b@10:${domain}`, `b@25:${domain}`]);
      await h.close();
    });

    it('a timer registered by a handler fires in the same pass, in time order, once', async () => {
      const register = (t: number) => (_time: number, ctx: OnTimerContext<string>) =>
        domain === 'event' ? ctx.timerService.registerEventTimeTimer(t) : ctx.timerService.registerProcessingTimeTimer(t);
      const h = harness(scripted(domain, { 'a@10': register(15), 'a@15': register(40) }), backend);
      await h.open();
      await h.processElement({ key: 'a', register: [10, 20] }, 1);
      await advance(h, domain, 30);
      expect(h.values()).toEqual([`a@10:${domain}`, `a@15:${domain}`, `a@20:${domain}`]);
      await advance(h, domain, 40);
      expect(h.values()).toEqual([`a@10:${domain}`, `a@15:${domain}`, `a@20:${domain}`, `a@40:${domain}`]);
      await h.close();
    });

    it('a timer deleted before it is due never fires, and timers survive a snapshot and restore', async () => {
      const h = harness(scripted(domain), backend);
      await h.open();
      await h.processElement({ key: 'a', register: [10, 20, 30] }, 1);
      await h.processElement({ key: 'a', remove: [20] }, 2);
      await advance(h, domain, 10);
      expect(h.values()).toEqual([`a@10:${domain}`]);
      const snap = await h.snapshot();
      await h.close();
      const r = harness(scripted(domain), backend === 'heap' ? 'lmdb' : 'heap');
      await r.initializeState(snap);
      await r.open();
      await advance(r, domain, 50);
      expect(r.values()).toEqual([`a@30:${domain}`]);
      await r.close();
    });
  });
});
