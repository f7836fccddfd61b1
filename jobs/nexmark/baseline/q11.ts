import { Q11_GAP_MS as Q11_GAP_MS_, type Q11Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { SWEEP_MS as SWEEP_MS_, source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const Q11_GAP_MS = Q11_GAP_MS_;
const SWEEP_MS = SWEEP_MS_;

interface Session {
  start: number;
  last: number;
  count: number;
}

/**
 * q11: bids per bidder session (gap 10 s). Each bidder has its open sessions, disjoint and sorted;
 * a bid joins every session it touches (merging them, as a late bid can bridge two). A session is
 * emitted when the watermark passes last + gap: no later bid can touch it.
 */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q11Row> {
  const t0 = performance.now();
  const { gen, lag } = source(config, events);
  const output = new Sink<Q11Row>(options.collect ?? true);
  const open = new Map<number, Session[]>();
  let maxTs = -Infinity;
  let nextSweep = -Infinity;

  const add = (bidder: number, t: number) => {
    const list = open.get(bidder);
    if (list === undefined) {
      open.set(bidder, [{ start: t, last: t, count: 1 }]);
      return;
    }
    let first = -1;
    let i = 0;
    while (i < list.length) {
      const s = list[i]!;
      if (t + Q11_GAP_MS < s.start) break;
      if (t <= s.last + Q11_GAP_MS) {
        if (first < 0) {
          first = i;
          if (t < s.start) s.start = t;
          if (t > s.last) s.last = t;
          s.count++;
          i++;
        } else {
          // This bid bridges two sessions: fold the later one into the first.
          const f = list[first]!;
          f.last = Math.max(f.last, s.last);
          f.count += s.count;
          list.splice(i, 1);
        }
      } else {
        i++;
      }
    }
    if (first < 0) {
      let at = 0;
      while (at < list.length && list[at]!.start < t) at++;
      list.splice(at, 0, { start: t, last: t, count: 1 });
    }
  };
  const sweep = (wm: number) => {
    for (const [bidder, list] of open) {
      let k = 0;
      for (const s of list) {
        if (s.last + Q11_GAP_MS <= wm) output.push({ bidder, bidCount: s.count, starttime: s.start, endtime: s.last + Q11_GAP_MS });
        else list[k++] = s;
      }
      if (k === 0) open.delete(bidder);
      else list.length = k;
    }
  };

  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    const t = e.dateTime;
    if (e.kind === 'bid') add(e.bidder, t);
    if (t > maxTs) {
      maxTs = t;
      if (t - lag >= nextSweep) {
        sweep(t - lag);
        nextSweep = t - lag + SWEEP_MS;
      }
    }
  }
  sweep(Infinity);
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
