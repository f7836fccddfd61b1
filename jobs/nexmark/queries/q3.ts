import { Q3_CATEGORY, Q3_STATES, type Q3Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';

const CATEGORY = Q3_CATEGORY;
const STATES = new Set(Q3_STATES);

interface SellerRow {
  t: 'p';
  id: number;
  name: string;
  city: string;
  state: string;
}
interface AuctionRow {
  t: 'a';
  id: number;
  seller: number;
  category: number;
}

/**
 * q3 local item suggestion: auctions of category 10 joined with their sellers in OR, ID or CA.
 * A regular (unbounded) inner join of two insert-only streams, so its changelog is inserts only.
 * Both filters run in the source's projection, before the exchange, as Flink pushes them down: a
 * person or auction that fails them is never copied into a row (filtering the rows in the two
 * flatMaps made a row for each of the 8% of events that are people or auctions, and kept 3 in 50
 * people and 1 in 5 auctions).
 */
export const q3: QueryBuilder<'q3'> = (input) => {
  const events = input.source<SellerRow | AuctionRow>('people-auctions', (e) => {
    if (e.kind === 'person') return STATES.has(e.state) ? { t: 'p', id: e.id, name: e.name, city: e.city, state: e.state } : undefined;
    if (e.kind === 'auction') return e.category === CATEGORY ? { t: 'a', id: e.id, seller: e.seller, category: e.category } : undefined;
    return undefined;
  });
  const auctions = events.flatMap<AuctionRow>((r, out) => {
    if (r.t === 'a') out.collect(r);
  }, { name: 'q3-auctions' });
  const sellers = events.flatMap<SellerRow>((r, out) => {
    if (r.t === 'p') out.collect(r);
  }, { name: 'q3-sellers' });
  return auctions
    .join(sellers)
    .where((a) => a.seller)
    .equalTo((p) => p.id)
    .inner<Q3Row>((a, p) => ({ name: p.name, city: p.city, state: p.state, id: a.id }), {
      name: 'q3-join',
      uid: 'q3-join',
      leftUniqueKey: (a) => a.id,
      rightUniqueKey: (p) => p.id,
    })
    .map((c) => c.row, { name: 'q3-rows' });
};
