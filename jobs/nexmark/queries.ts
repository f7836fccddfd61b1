import type { Bid } from './model.ts';

/**
 * The Nexmark queries Weir implements, their output rows and a canonical order for comparing
 * outputs. Semantics are those of the reference SQL (github.com/nexmark/nexmark, queries/*.sql).
 * Where the SQL result is an updating table (q3, q4, q15, q18, q19), rows are its final state
 * after the whole input; windowed rows carry their window bounds. Times are epoch ms, UTC.
 */

/** q2 keeps bids of every 123rd auction. */
export const Q2_AUCTION_MODULUS = 123;
/** q3 joins sellers in these states with auctions in this category. */
export const Q3_STATES: readonly string[] = ['OR', 'ID', 'CA'];
export const Q3_CATEGORY = 10;
/** q5 hop windows: 10 s long, every 2 s. */
export const Q5_WINDOW_MS = 10_000;
export const Q5_SLIDE_MS = 2_000;
/** q7 and q8 tumbling windows. */
export const Q7_WINDOW_MS = 10_000;
export const Q8_WINDOW_MS = 10_000;
/** q11 session gap. Bids at most this far apart are in one session (Flink's windows touch-merge). */
export const Q11_GAP_MS = 10_000;
/** q15 price ranks: rank1 < 10_000 <= rank2 < 1_000_000 <= rank3. */
export const Q15_RANK1_BELOW = 10_000;
export const Q15_RANK2_BELOW = 1_000_000;
export const DAY_MS = 86_400_000;
/** q19 keeps this many bids per auction. */
export const Q19_TOP = 10;

/** q0 pass-through: every bid. */
export type Q0Row = Bid;
/** q1 currency conversion: price in euros (price * 0.908). */
export interface Q1Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}
/** q2 selection. */
export interface Q2Row {
  auction: number;
  price: number;
}
/** q3 local item suggestion: seller name, city, state and the auction id. */
export interface Q3Row {
  name: string;
  city: string;
  state: string;
  id: number;
}
/**
 * q4 average winning price per category: the winning price of an auction is its highest bid with
 * dateTime in [auction.dateTime, auction.expires]; auctions without such a bid do not count.
 * `avgFinal` is truncated to an integer, as Flink's AVG over BIGINT is.
 */
export interface Q4Row {
  category: number;
  avgFinal: number;
}
/** q5 hot items: per hop window, the auctions whose bid count is the window's maximum. */
export interface Q5Row {
  auction: number;
  num: number;
  windowStart: number;
  windowEnd: number;
}
/**
 * q7 highest bid: bids whose price is the maximum of a 10 s tumbling window and whose dateTime is
 * in [windowEnd - 10 s, windowEnd] (inclusive on both ends, as the SQL's BETWEEN is, so a bid at
 * exactly windowEnd can match the window before its own too).
 */
export interface Q7Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}
/** q8 new users: people who opened an auction in the same 10 s tumbling window they registered in. */
export interface Q8Row {
  id: number;
  name: string;
  starttime: number;
}
/** q11 user sessions: bids per bidder session; endtime = last bid + gap. */
export interface Q11Row {
  bidder: number;
  bidCount: number;
  starttime: number;
  endtime: number;
}
/** q15 bidding statistics per UTC day ('yyyy-MM-dd'). */
export interface Q15Row {
  day: string;
  totalBids: number;
  rank1Bids: number;
  rank2Bids: number;
  rank3Bids: number;
  totalBidders: number;
  rank1Bidders: number;
  rank2Bidders: number;
  rank3Bidders: number;
  totalAuctions: number;
  rank1Auctions: number;
  rank2Auctions: number;
  rank3Auctions: number;
}
/** q18 last bid per (bidder, auction) by dateTime; of equal dateTimes, the one later in the stream. */
export type Q18Row = Bid;
/** q19 top 10 bids per auction by price; of equal prices, the one earlier in the stream ranks first. */
export type Q19Row = Bid & { rankNumber: number };

export interface QueryRows {
  q0: Q0Row;
  q1: Q1Row;
  q2: Q2Row;
  q3: Q3Row;
  q4: Q4Row;
  q5: Q5Row;
  q7: Q7Row;
  q8: Q8Row;
  q11: Q11Row;
  q15: Q15Row;
  q18: Q18Row;
  q19: Q19Row;
}
export type QueryName = keyof QueryRows;
export const QUERY_NAMES: readonly QueryName[] = ['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q7', 'q8', 'q11', 'q15', 'q18', 'q19'];

/** Fields compared, in order, to sort each query's rows canonically (ascending). */
export const CANONICAL_ORDER: { readonly [Q in QueryName]: readonly (keyof QueryRows[Q] & string)[] } = {
  q0: ['dateTime', 'auction', 'bidder', 'price', 'channel', 'url', 'extra'],
  q1: ['dateTime', 'auction', 'bidder', 'price', 'extra'],
  q2: ['auction', 'price'],
  q3: ['id', 'name', 'city', 'state'],
  q4: ['category'],
  q5: ['windowStart', 'auction'],
  q7: ['dateTime', 'auction', 'bidder', 'price', 'extra'],
  q8: ['starttime', 'id', 'name'],
  q11: ['bidder', 'starttime'],
  q15: ['day'],
  q18: ['bidder', 'auction'],
  q19: ['auction', 'rankNumber'],
};

/** A sorted copy of `rows` in the query's canonical order. */
export function canonical<Q extends QueryName>(query: Q, rows: readonly QueryRows[Q][]): QueryRows[Q][] {
  const keys = CANONICAL_ORDER[query];
  return [...rows].sort((a, b) => {
    for (const k of keys) {
      const x = a[k] as number | string;
      const y = b[k] as number | string;
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  });
}

/** 'yyyy-MM-dd' of an epoch-ms time, in UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
