/** The LMDB backend's background TTL sweep deletes expired entries that are never read again. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type LmdbKeyedStateBackend, listState, mapState, valueState } from '../../../state/index.ts';
import { type Fixture, at, makeFixture } from './helpers.ts';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

it('expired entries are swept out of LMDB, buffered newer writes are kept', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 50 })) as LmdbKeyedStateBackend;
  const ttl = { ttlMs: 100 };
  const v = b.getValueState<number>(valueState('v', { ttl }));
  const l = b.getListState<number>(listState('l', { ttl }));
  const m = b.getMapState<string, number>(mapState('m', { ttl }));
  for (let i = 0; i < 300; i++) {
    at(b, i);
    v.update(i);
    l.addAll([i, i]);
    m.put('a', i);
  }
  b.flush();
  fx.clock.advance(150);
  at(b, 7);
  v.update(7); // newer than the expired entry, buffered: must survive the sweep
  expect(b.sweepExpired(1_000_000)).toBe(299 + 600 + 300);
  b.flush();
  expect(b.sweepExpired(1_000_000)).toBe(0);
  expect([...b.keys('v')].map(([k]) => k)).toEqual([7]);
  expect([...b.keys('l')]).toEqual([]);
  at(b, 7);
  expect(v.value()).toBe(7);
});

it('the sweep goes on a little with every batch', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 10 })) as LmdbKeyedStateBackend;
  const v = b.getValueState<number>(valueState('v', { ttl: { ttlMs: 100 } }));
  const other = b.getValueState<number>(valueState('other'));
  for (let i = 0; i < 5000; i++) {
    at(b, i);
    v.update(i);
  }
  b.flush();
  fx.clock.advance(150);
  for (let i = 0; i < 200; i++) {
    at(b, `o${i}`);
    other.update(i); // 20 batches, each sweeping up to 2048 entries
  }
  b.flush();
  expect(b.sweepExpired(1_000_000)).toBe(0);
});
