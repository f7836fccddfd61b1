import type { Q4Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { SWEEP_MS as SWEEP_MS_, source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const SWEEP_MS = SWEEP_MS_;

interface OpenAuction {
  category: number;
  start: number;
  expires: number;
  /** Highest qualifying bid so far; -1 for none (prices are >= 100). */
  max: number;
  /** Watermark at which it closed, or -1 while open. */
  closedAt: number;
}

/** Closed auctions are remembered this long so their late-arriving bids are dropped cheaply. */
const TOMBSTONE_MS = 10_000;

/**
 * q4: average winning price per category. An auction closes when the watermark passes its expiry
 * (no bid inside its lifetime can arrive after that) and adds its highest bid to its category.
 * Bids for an auction not seen yet wait until the watermark passes their time: an auction arriving
 * after that starts later than the bid, so the bid cannot count for it.
 */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q4Row> {
  const t0 = performance.now();
  const { gen, lag } = source(config, events);
  const open = new Map<number, OpenAuction>();
  /** Per unknown auction id: flattened (time, price) pairs. */
  const pending = new Map<number, number[]>();
  const sums = new Map<number, { sum: number; count: number }>();
  let maxTs = -Infinity;
  let nextSweep = -Infinity;

  const close = (a: OpenAuction, wm: number) => {
    a.closedAt = wm;
    if (a.max < 0) return;
    const s = sums.get(a.category);
    if (s === undefined) sums.set(a.category, { sum: a.max, count: 1 });
    else {
      s.sum += a.max;
      s.count++;
    }
  };
  const sweep = (wm: number) => {
    for (const [id, a] of open) {
      if (a.closedAt < 0) {
        if (a.expires <= wm) close(a, wm);
      } else if (wm - a.closedAt > TOMBSTONE_MS) {
        open.delete(id);
      }
    }
    for (const [id, pairs] of pending) {
      let k = 0;
      for (let i = 0; i < pairs.length; i += 2) {
        if (pairs[i]! > wm) {
          pairs[k++] = pairs[i]!;
          pairs[k++] = pairs[i + 1]!;
        }
      }
      if (k === 0) pending.delete(id);
      else pairs.length = k;
    }
  };

  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    const t = e.dateTime;
    if (e.kind === 'bid') {
      const a = open.get(e.auction);
      if (a !== undefined) {
        if (a.closedAt < 0 && t >= a.start && t <= a.expires && e.price > a.max) a.max = e.price;
      } else {
        const pairs = pending.get(e.auction);
        if (pairs === undefined) pending.set(e.auction, [t, e.price]);
        else pairs.push(t, e.price);
      }
    } else if (e.kind === 'auction') {
      const a: OpenAuction = { category: e.category, start: t, expires: e.expires, max: -1, closedAt: -1 };
      const pairs = pending.get(e.id);
      if (pairs !== undefined) {
        pending.delete(e.id);
        for (let i = 0; i < pairs.length; i += 2) {
          const bt = pairs[i]!;
          if (bt >= a.start && bt <= a.expires && pairs[i + 1]! > a.max) a.max = pairs[i + 1]!;
        }
      }
      open.set(e.id, a);
    }
    if (t > maxTs) {
      maxTs = t;
      if (t - lag >= nextSweep) {
        sweep(t - lag);
        nextSweep = t - lag + SWEEP_MS;
      }
    }
  }
  for (const a of open.values()) if (a.closedAt < 0) close(a, Infinity);
  const output = new Sink<Q4Row>(options.collect ?? true);
  for (const [category, s] of sums) output.push({ category, avgFinal: Math.trunc(s.sum / s.count) });
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
