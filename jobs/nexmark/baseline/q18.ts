import type { Bid } from '../model.ts';
import type { Q18Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

/**
 * q18: last bid per (bidder, auction) by dateTime, ties to the later arrival. The SQL result is an
 * updating table with no window to close it; the output is its state after the last event.
 */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q18Row> {
  const t0 = performance.now();
  const { gen } = source(config, events);
  const last = new Map<number, Map<number, Bid>>();
  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    if (e.kind !== 'bid') continue;
    let byAuction = last.get(e.bidder);
    if (byAuction === undefined) last.set(e.bidder, (byAuction = new Map()));
    const prev = byAuction.get(e.auction);
    if (prev === undefined || e.dateTime >= prev.dateTime) byAuction.set(e.auction, e);
  }
  const output = new Sink<Bid>(options.collect ?? true);
  for (const byAuction of last.values()) for (const b of byAuction.values()) output.push(b);
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
