/**
 * What a heap snapshot encodes at its barrier (synchronously, processing stopped), counted: values,
 * lists and maps whose serializer copies values in and out are kept by reference (a list or map as
 * a copy of its container) and encoded after the barrier; what the operator may change in place
 * (accumulators, values of a serializer that shares them) is encoded at the barrier.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { aggregatingState, type HeapKeyedStateBackend, listState, mapState, type StateSerializer, valueState } from '../../../state/index.ts';
import { type Fixture, at, makeFixture } from './helpers.ts';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

it('lists, maps and values of copying serializers are not encoded at the barrier; accumulators and shared values are', async () => {
  const b = (await fx.open('heap')) as HeapKeyedStateBackend;
  const owned: StateSerializer<{ n: number }> = { copy: (v) => v, check: () => {} };
  const sum = aggregatingState<number, { n: number }, number>('sum', { createAccumulator: () => ({ n: 0 }), add: (v, acc) => ({ n: acc.n + v }), getResult: (acc) => acc.n });
  const keys = 200;
  for (let k = 0; k < keys; k++) {
    at(b, k);
    for (let j = 0; j < 5; j++) {
      b.getListState(listState<{ j: number }>('list')).add({ j });
      b.getMapState(mapState<number, { j: number }>('map')).put(j, { j });
    }
    b.getValueState(valueState<{ k: number }>('value')).update({ k });
    b.getAggregatingState(sum).add(k);
    b.getValueState(valueState<{ n: number }>('owned', { serializer: owned })).update({ n: k });
  }
  const handle = await b.snapshot(1);
  // Before, the 1000 list elements and 1000 map entries were encoded at the barrier too.
  expect(b.encodedAtBarriers).toBe(2 * keys);
  expect(handle.keyGroups.reduce((n, g) => n + g.entries, 0)).toBe(keys * (5 + 5 + 3));
  const r = await fx.open('lmdb', { restore: [handle] });
  at(r, 7);
  expect(r.getListState(listState<{ j: number }>('list')).get()).toEqual([0, 1, 2, 3, 4].map((j) => ({ j })));
  expect([...r.getMapState(mapState<number, { j: number }>('map')).entries()]).toEqual([0, 1, 2, 3, 4].map((j) => [j, { j }]));
  expect(r.getAggregatingState(sum).get()).toBe(7);
});
