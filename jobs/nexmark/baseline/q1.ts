import type { Q1Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

/** q1: bid prices converted to euros. */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q1Row> {
  const t0 = performance.now();
  const { gen } = source(config, events);
  const output = new Sink<Q1Row>(options.collect ?? true);
  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    if (e.kind === 'bid') output.push({ auction: e.auction, bidder: e.bidder, price: (e.price * 908) / 1000, dateTime: e.dateTime, extra: e.extra });
  }
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
