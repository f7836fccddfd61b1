/**
 * The Nexmark queries as one Weir job, the query chosen by a parameter:
 *
 *     const result = await new MiniCluster({ workers: 2 }).execute(nexmarkJob, { params: { query: 'q5', events: 50_000 }, parallelism: 2 });
 *     const rows = finalRows('q5', result.get(nexmarkRows));
 *
 * One module per query (q0.ts ... q19.ts). Updating results (q4, q15, q18, q19) are emitted as
 * upserts: the latest row of a key replaces the earlier ones; `finalRows` applies them.
 */
import { collectSink, ConfigError, type DataStream, defineJob } from 'weir';
import { QUERY_NAMES, canonical, type QueryName, type QueryRows } from '../queries.ts';
import { ROWS_TOPIC, queryInput, timingSink, type NexmarkJobParams, type QueryBuilder } from './common.ts';
import { q0 } from './q0.ts';
import { q1 } from './q1.ts';
import { q2 } from './q2.ts';
import { q3 } from './q3.ts';
import { q4 } from './q4.ts';
import { q5 } from './q5.ts';
import { q7 } from './q7.ts';
import { q8 } from './q8.ts';
import { q11 } from './q11.ts';
import { q15 } from './q15.ts';
import { q18 } from './q18.ts';
import { q19 } from './q19.ts';

export const QUERIES: { readonly [Q in QueryName]: QueryBuilder<Q> } = { q0, q1, q2, q3, q4, q5, q7, q8, q11, q15, q18, q19 };

/** What the collect variant of the job sends back (rows of the chosen query). */
export const nexmarkRows = collectSink<QueryRows[QueryName]>(ROWS_TOPIC);

/** The key of an upsert row, for queries whose result is an updating table. */
const UPSERT_KEY: { readonly [Q in QueryName]?: (row: QueryRows[Q]) => string | number } = {
  q4: (r) => r.category,
  q15: (r) => r.day,
  q18: (r) => `${r.bidder}/${r.auction}`,
  q19: (r) => `${r.auction}/${r.rankNumber}`,
};

/** The query's result from the rows its job emitted: upserts applied, in canonical order. */
export function finalRows<Q extends QueryName>(query: Q, emitted: readonly QueryRows[QueryName][]): QueryRows[Q][] {
  const rows = emitted as readonly QueryRows[Q][];
  const keyOf = UPSERT_KEY[query] as ((row: QueryRows[Q]) => string | number) | undefined;
  if (keyOf === undefined) return canonical(query, rows);
  const latest = new Map<string | number, QueryRows[Q]>();
  for (const r of rows) latest.set(keyOf(r), r);
  return canonical(query, [...latest.values()]);
}

export default defineJob(import.meta.url, (env, params: NexmarkJobParams) => {
  const build = QUERIES[params.query] as QueryBuilder<QueryName> | undefined;
  if (build === undefined) throw new ConfigError('nexmark.query', `is '${String(params.query)}'; known queries are ${QUERY_NAMES.join(', ')}`);
  const rows: DataStream<QueryRows[QueryName]> = build(queryInput(env, params));
  if (params.sink === 'timing') rows.sinkTo(timingSink(), { name: 'timing-sink' });
  else rows.sinkTo(nexmarkRows, { name: 'collect' });
});
