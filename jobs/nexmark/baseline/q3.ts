import { Q3_CATEGORY as Q3_CATEGORY_, Q3_STATES as Q3_STATES_, type Q3Row } from '../queries.ts';
import type { Person } from '../model.ts';
import type { NexmarkConfigInput } from '../generator/index.ts';
import { source, Sink, type BaselineOptions, type BaselineResult } from './common.ts';

// Module-local copies: loaded as CommonJS under tsx, each use of an import is a getter call (see generator.ts).
const Q3_CATEGORY = Q3_CATEGORY_;
const Q3_STATES = Q3_STATES_;

/**
 * q3: incremental join of category-10 auctions with their sellers in OR, ID or CA. An unwindowed
 * join keeps its state for ever, like the SQL query without state TTL: every person seen (null if
 * in another state) and the auctions waiting for a seller not seen yet.
 */
export function run(config: NexmarkConfigInput, events: number, options: BaselineOptions = {}): BaselineResult<Q3Row> {
  const t0 = performance.now();
  const { gen } = source(config, events);
  const output = new Sink<Q3Row>(options.collect ?? true);
  const people = new Map<number, Person | null>();
  const waiting = new Map<number, number[]>();
  for (let e = gen.next(); e !== undefined; e = gen.next()) {
    if (e.kind === 'auction') {
      if (e.category !== Q3_CATEGORY) continue;
      const p = people.get(e.seller);
      if (p === undefined) {
        const list = waiting.get(e.seller);
        if (list === undefined) waiting.set(e.seller, [e.id]);
        else list.push(e.id);
      } else if (p !== null) {
        output.push({ name: p.name, city: p.city, state: p.state, id: e.id });
      }
    } else if (e.kind === 'person') {
      const wanted = Q3_STATES.includes(e.state);
      people.set(e.id, wanted ? e : null);
      const list = waiting.get(e.id);
      if (list !== undefined) {
        waiting.delete(e.id);
        if (wanted) for (const id of list) output.push({ name: e.name, city: e.city, state: e.state, id });
      }
    }
  }
  return { events, ms: performance.now() - t0, output: output.rows, rows: output.count };
}
