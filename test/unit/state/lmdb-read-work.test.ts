/**
 * Work per record of the LMDB backend's handles, counted (`readWork`: LMDB gets, entries read by
 * range scans, buffered entries replayed), not timed. Nexmark q5 on LMDB ran at 2k events/s because
 * MapState.isEmpty() merged and sorted the whole map of the current key on every record.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type LmdbKeyedStateBackend, keyGroupOf, listState, mapState, valueState } from '../../../state/index.ts';
import type { LmdbTimerService } from '../../../state/lmdb/lmdb-timers.ts';
import { type Fixture, MAX_PARALLELISM, at, makeFixture } from './helpers.ts';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const counts = mapState<number, number>('counts');

for (const flushEvery of [64, 100_000]) {
  it(`a window's map of counts costs a bounded number of reads per record, not the size of the map (batches of ${flushEvery})`, async () => {
    const b = (await fx.open('lmdb', { flushEvery })) as LmdbKeyedStateBackend;
    const m = b.getMapState(counts);
    const perWindow = 1500;
    let fired = 0;
    let records = 0;
    for (let window = 0; window < 3; window++) {
      at(b, window);
      for (let i = 0; i < perWindow; i++) {
        records++;
        const auction = i % 1000; // 1000 user keys, half of them updated twice
        if (m.isEmpty()) fired++;
        m.put(auction, (m.get(auction) ?? 0) + 1);
      }
      // the window fires: one pass over its entries, then the map is cleared
      let total = 0;
      for (const [, n] of m.entries()) total += n;
      expect(total).toBe(perWindow);
      m.clear();
      expect(m.isEmpty()).toBe(true);
    }
    expect(fired).toBe(3);
    // isEmpty + get per record (about 1 each) and one pass over each window's map when it fires
    expect(b.readWork / records).toBeLessThan(4);
  });
}

it('isEmpty sees deletes and clears buffered over LMDB entries', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 4 })) as LmdbKeyedStateBackend;
  const m = b.getMapState(counts);
  at(b, 'k');
  for (let i = 0; i < 10; i++) m.put(i, i);
  b.flush(); // all in LMDB
  for (let i = 0; i < 9; i++) m.remove(i);
  expect(m.isEmpty()).toBe(false);
  m.remove(9);
  expect(m.isEmpty()).toBe(true);
  m.put(3, 3);
  expect(m.isEmpty()).toBe(false);
  b.flush();
  m.clear();
  expect(m.isEmpty()).toBe(true);
  for (let i = 0; i < 6; i++) m.put(i, i); // across batches of 4, on top of the clear
  m.clear();
  m.put(1, 1);
  m.remove(1);
  expect(m.isEmpty()).toBe(true);
  b.flush();
  expect(m.isEmpty()).toBe(true);
  expect([...m.entries()]).toEqual([]);
});

it('a hot key of a map state reads LMDB once per user key between checkpoints, and writes nothing until one', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 64 })) as LmdbKeyedStateBackend;
  const m = b.getMapState(counts);
  at(b, 'hot');
  for (let i = 0; i < 5000; i++) m.put(i % 10, (m.get(i % 10) ?? 0) + 1);
  expect(b.readWork).toBeLessThanOrEqual(10); // at most the first get of each user key (a small map is loaded whole once)
  expect(b.batchesSent).toBe(0); // nothing sent to LMDB
  const restored = (await fx.open('lmdb', { restore: [await b.snapshot(1)] })) as LmdbKeyedStateBackend;
  at(restored, 'hot');
  expect([...restored.getMapState(counts).entries()]).toEqual(Array.from({ length: 10 }, (_, k) => [k, 500]));
});

it('a list state is appended to without reading it, and read from LMDB once per key between checkpoints', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 64 })) as LmdbKeyedStateBackend;
  const l = b.getListState(listState<number>('l'));
  for (let i = 0; i < 3000; i++) {
    at(b, i % 3);
    l.add(i);
  }
  expect(b.readWork).toBe(0);
  for (let k = 0; k < 3; k++) {
    at(b, k);
    for (let r = 0; r < 10; r++) expect(l.get()).toHaveLength(1000);
  }
  expect(b.readWork).toBe(0); // the first get scans an empty range: nothing was ever written below
  expect(b.batchesSent).toBe(0);
  const restored = (await fx.open('lmdb', { restore: [await b.snapshot(1)] })) as LmdbKeyedStateBackend;
  const rl = restored.getListState(listState<number>('l'));
  at(restored, 1);
  for (let r = 0; r < 10; r++) expect(rl.get()).toEqual(Array.from({ length: 1000 }, (_, i) => 3 * i + 1));
  expect(restored.readWork).toBe(1000); // one range scan, then the cache
});

it('a cache miss on a key never written back reads nothing from LMDB, on any kind of state; after a restore every miss reads', async () => {
  const b = (await fx.open('lmdb', { cacheEntries: 64, flushEvery: 16 })) as LmdbKeyedStateBackend;
  const v = b.getValueState(valueState<number>('v'));
  const m = b.getMapState(counts);
  const l = b.getListState(listState<number>('l'));
  const old = 500;
  // Far more keys than the cache holds: most are evicted, written back and in LMDB.
  for (let k = 0; k < old; k++) {
    at(b, k);
    v.update(k);
    m.put(1, k);
    l.add(k);
  }
  b.flush();
  expect(b.batchesSent).toBeGreaterThan(0);
  // New keys (a new window, a new auction): a miss each, answered without LMDB.
  const before = b.readWork;
  for (let k = old; k < old + 1000; k++) {
    at(b, k);
    expect(v.value()).toBeUndefined();
    expect(m.get(1)).toBeUndefined();
    expect(m.isEmpty()).toBe(true);
    expect(l.get()).toEqual([]);
  }
  // 3000 misses; a false "maybe" of the key filter reads (about 1 in 100 at its full capacity, far less here).
  expect(b.readWork - before).toBeLessThan(10);
  // Old keys are read from LMDB as before.
  const beforeOld = b.readWork;
  for (let k = 0; k < 100; k++) {
    at(b, k);
    expect(v.value()).toBe(k);
    expect(m.get(1)).toBe(k);
    expect(l.get()).toEqual([k]);
  }
  expect(b.readWork - beforeOld).toBeGreaterThanOrEqual(100);
  // A restore writes LMDB directly: the filter cannot know those keys, every miss reads.
  const restored = (await fx.open('lmdb', { cacheEntries: 64, restore: [await b.snapshot(1)] })) as LmdbKeyedStateBackend;
  const rv = restored.getValueState(valueState<number>('v'));
  const r0 = restored.readWork;
  for (let k = 0; k < old + 100; k++) {
    at(restored, k);
    expect(rv.value()).toBe(k < old ? k : undefined);
  }
  expect(restored.readWork - r0).toBe(old + 100);
});

it('a key never written back and cleared leaves no cache entry (as in the heap backend); one written back keeps its delete until written back', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 16 })) as LmdbKeyedStateBackend;
  const v = b.getValueState(valueState<number>('v'));
  const m = b.getMapState(counts);
  // Closed windows, expired auctions: written, read, cleared, never written back.
  const l = b.getListState(listState<number>('l'));
  for (let k = 0; k < 1000; k++) {
    at(b, k);
    v.update(k);
    m.put(k, k);
    l.add(k);
    expect(l.get()).toEqual([k]);
    l.clear();
    expect(l.get()).toEqual([]);
    expect(v.value()).toBe(k);
    v.clear();
    m.clear();
    expect(v.value()).toBeUndefined(); // and the read of a deleted key makes no entry either
    expect(m.isEmpty()).toBe(true);
  }
  expect(b.cachedEntries).toBe(0);
  const maps = b.cachedEntries;
  b.flush();
  expect(b.batchesSent).toBe(0); // clears of keys never written back write nothing
  // A key written back: its delete must reach LMDB, so it stays cached (dirty) until written back.
  at(b, 'kept');
  v.update(1);
  b.flush();
  v.clear();
  expect(b.cachedEntries).toBe(maps + 1);
  b.flush();
  at(b, 'kept');
  expect(v.value()).toBeUndefined();
  const snapshot = await b.snapshot(1);
  const restored = await fx.open('heap', { restore: [snapshot] });
  at(restored, 'kept');
  expect(restored.getValueState(valueState<number>('v')).value()).toBeUndefined();
  at(restored, 5);
  expect(restored.getValueState(valueState<number>('v')).value()).toBeUndefined();
});

it('timers registered, deleted and fired between checkpoints build no store id and write nothing; saved ones do', async () => {
  const b = (await fx.open('lmdb')) as LmdbKeyedStateBackend;
  const t = b.timers as LmdbTimerService;
  for (let i = 0; i < 3000; i++) {
    t.register('event', 1000 + (i % 50), i, keyGroupOf(i, MAX_PARALLELISM), i % 2 === 0 ? '' : 'w');
    t.register('event', 1000 + (i % 50), i, keyGroupOf(i, MAX_PARALLELISM), i % 2 === 0 ? '' : 'w'); // the same again: kept once
  }
  t.delete('event', 1000, 0, keyGroupOf(0, MAX_PARALLELISM), '');
  expect(t.size('event')).toBe(2999);
  expect(t.pollDue('event', 1024).length).toBe(1499);
  expect(t.storeIds).toBe(0);
  expect(b.batchesSent).toBe(0);
  // A snapshot saves the rest to the store: each needs its id then, and again when it fires.
  await b.snapshot(1);
  expect(t.storeIds).toBe(1500);
  expect(t.pollDue('event', 2000).length).toBe(1500);
  expect(t.storeIds).toBe(3000);
  expect(t.size('event')).toBe(0);
});

it("a tumbling window's map (get the pane, put it, fire and remove it) reads nothing below for keys never written back", async () => {
  const b = (await fx.open('lmdb')) as LmdbKeyedStateBackend;
  const m = b.getMapState(counts);
  const keys = 500;
  for (let window = 0; window < 4; window++) {
    for (let r = 0; r < 3; r++) {
      for (let k = 0; k < keys; k++) {
        at(b, k);
        // the first record of a window's pane finds no accumulator; the window operator writes it at the batch's end
        m.put(window, (m.get(window) ?? 0) + 1);
      }
    }
    for (let k = 0; k < keys; k++) {
      at(b, k);
      expect(m.get(window)).toBe(3);
      m.remove(window);
    }
  }
  // Before, the map a put cached for a new key knew nothing, so each window's first get of its pane read LMDB.
  expect(b.readWork).toBe(0);
  expect(b.batchesSent).toBe(0);
});
