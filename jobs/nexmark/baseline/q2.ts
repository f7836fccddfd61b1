import { Q2_AUCTION_MODULUS as Q2_AUCTION_MODULUS_, type Q2Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const Q2_AUCTION_MODULUS = Q2_AUCTION_MODULUS_;

/** q2: bids of every 123rd auction. */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q2Row> {
  const t0 = performance.now();
  const { gen } = source(config, events);
  const output = new Sink<Q2Row>(options.collect ?? true);
  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    if (e.kind === 'bid' && e.auction % Q2_AUCTION_MODULUS === 0) output.push({ auction: e.auction, price: e.price });
  }
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
