import type { Bid } from '../model.ts';
import type { Q0Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

/** q0: pass every bid through. */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q0Row> {
  const t0 = performance.now();
  const { gen } = source(config, events);
  const output = new Sink<Bid>(options.collect ?? true);
  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    if (e.kind === 'bid') output.push(e);
  }
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
