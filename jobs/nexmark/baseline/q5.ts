import { Q5_SLIDE_MS as Q5_SLIDE_MS_, Q5_WINDOW_MS as Q5_WINDOW_MS_, type Q5Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { floorTo, source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const Q5_SLIDE_MS = Q5_SLIDE_MS_;
const Q5_WINDOW_MS = Q5_WINDOW_MS_;

/**
 * q5: hot items over hop windows (10 s every 2 s). Bids are counted per auction in 2 s panes; when
 * the watermark completes a window, its five panes are summed and the auctions with the highest
 * count are emitted. Each pane is counted once instead of once per window it belongs to.
 */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q5Row> {
  const t0 = performance.now();
  const { gen, lag } = source(config, events);
  const output = new Sink<Q5Row>(options.collect ?? true);
  const panes = new Map<number, Map<number, number>>();
  let maxTs = -Infinity;
  let maxPane = -Infinity;
  /** Start of the next window to complete. */
  let nextWindow = NaN;
  let paneStart = NaN;
  let pane: Map<number, number> | undefined;

  const emit = (start: number) => {
    const counts = new Map<number, number>();
    for (let p = start; p < start + Q5_WINDOW_MS; p += Q5_SLIDE_MS) {
      const m = panes.get(p);
      if (m === undefined) continue;
      for (const [auction, n] of m) counts.set(auction, (counts.get(auction) ?? 0) + n);
    }
    let max = 0;
    for (const n of counts.values()) if (n > max) max = n;
    for (const [auction, num] of counts) {
      if (num === max) output.push({ auction, num, windowStart: start, windowEnd: start + Q5_WINDOW_MS });
    }
  };
  const fire = (wm: number) => {
    while (nextWindow + Q5_WINDOW_MS - 1 <= wm && nextWindow <= maxPane) {
      emit(nextWindow);
      // The window's first pane belongs to no later window.
      panes.delete(nextWindow);
      if (paneStart === nextWindow) pane = undefined;
      nextWindow += Q5_SLIDE_MS;
    }
  };

  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    const t = e.dateTime;
    if (nextWindow !== nextWindow) nextWindow = floorTo(t - lag, Q5_SLIDE_MS) - Q5_WINDOW_MS + Q5_SLIDE_MS;
    if (e.kind === 'bid') {
      const p = t - (t % Q5_SLIDE_MS);
      if (p !== paneStart || pane === undefined) {
        paneStart = p;
        pane = panes.get(p);
        if (pane === undefined) panes.set(p, (pane = new Map()));
        if (p > maxPane) maxPane = p;
      }
      pane.set(e.auction, (pane.get(e.auction) ?? 0) + 1);
    }
    if (t > maxTs) {
      maxTs = t;
      if (t - lag >= nextWindow + Q5_WINDOW_MS - 1) fire(t - lag);
    }
  }
  fire(Infinity);
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
