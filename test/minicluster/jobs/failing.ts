/** A map that throws on one record, and an unbounded variant for cancellation. */
import { collectSink, datagen, defineJob } from 'weir';

export const out = collectSink<{ id: number }>('failing-out');

export default defineJob(import.meta.url, (env, params: { failAt: number; unbounded: boolean }) => {
  env
    .fromSource(datagen({ count: params.unbounded ? undefined : 10_000, ratePerSecond: params.unbounded ? 5_000 : undefined, generate: (i) => ({ id: i, note: 'x'.repeat(300) }) }))
    .map(
      (r) => {
        if (r.id === params.failAt) throw new Error(`cannot price order ${r.id}`);
        return { id: r.id };
      },
      { name: 'price-orders' },
    )
    .rebalance()
    .sinkTo(out);
});
