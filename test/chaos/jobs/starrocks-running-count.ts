/**
 * A keyed running count written to StarRocks, exactly-once: every record emits its key's new count
 * as a row (key, n) into a Duplicate Key table, so a row loaded twice (or lost) shows in the table.
 */
import { datagen, defineJob, valueState, type Collector, type KeyedContext, type KeyedProcessFunction, type KeyedRuntimeContext, type ValueState } from 'weir';
import { starrocksSink } from 'weir/starrocks';

export interface KeyCount {
  k: string;
  n: number;
}

class RunningCount implements KeyedProcessFunction<string, { k: string }, KeyCount> {
  private count!: ValueState<number>;

  open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.getState(valueState<number>('count'));
  }

  processElement(r: { k: string }, _ctx: KeyedContext<string>, out: Collector<KeyCount>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect({ k: r.k, n });
  }
}

export interface Params {
  count: number;
  keys: number;
  ratePerSecond: number;
  feUrl: string;
  user: string;
  password: string;
  table: string;
}

export default defineJob(import.meta.url, (env, p: Params) => {
  env
    .fromSource(datagen({ name: 'events', count: p.count, ratePerSecond: p.ratePerSecond, generate: (i) => ({ k: `k${(i * 7919) % p.keys}` }) }), { uid: 'events' })
    .keyBy((r) => r.k)
    .process(new RunningCount(), { uid: 'running-count', name: 'running-count' })
    .sinkTo(
      starrocksSink<KeyCount>({
        feUrl: p.feUrl,
        database: 'weir',
        table: p.table,
        user: p.user,
        password: p.password,
        labelPrefix: p.table,
        buffer: { maxRows: 500, flushIntervalMs: 0 },
        retry: { attempts: 6, backoffMs: 20, maxBackoffMs: 300 },
        commitRetry: { attempts: 6, backoffMs: 20, maxBackoffMs: 300 },
      }),
      { uid: 'starrocks' },
    );
});
