/**
 * Every Nexmark query as a Weir job, at parallelism 1 and 2 (heap state; LMDB too at 2), against the brute-force reference on
 * the same generated events (canonical order; updating results as their final state).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { generate } from '../../../jobs/nexmark/generator/index.ts';
import type { Event } from '../../../jobs/nexmark/model.ts';
import { QUERY_NAMES, type QueryName } from '../../../jobs/nexmark/queries.ts';
import { REFERENCE } from '../../../jobs/nexmark/reference/index.ts';
import job, { finalRows, nexmarkRows } from '../../../jobs/nexmark/queries/index.ts';

const EVENTS = 30_000;
let events: Event[] = [];
const expected = new Map<QueryName, unknown[]>();

beforeAll(() => {
  events = [...generate({}, 0, EVENTS)];
});

afterAll(() => {
  events = [];
});

function reference(q: QueryName): unknown[] {
  let rows = expected.get(q);
  if (rows === undefined) expected.set(q, (rows = REFERENCE[q](events) as unknown[]));
  return rows;
}

describe.each([
  [1, 'heap'],
  [2, 'heap'],
  [2, 'lmdb'],
] as const)('Nexmark at parallelism %i, %s state', (parallelism, stateBackend) => {
  it.each(QUERY_NAMES.map((q) => [q]))('%s matches the reference', async (query) => {
    const result = await new MiniCluster({ workers: parallelism, stateBackend }).execute(job, { params: { query, events: EVENTS }, parallelism });
    const rows = finalRows(query, result.get(nexmarkRows));
    const want = reference(query);
    expect(want.length).toBeGreaterThan(0);
    expect(rows.length).toBe(want.length);
    expect(rows).toEqual(want);
  });
});
