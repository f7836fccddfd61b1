/** The LMDB backend's cache of single-value states: eviction, snapshots with dirty entries, TTL, restore. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type KeyedStateBackend, type LmdbKeyedStateBackend, aggregatingState, listState, mapState, reducingState, valueState } from '../../../state/index.ts';
import { type Fixture, at, makeFixture } from './helpers.ts';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const v = valueState<{ n: number }>('v');
const sum = reducingState<number>('sum', (a, b) => a + b);
const avg = aggregatingState<number, [number, number], number>('avg', {
  createAccumulator: () => [0, 0],
  add: (x, acc) => [acc[0] + x, acc[1] + 1],
  getResult: (acc) => acc[0] / acc[1],
});

function values(b: KeyedStateBackend, keys: number): unknown[] {
  const s = b.getValueState(v);
  return Array.from({ length: keys }, (_, k) => {
    at(b, k);
    return s.value();
  });
}

it('evicted dirty entries are written back and read again from LMDB', async () => {
  const b = await fx.open('lmdb', { cacheEntries: 16 });
  const s = b.getValueState(v);
  const r = b.getReducingState(sum);
  const a = b.getAggregatingState(avg);
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < 500; k++) {
      at(b, k);
      s.update({ n: k + round });
      r.add(k);
      a.add(round);
      if (k % 7 === 0) s.clear();
    }
  }
  for (let k = 0; k < 500; k++) {
    at(b, k);
    expect(s.value()).toEqual(k % 7 === 0 ? undefined : { n: k + 2 });
    expect(r.get()).toBe(3 * k);
    expect(a.get()).toBe(1);
  }
  expect((b as unknown as { cache: { size: number } }).cache.size).toBeLessThanOrEqual(16);
  (b as LmdbKeyedStateBackend).flush();
  expect([...b.keys('v')]).toHaveLength(500 - Math.ceil(500 / 7));
});

for (const cacheEntries of [8, 100_000]) {
  it(`a snapshot is the state at the call, with dirty entries in the cache (cache of ${cacheEntries})`, async () => {
    const b = await fx.open('lmdb', { cacheEntries });
    const s = b.getValueState(v);
    for (let k = 0; k < 200; k++) {
      at(b, k);
      s.update({ n: k });
    }
    const expected = structuredClone(values(b, 200)); // the cache hands out its objects, mutated below
    const pending = b.snapshot(1);
    for (let k = 0; k < 200; k++) {
      at(b, k);
      const cur = s.value()!;
      cur.n = -1; // mutated in place and written back: must not reach the snapshot
      s.update(cur);
      if (k % 3 === 0) s.clear();
    }
    const restored = await fx.open('lmdb', { restore: [await pending], cacheEntries: 8 });
    expect(values(restored, 200)).toEqual(expected);
    const heap = await fx.open('heap', { restore: [await pending] });
    expect(values(heap, 200)).toEqual(expected);
    // and the next snapshot has the writes made after the first
    const restored2 = await fx.open('lmdb', { restore: [await b.snapshot(2)] });
    expect(values(restored2, 200)).toEqual(values(b, 200));
  });
}

it('TTL through the cache: expiry, refresh on read, and expiry of evicted entries', async () => {
  const b = await fx.open('lmdb', { cacheEntries: 4 });
  const ttlWrite = b.getValueState(valueState<number>('w', { ttl: { ttlMs: 100 } }));
  const ttlRead = b.getValueState(valueState<number>('r', { ttl: { ttlMs: 100, update: 'on-read-and-write' } }));
  at(b, 'hot');
  ttlWrite.update(1);
  ttlRead.update(2);
  for (let k = 0; k < 20; k++) {
    at(b, k);
    ttlWrite.update(k); // evicts 'hot' (the cache holds 4)
  }
  fx.clock.advance(60);
  at(b, 'hot');
  expect(ttlWrite.value()).toBe(1);
  expect(ttlRead.value()).toBe(2); // restarts its clock
  fx.clock.advance(60);
  expect(ttlWrite.value()).toBeUndefined();
  expect(ttlRead.value()).toBe(2);
  for (let k = 0; k < 20; k++) {
    at(b, k);
    expect(ttlWrite.value()).toBeUndefined();
  }
  fx.clock.advance(200);
  at(b, 'hot');
  expect(ttlRead.value()).toBeUndefined();
  const restored = await fx.open('lmdb', { restore: [await b.snapshot(1)] });
  expect([...restored.keys('w')]).toEqual([]);
  expect([...restored.keys('r')]).toEqual([]);
});

it('a restored backend serves restored values through its cache and keeps writing', async () => {
  const b = await fx.open('lmdb');
  const s = b.getValueState(v);
  for (let k = 0; k < 300; k++) {
    at(b, k);
    s.update({ n: k });
  }
  const handle = await b.snapshot(1);
  for (const cacheEntries of [8, 1000]) {
    const r = await fx.open('lmdb', { restore: [handle], cacheEntries });
    const rs = r.getValueState(v);
    for (let k = 0; k < 300; k++) {
      at(r, k);
      rs.update({ n: rs.value()!.n * 2 });
    }
    expect(values(r, 300)).toEqual(Array.from({ length: 300 }, (_, k) => ({ n: 2 * k })));
    await r.dispose();
  }
});

it('while the cache is the whole state nothing is written back; once LMDB holds state, at most 2 x flushEvery entries stay dirty', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 10, cacheEntries: 10_000 })) as LmdbKeyedStateBackend;
  const cache = (b as unknown as { cache: { size: number; dirtyCount: number } }).cache;
  const s = b.getValueState(v);
  for (let k = 0; k < 1000; k++) {
    at(b, k);
    s.update({ n: -k - 1 });
  }
  // A memtable: every key dirty in the cache, nothing sent to LMDB.
  expect(cache.dirtyCount).toBe(1000);
  expect(b.batchesSent).toBe(0);
  // The first snapshot comes from the cache; more entries than may stay dirty: LMDB gets its bytes.
  const first = await b.snapshot(1);
  await b.snapshotWriteBackDone();
  expect(b.cacheSnapshots).toBe(1);
  expect(cache.dirtyCount).toBe(0);
  expect(b.pointWriteBacks).toEqual({ direct: 1000, layered: 0 });
  expect(b.batchesSent).toBeGreaterThan(0);
  let maxDirty = 0;
  for (let round = 0; round < 2; round++) {
    for (let k = 0; k < 1000; k++) {
      at(b, k);
      s.update({ n: k * round });
      maxDirty = Math.max(maxDirty, cache.dirtyCount);
    }
  }
  // LMDB's now: the oldest are written back while the cache keeps them, and snapshots go through the writer thread.
  expect(maxDirty).toBeLessThanOrEqual(20);
  expect(cache.size).toBe(1000);
  const second = await b.snapshot(2);
  expect(b.cacheSnapshots).toBe(1);
  expect(values(await fx.open('lmdb', { restore: [first] }), 1000)).toEqual(Array.from({ length: 1000 }, (_, k) => ({ n: -k - 1 })));
  expect(values(await fx.open('lmdb', { restore: [second] }), 1000)).toEqual(Array.from({ length: 1000 }, (_, k) => ({ n: k })));
});

it('a value changed, deleted or evicted while the first snapshot is written keeps its newest value; LMDB gets only unchanged ones from its bytes', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 10, cacheEntries: 10_000 })) as LmdbKeyedStateBackend;
  const s = b.getValueState(v);
  const n = 3000;
  for (let k = 0; k < n; k++) {
    at(b, k);
    s.update({ n: k });
  }
  const pending = b.snapshot(1);
  // After the barrier, before the bytes are written back: a third changed, a third deleted.
  for (let k = 0; k < n; k += 3) {
    at(b, k);
    s.update({ n: -k - 1 });
    at(b, k + 1);
    s.clear();
  }
  const first = await pending;
  await b.snapshotWriteBackDone();
  expect(values(await fx.open('heap', { restore: [first] }), n)).toEqual(Array.from({ length: n }, (_, k) => ({ n: k })));
  expect(b.pointWriteBacks.direct).toBe(n / 3); // the unchanged third, from the snapshot's bytes
  const now = Array.from({ length: n }, (_, k) => (k % 3 === 0 ? { n: -k - 1 } : k % 3 === 1 ? undefined : { n: k }));
  expect(values(b, n)).toEqual(now);
  // Every write reaches LMDB in order: the state read back through the writer thread's snapshot and LMDB alone.
  const second = await b.snapshot(2);
  expect(b.cacheSnapshots).toBe(1);
  expect(values(await fx.open('lmdb', { restore: [second] }), n)).toEqual(now);
});

it('a state entirely in the cache is snapshotted from the cache; once LMDB holds state, through the writer thread', async () => {
  const b = (await fx.open('lmdb')) as LmdbKeyedStateBackend;
  const s = b.getValueState(v);
  const r = b.getReducingState(sum);
  const ttl = b.getValueState(valueState<number>('ttl', { ttl: { ttlMs: 100 } }));
  for (let k = 0; k < 300; k++) {
    at(b, k);
    s.update({ n: k });
    r.add(k);
    if (k < 10) ttl.update(k);
    if (k % 5 === 0) s.clear();
  }
  at(b, 'late');
  fx.clock.advance(50);
  ttl.update(-1);
  fx.clock.advance(60); // the first 10 expired, 'late' not
  const expected = structuredClone(values(b, 300));
  const pending = b.snapshot(1);
  // Numbers are kept as they are at the barrier and encoded later: these writes must not reach the file.
  for (let k = 0; k < 300; k++) {
    at(b, k);
    s.update({ n: -k - 1 });
    r.add(1000);
    if (k < 10) ttl.update(k);
  }
  at(b, 'late');
  ttl.update(-2);
  const handle = await pending;
  expect(b.cacheSnapshots).toBe(1);
  for (const kind of ['lmdb', 'heap'] as const) {
    const restored = await fx.open(kind, { restore: [handle] });
    expect(values(restored, 300)).toEqual(expected);
    const rr = restored.getReducingState(sum);
    const rt = restored.getValueState(valueState<number>('ttl', { ttl: { ttlMs: 100 } }));
    for (let k = 0; k < 300; k++) {
      at(restored, k);
      expect(rr.get()).toBe(k);
      expect(rt.value()).toBeUndefined();
    }
    at(restored, 'late');
    expect(rt.value()).toBe(-1);
  }
  // A list write makes LMDB hold state: the next snapshot goes through the writer thread.
  at(b, 1);
  b.getListState(listState<number>('l')).add(1);
  const second = await b.snapshot(2);
  expect(b.cacheSnapshots).toBe(1);
  const restored2 = await fx.open('lmdb', { restore: [second] });
  expect(values(restored2, 300)).toEqual(values(b, 300));
  at(restored2, 1);
  expect(restored2.getListState(listState<number>('l')).get()).toEqual([1]);
});

it('maps are snapshotted from the cache with the single values, as they were at the barrier, and LMDB holds them after', async () => {
  const b = (await fx.open('lmdb', { flushEvery: 10, cacheEntries: 100_000 })) as LmdbKeyedStateBackend;
  const s = b.getValueState(v);
  const m = b.getMapState(mapState<string, { at: number }>('m'));
  const t = b.getMapState(mapState<number, number>('t', { ttl: { ttlMs: 100 } }));
  const n = 500;
  for (let k = 0; k < n; k++) {
    at(b, k);
    s.update({ n: k });
    for (let j = 0; j < 3; j++) m.put(`u${j}`, { at: k * 10 + j });
    if (k % 4 === 0) m.remove('u1');
    if (k % 7 === 0) m.clear();
    t.put(k, k);
  }
  fx.clock.advance(50);
  at(b, 0);
  t.put(-1, -1); // the only TTL entry alive after the clock moves on
  fx.clock.advance(60);
  const read = (r: KeyedStateBackend) => {
    const rs = r.getValueState(v);
    const rm = r.getMapState(mapState<string, { at: number }>('m'));
    const rt = r.getMapState(mapState<number, number>('t', { ttl: { ttlMs: 100 } }));
    return Array.from({ length: n }, (_, k) => {
      at(r, k);
      return [rs.value(), [...rm.entries()], [...rt.entries()]];
    });
  };
  const expected = structuredClone(read(b));
  expect(expected[0]).toEqual([{ n: 0 }, [], [[-1, -1]]]);
  expect(expected[1]).toEqual([{ n: 1 }, [['u0', { at: 10 }], ['u1', { at: 11 }], ['u2', { at: 12 }]], []]);
  const pending = b.snapshot(1);
  // After the barrier: not in the snapshot.
  for (let k = 0; k < n; k++) {
    at(b, k);
    m.put('u0', { at: -1 });
    m.remove('u2');
    if (k % 2 === 0) s.update({ n: -1 });
  }
  const handle = await pending;
  await b.snapshotWriteBackDone();
  expect(b.cacheSnapshots).toBe(1);
  for (const kind of ['heap', 'lmdb'] as const) expect(read(await fx.open(kind, { restore: [handle] }))).toEqual(expected);
  // More entries than may stay dirty: the unchanged single values went to LMDB from the snapshot's
  // bytes; the rest stay dirty and go with the next snapshot, now through the writer thread.
  expect(b.pointWriteBacks.direct).toBe(n / 2);
  expect(b.batchesSent).toBeGreaterThan(0);
  const now = structuredClone(read(b));
  const second = await b.snapshot(2);
  expect(b.cacheSnapshots).toBe(1);
  for (const kind of ['heap', 'lmdb'] as const) expect(read(await fx.open(kind, { restore: [second] }))).toEqual(now);
});

it('an entry keeps its key group and state through eviction, write-back and snapshots, up to max parallelism 32768 and with many states', async () => {
  const maxParallelism = 32_768;
  const b = await fx.open('lmdb', { cacheEntries: 64, maxParallelism, flushEvery: 32 });
  const states = Array.from({ length: 3 }, (_, i) => valueState<number>(`s${i}`));
  const keys = Array.from({ length: 2000 }, (_, k) => k * 7919);
  // Key groups across the whole range: an entry packs its key group into 15 bits.
  expect(Math.max(...keys.map((k) => (at(b, k), b.currentKeyGroup())))).toBeGreaterThan(32_000);
  for (const k of keys) {
    at(b, k);
    states.forEach((d, i) => b.getValueState(d).update(k + i));
  }
  const read = (x: KeyedStateBackend): number[][] =>
    keys.map((k) => {
      at(x, k);
      return states.map((d) => x.getValueState(d).value()!);
    });
  const expected = keys.map((k) => [k, k + 1, k + 2]);
  expect(read(b)).toEqual(expected); // through LMDB: the cache holds 64 of 6000
  const handle = await b.snapshot(1);
  for (const kind of ['lmdb', 'heap'] as const) expect(read(await fx.open(kind, { maxParallelism, restore: [handle] }))).toEqual(expected);
  // The same state all in a cache is snapshotted from the cache (cache-snapshot.ts), which groups entries by their packed key group.
  const whole = await fx.open('lmdb', { maxParallelism });
  for (const k of keys) {
    at(whole, k);
    states.forEach((d, i) => whole.getValueState(d).update(k + i));
  }
  const fromCache = await whole.snapshot(2);
  expect(read(await fx.open('heap', { maxParallelism, restore: [fromCache] }))).toEqual(expected);
  // A restore into half the key groups finds exactly the keys of that half.
  const half = await fx.open('lmdb', { maxParallelism, start: 16_384, end: 32_767, restore: [handle] });
  const mine = keys.filter((k) => (at(half, k), half.currentKeyGroup() >= 16_384));
  expect([...half.keys('s2')].map(([k]) => k).sort((x, y) => (x as number) - (y as number))).toEqual(mine);
});

it('a backend refuses a 4097th state with a message saying what to do', async () => {
  const b = await fx.open('lmdb');
  for (let i = 0; i < 4096; i++) b.getValueState(valueState<number>(`s${i}`));
  expect(() => b.getValueState(valueState<number>('one-too-many'))).toThrow(/more than 4096 states in one operator: keep fewer state descriptors/);
});

it('a cached map or list weighs 1 + its elements against the capacity, a value 1, and the cache stays within it', async () => {
  const b = (await fx.open('lmdb', { cacheEntries: 1000 })) as LmdbKeyedStateBackend;
  const m = b.getMapState(mapState<number, number>('m'));
  const l = b.getListState(listState<number>('l'));
  const s = b.getValueState(valueState<number>('s'));
  at(b, 1);
  for (let i = 0; i < 10; i++) m.put(i, i);
  for (let i = 0; i < 5; i++) l.add(i);
  s.update(7);
  expect(b.cachedEntries).toBe(11 + 6 + 1);
  m.remove(3);
  l.update([1]);
  expect(b.cachedEntries).toBe(10 + 2 + 1);
  // Keys whose maps hold 100 user keys each: the cache evicts by weight, not by entry count.
  for (let k = 2; k < 50; k++) {
    at(b, k);
    for (let i = 0; i < 100; i++) m.put(i, k);
  }
  expect(b.cachedEntries).toBeLessThanOrEqual(1000);
  for (let k = 2; k < 50; k++) {
    at(b, k);
    expect([...m.entries()].map(([, v]) => v)).toEqual(Array.from({ length: 100 }, () => k));
  }
  at(b, 1);
  expect(l.get()).toEqual([1]);
  expect(s.value()).toBe(7);
});
