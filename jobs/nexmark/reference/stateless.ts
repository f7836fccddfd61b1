import type { Event } from '../model.ts';
import { Q2_AUCTION_MODULUS, canonical, type Q0Row, type Q1Row, type Q2Row } from '../queries.ts';
import { bidsOf } from './common.ts';

/** q0: SELECT * FROM bid. */
export function q0(events: readonly Event[]): Q0Row[] {
  return canonical('q0', bidsOf(events));
}

/** q1: SELECT auction, bidder, 0.908 * price, dateTime, extra FROM bid. */
export function q1(events: readonly Event[]): Q1Row[] {
  return canonical(
    'q1',
    bidsOf(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: (b.price * 908) / 1000, dateTime: b.dateTime, extra: b.extra })),
  );
}

/** q2: SELECT auction, price FROM bid WHERE auction % 123 = 0. */
export function q2(events: readonly Event[]): Q2Row[] {
  return canonical(
    'q2',
    bidsOf(events)
      .filter((b) => b.auction % Q2_AUCTION_MODULUS === 0)
      .map((b) => ({ auction: b.auction, price: b.price })),
  );
}
