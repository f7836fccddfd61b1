import { Q2_AUCTION_MODULUS, type Q2Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { source, type BaselineResult } from './common.ts';

/** q2: bids of every 123rd auction. */
export function run(config: NexmarkConfigInput, events: number): BaselineResult<Q2Row> {
  const t0 = performance.now();
  const { gen } = source(config, events);
  const output: Q2Row[] = [];
  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    if (e.kind === 'bid' && e.auction % Q2_AUCTION_MODULUS === 0) output.push({ auction: e.auction, price: e.price });
  }
  return { events, ms: performance.now() - t0, output };
}
