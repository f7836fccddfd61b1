/**
 * A bounded keyed job (each record, and each key's sum when its input ends, from an event-time
 * timer) into an exactly-once file sink that can fail its first commit once: with
 * no periodic checkpoint, that is the commit of the final checkpoint, after every operator finished.
 * With one commit attempt, the failure fails the task and the job restarts from that checkpoint.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Collector, datagen, defineJob, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, type OnTimerContext, twoPhaseCommitSink, valueState, type ValueState } from 'weir';
import { FileTransactions } from '../../harness/transactional-sink.ts';

class FailingOnceCommit extends FileTransactions<string> {
  constructor(
    private readonly outDir: string,
    private readonly fail: boolean,
  ) {
    super(outDir);
  }

  override async commit(txn: { name: string }): Promise<void> {
    const marker = path.join(this.outDir, 'commit-failed-once');
    if (this.fail && !existsSync(marker)) {
      writeFileSync(marker, txn.name);
      throw new Error(`injected commit failure of ${txn.name}`);
    }
    await super.commit(txn);
  }
}

/** Per key: a line per record, and the key's sum when event time ends (the order of a key's records differs between runs). */
class RunningSum implements KeyedProcessFunction<number, number, string> {
  private sum!: ValueState<number>;

  open(ctx: KeyedRuntimeContext): void {
    this.sum = ctx.getState(valueState<number>('sum'));
  }

  processElement(v: number, ctx: KeyedContext<number>, out: Collector<string>): void {
    const sum = (this.sum.value() ?? 0) + v;
    this.sum.update(sum);
    out.collect(`${ctx.key}:${v}`);
    ctx.timerService.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
  }

  onTimer(_time: number, ctx: OnTimerContext<number>, out: Collector<string>): void {
    out.collect(`${ctx.key}:total:${this.sum.value()}`);
  }
}

export default defineJob(import.meta.url, (env, p: { outDir: string; count: number; failFirstCommit: boolean }) => {
  env
    .fromSource(datagen({ name: 'numbers', count: p.count, generate: (i) => i }), { uid: 'numbers' })
    .keyBy((i) => i % 37)
    .process(new RunningSum(), { name: 'running-sum', uid: 'running-sum' })
    .sinkTo(twoPhaseCommitSink<string, { name: string }>('sums', () => new FailingOnceCommit(p.outDir, p.failFirstCommit), { commitRetry: { attempts: 1 } }), { uid: 'sink' });
});
