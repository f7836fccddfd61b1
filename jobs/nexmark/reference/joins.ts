import type { Event } from '../model.ts';
import { Q3_CATEGORY, Q3_STATES, Q8_WINDOW_MS, canonical, type Q3Row, type Q4Row, type Q8Row } from '../queries.ts';
import { auctionsOf, bidsOf, peopleOf } from './common.ts';

/** q3: auctions of category 10 joined with their sellers, for sellers in OR, ID or CA. */
export function q3(events: readonly Event[]): Q3Row[] {
  const rows: Q3Row[] = [];
  const people = peopleOf(events);
  for (const a of auctionsOf(events)) {
    if (a.category !== Q3_CATEGORY) continue;
    for (const p of people) {
      if (p.id === a.seller && Q3_STATES.includes(p.state)) rows.push({ name: p.name, city: p.city, state: p.state, id: a.id });
    }
  }
  return canonical('q3', rows);
}

/**
 * q4: for each auction the highest bid with dateTime in [auction.dateTime, auction.expires]
 * (GROUP BY A.id, A.category), then the average of those per category.
 */
export function q4(events: readonly Event[]): Q4Row[] {
  const bids = bidsOf(events);
  const finals: { category: number; final: number }[] = [];
  for (const a of auctionsOf(events)) {
    let final = -Infinity;
    for (const b of bids) {
      if (b.auction === a.id && b.dateTime >= a.dateTime && b.dateTime <= a.expires && b.price > final) final = b.price;
    }
    if (final !== -Infinity) finals.push({ category: a.category, final });
  }
  const rows: Q4Row[] = [];
  for (const category of new Set(finals.map((f) => f.category))) {
    const of = finals.filter((f) => f.category === category);
    const sum = of.reduce((s, f) => s + f.final, 0);
    rows.push({ category, avgFinal: Math.trunc(sum / of.length) });
  }
  return canonical('q4', rows);
}

/**
 * q8: (id, name, window) of people and (seller, window) of auctions, each distinct, over 10 s
 * tumbling windows, joined on id = seller and the same window.
 */
export function q8(events: readonly Event[]): Q8Row[] {
  const windowOf = (t: number) => t - (((t % Q8_WINDOW_MS) + Q8_WINDOW_MS) % Q8_WINDOW_MS);
  const people = new Map<string, { id: number; name: string; start: number }>();
  for (const p of peopleOf(events)) {
    const start = windowOf(p.dateTime);
    people.set(JSON.stringify([p.id, p.name, start]), { id: p.id, name: p.name, start });
  }
  const sellers = new Map<string, { seller: number; start: number }>();
  for (const a of auctionsOf(events)) {
    const start = windowOf(a.dateTime);
    sellers.set(JSON.stringify([a.seller, start]), { seller: a.seller, start });
  }
  const rows: Q8Row[] = [];
  for (const p of people.values()) {
    for (const s of sellers.values()) {
      if (p.id === s.seller && p.start === s.start) rows.push({ id: p.id, name: p.name, starttime: p.start });
    }
  }
  return canonical('q8', rows);
}
