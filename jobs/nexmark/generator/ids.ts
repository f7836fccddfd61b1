import type { NexmarkConfig } from './config.ts';
import { totalProportion } from './config.ts';

/**
 * Which ids exist at a given event id. Events cycle through `totalProportion` slots: the first
 * `personProportion` create people, the next `auctionProportion` create auctions, the rest are bids.
 * All ids here are base 0 (FIRST_PERSON_ID / FIRST_AUCTION_ID are added by the generator).
 */

export function kindOfEventId(c: NexmarkConfig, eventId: number): 'person' | 'auction' | 'bid' {
  const rem = eventId % totalProportion(c);
  if (rem < c.personProportion) return 'person';
  return rem < c.personProportion + c.auctionProportion ? 'auction' : 'bid';
}

/** Id of the last person created at or before `eventId` (the new person's id if it creates one). */
export function lastBase0PersonId(c: NexmarkConfig, eventId: number): number {
  const total = totalProportion(c);
  const epoch = Math.floor(eventId / total);
  let offset = eventId % total;
  if (offset >= c.personProportion) offset = c.personProportion - 1;
  return epoch * c.personProportion + offset;
}

/** Id of the last auction created at or before `eventId`; -1 before the first auction. */
export function lastBase0AuctionId(c: NexmarkConfig, eventId: number): number {
  const total = totalProportion(c);
  let epoch = Math.floor(eventId / total);
  let offset = eventId % total;
  if (offset < c.personProportion) {
    epoch--;
    offset = c.auctionProportion - 1;
  } else if (offset >= c.personProportion + c.auctionProportion) {
    offset = c.auctionProportion - 1;
  } else {
    offset -= c.personProportion;
  }
  return epoch * c.auctionProportion + offset;
}
