/**
 * The Nexmark data model: an online auction where people register, open auctions and bid on them.
 * Field names follow the reference (github.com/nexmark/nexmark); times are epoch milliseconds (UTC).
 * Each record carries its `kind`, so an `Event` is the record itself (no wrapper object per event).
 */

export interface Person {
  readonly kind: 'person';
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
  extra: string;
}

export interface Auction {
  readonly kind: 'auction';
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

export interface Bid {
  readonly kind: 'bid';
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

/**
 * A bid with its event number: the stream position the reference breaks ties with (q18, q19: at
 * parallelism > 1 records of one key reach an operator from several subtasks, so arrival order is
 * not stream order). A generator with `numberBids` makes these instead of plain bids.
 */
export interface NumberedBid extends Bid {
  seq: number;
}

export type Event = Person | Auction | Bid;
/** The events of a generator with `numberBids`. */
export type NumberedEvent = Person | Auction | NumberedBid;
export type EventKind = Event['kind'];
