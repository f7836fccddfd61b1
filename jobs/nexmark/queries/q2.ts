import type { Bid } from '../model.ts';
import { Q2_AUCTION_MODULUS, type Q2Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';

const MODULUS = Q2_AUCTION_MODULUS;

/** q2 selection: SELECT auction, price FROM bid WHERE auction % 123 = 0. */
export const q2: QueryBuilder<'q2'> = (input) =>
  input
    .source<Bid>('bids', (e) => (e.kind === 'bid' ? e : undefined))
    .filter((b) => b.auction % MODULUS === 0, { name: 'q2-filter' })
    .map<Q2Row>((b) => ({ auction: b.auction, price: b.price }), { name: 'q2-project' });
