import { Q8_WINDOW_MS as Q8_WINDOW_MS_, type Q8Row } from '../queries.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { floorTo, source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const Q8_WINDOW_MS = Q8_WINDOW_MS_;

interface Window {
  /** id -> name of people who registered in the window. */
  people: Map<number, string>;
  sellers: Set<number>;
}

/** q8: people who opened an auction in the 10 s tumbling window they registered in. */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q8Row> {
  const t0 = performance.now();
  const { gen, lag } = source(config, events);
  const output = new Sink<Q8Row>(options.collect ?? true);
  const windows = new Map<number, Window>();
  let maxTs = -Infinity;
  let maxWindow = -Infinity;
  let nextWindow = NaN;

  const windowAt = (t: number): Window => {
    const s = t - (t % Q8_WINDOW_MS);
    let w = windows.get(s);
    if (w === undefined) {
      windows.set(s, (w = { people: new Map(), sellers: new Set() }));
      if (s > maxWindow) maxWindow = s;
    }
    return w;
  };
  const fire = (wm: number) => {
    while (nextWindow + Q8_WINDOW_MS - 1 <= wm && nextWindow <= maxWindow) {
      const w = windows.get(nextWindow);
      if (w !== undefined) {
        for (const [id, name] of w.people) if (w.sellers.has(id)) output.push({ id, name, starttime: nextWindow });
        windows.delete(nextWindow);
      }
      nextWindow += Q8_WINDOW_MS;
    }
  };

  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    const t = e.dateTime;
    if (nextWindow !== nextWindow) nextWindow = floorTo(t - lag, Q8_WINDOW_MS);
    if (e.kind === 'person') windowAt(t).people.set(e.id, e.name);
    else if (e.kind === 'auction') windowAt(t).sellers.add(e.seller);
    if (t > maxTs) {
      maxTs = t;
      if (t - lag >= nextWindow + Q8_WINDOW_MS - 1) fire(t - lag);
    }
  }
  fire(Infinity);
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
