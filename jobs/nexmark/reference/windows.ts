import type { Event } from '../model.ts';
import { Q11_GAP_MS, Q5_SLIDE_MS, Q5_WINDOW_MS, Q7_WINDOW_MS, canonical, type Q11Row, type Q5Row, type Q7Row } from '../queries.ts';
import { bidsOf } from './common.ts';

const floorTo = (t: number, size: number) => t - (((t % size) + size) % size);

/**
 * q5: count bids per auction in hop windows (10 s every 2 s); per window, the auctions whose count
 * is >= the window's maximum count.
 */
export function q5(events: readonly Event[]): Q5Row[] {
  const bids = bidsOf(events);
  const starts = new Set<number>();
  for (const b of bids) {
    for (let s = floorTo(b.dateTime, Q5_SLIDE_MS); s > b.dateTime - Q5_WINDOW_MS; s -= Q5_SLIDE_MS) starts.add(s);
  }
  const rows: Q5Row[] = [];
  for (const start of starts) {
    const end = start + Q5_WINDOW_MS;
    const counts = new Map<number, number>();
    for (const b of bids) {
      if (b.dateTime >= start && b.dateTime < end) counts.set(b.auction, (counts.get(b.auction) ?? 0) + 1);
    }
    const max = Math.max(...counts.values());
    for (const [auction, num] of counts) {
      if (num >= max) rows.push({ auction, num, windowStart: start, windowEnd: end });
    }
  }
  return canonical('q5', rows);
}

/**
 * q7: the maximum price of each 10 s tumbling window, joined back to every bid with that price and
 * dateTime BETWEEN windowEnd - 10 s AND windowEnd.
 */
export function q7(events: readonly Event[]): Q7Row[] {
  const bids = bidsOf(events);
  const maxByEnd = new Map<number, number>();
  for (const b of bids) {
    const end = floorTo(b.dateTime, Q7_WINDOW_MS) + Q7_WINDOW_MS;
    maxByEnd.set(end, Math.max(maxByEnd.get(end) ?? -Infinity, b.price));
  }
  const rows: Q7Row[] = [];
  for (const [end, max] of maxByEnd) {
    for (const b of bids) {
      if (b.price === max && b.dateTime >= end - Q7_WINDOW_MS && b.dateTime <= end) {
        rows.push({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });
      }
    }
  }
  return canonical('q7', rows);
}

/**
 * q11: per bidder, session windows with a 10 s gap: each bid opens [t, t + gap] and windows that
 * overlap or touch merge (Flink's TimeWindow.intersects), so bids at most gap apart share a session.
 */
export function q11(events: readonly Event[]): Q11Row[] {
  const times = new Map<number, number[]>();
  for (const b of bidsOf(events)) {
    let list = times.get(b.bidder);
    if (list === undefined) times.set(b.bidder, (list = []));
    list.push(b.dateTime);
  }
  const rows: Q11Row[] = [];
  for (const [bidder, list] of times) {
    list.sort((a, b) => a - b);
    let start = list[0]!;
    let count = 0;
    for (let i = 0; i < list.length; i++) {
      if (i > 0 && list[i]! - list[i - 1]! > Q11_GAP_MS) {
        rows.push({ bidder, bidCount: count, starttime: start, endtime: list[i - 1]! + Q11_GAP_MS });
        start = list[i]!;
        count = 0;
      }
      count++;
    }
    rows.push({ bidder, bidCount: count, starttime: start, endtime: list[list.length - 1]! + Q11_GAP_MS });
  }
  return canonical('q11', rows);
}
