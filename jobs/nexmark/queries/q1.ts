import type { Bid } from '../model.ts';
import type { Q1Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';

/** q1 currency conversion: SELECT auction, bidder, 0.908 * price, dateTime, extra FROM bid. */
export const q1: QueryBuilder<'q1'> = (input) =>
  input
    .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
    .map<Q1Row>((b) => ({ auction: b.auction, bidder: b.bidder, price: (b.price * 908) / 1000, dateTime: b.dateTime, extra: b.extra }), { name: 'q1-euros' });
