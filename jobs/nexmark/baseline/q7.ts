import type { Bid } from '../model.ts';
import { Q7_WINDOW_MS as Q7_WINDOW_MS_, type Q7Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { floorTo, source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const Q7_WINDOW_MS = Q7_WINDOW_MS_;

interface Window {
  max: number;
  /** Bids in the window with the maximum price. */
  top: Bid[];
  /** Bids at exactly the window's start: BETWEEN also matches them to the previous window. */
  atStart: Bid[];
}

/**
 * q7: highest bids per 10 s tumbling window. A window [s, e) is emitted once the watermark reaches
 * e (not e - 1), because the query's BETWEEN also joins bids at exactly e to its maximum.
 */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q7Row> {
  const t0 = performance.now();
  const { gen, lag } = source(config, events);
  const output = new Sink<Q7Row>(options.collect ?? true);
  const windows = new Map<number, Window>();
  let maxTs = -Infinity;
  let maxWindow = -Infinity;
  let nextWindow = NaN;
  let curStart = NaN;
  let cur: Window | undefined;

  const row = (b: Bid): Q7Row => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra });
  const fire = (wm: number) => {
    while (nextWindow + Q7_WINDOW_MS <= wm && nextWindow <= maxWindow) {
      const w = windows.get(nextWindow);
      if (w !== undefined) {
        for (const b of w.top) output.push(row(b));
        const after = windows.get(nextWindow + Q7_WINDOW_MS);
        if (after !== undefined) for (const b of after.atStart) if (b.price === w.max) output.push(row(b));
        windows.delete(nextWindow);
        if (curStart === nextWindow) cur = undefined;
      }
      nextWindow += Q7_WINDOW_MS;
    }
  };

  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    const t = e.dateTime;
    if (nextWindow !== nextWindow) nextWindow = floorTo(t - lag, Q7_WINDOW_MS);
    if (e.kind === 'bid') {
      const s = t - (t % Q7_WINDOW_MS);
      if (s !== curStart || cur === undefined) {
        curStart = s;
        cur = windows.get(s);
        if (cur === undefined) windows.set(s, (cur = { max: -1, top: [], atStart: [] }));
        if (s > maxWindow) maxWindow = s;
      }
      if (e.price > cur.max) {
        cur.max = e.price;
        cur.top = [e];
      } else if (e.price === cur.max) {
        cur.top.push(e);
      }
      if (t === s) cur.atStart.push(e);
    }
    if (t > maxTs) {
      maxTs = t;
      if (t - lag >= nextWindow + Q7_WINDOW_MS) fire(t - lag);
    }
  }
  fire(Infinity);
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
