/**
 * The LMDB backend against the heap backend as a reference, under random operations on a few keys
 * with tiny write batches (so reads go through several batches in flight and LMDB at once), with
 * snapshots taken mid-stream and restored.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type KeyedStateBackend, listState, mapState, valueState } from '../../../state/index.ts';
import { type Fixture, at, makeFixture } from './helpers.ts';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const v = valueState<number>('v');
const l = listState<number>('l');
const m = mapState<number, number>('m');

function view(b: KeyedStateBackend, key: number): unknown {
  at(b, key);
  const ms = b.getMapState(m);
  // get and isEmpty before entries: the LMDB cache answers them before it knows the whole map
  const probe = { m3: ms.get(3), has5: ms.contains(5), empty: ms.isEmpty() };
  return { v: b.getValueState(v).value(), l: b.getListState(l).get(), ...probe, m: [...ms.entries()], keys: [...ms.keys()] };
}

function step(b: KeyedStateBackend, op: number, key: number, x: number): void {
  at(b, key);
  switch (op) {
    case 0: return b.getValueState(v).update(x);
    case 1: return b.getValueState(v).clear();
    case 2: return b.getListState(l).add(x);
    case 3: return b.getListState(l).clear();
    case 4: return b.getListState(l).update([x, x + 1]);
    case 5: return b.getMapState(m).put(x % 7, x);
    case 6: return b.getMapState(m).remove(x % 7);
    case 7: return b.getMapState(m).clear();
  }
}

for (const [flushEvery, cacheEntries] of [[1, undefined], [3, undefined], [50, undefined], [1, 2], [3, 5], [7, 20]] as const) {
  it(`matches the heap backend under random operations (batches of ${flushEvery}, cache ${cacheEntries ?? 'default'})`, async () => {
    const random = rng(42 + flushEvery + (cacheEntries ?? 0));
    const lmdb = await fx.open('lmdb', { flushEvery, ...(cacheEntries ? { cacheEntries } : {}) });
    const heap = await fx.open('heap');
    const keys = 12;
    let checkpoint = 0;
    for (let i = 0; i < 3000; i++) {
      const op = Math.floor(random() * 9);
      const key = Math.floor(random() * keys);
      const x = Math.floor(random() * 1000);
      if (op === 8) {
        expect(view(lmdb, key)).toEqual(view(heap, key));
      } else {
        step(lmdb, op, key, x);
        step(heap, op, key, x);
      }
      if (i % 1000 === 999) {
        checkpoint++;
        const pending = lmdb.snapshot(checkpoint);
        const expected = Array.from({ length: keys }, (_, k) => view(heap, k));
        for (let j = 0; j < 20; j++) step(lmdb, Math.floor(random() * 8), Math.floor(random() * keys), j);
        const restored = await fx.open('lmdb', { restore: [await pending] });
        expect(Array.from({ length: keys }, (_, k) => view(restored, k))).toEqual(expected);
        await restored.dispose();
        // Bring the reference back in line with the writes made while the snapshot was written.
        for (let k = 0; k < keys; k++) {
          at(heap, k);
          at(lmdb, k);
          heap.getValueState(v).clear();
          heap.getListState(l).clear();
          heap.getMapState(m).clear();
          const s = view(lmdb, k) as { v: number | undefined; l: number[]; m: [number, number][] };
          at(heap, k);
          if (s.v !== undefined) heap.getValueState(v).update(s.v);
          heap.getListState(l).update(s.l);
          for (const [uk, uv] of s.m) heap.getMapState(m).put(uk, uv);
        }
      }
    }
    for (let k = 0; k < keys; k++) expect(view(lmdb, k)).toEqual(view(heap, k));
  });
}

it('timers match the heap backend: registered, deleted and fired between and across snapshots (most never reach LMDB)', async () => {
  const random = rng(7);
  const lmdb = await fx.open('lmdb', { flushEvery: 5 });
  const heap = await fx.open('heap');
  let lm = lmdb;
  // in time order; the order of timers of one time is not specified
  const fire = (b: KeyedStateBackend, upTo: number): string[] => b.timers.pollDue('event', upTo).map((t) => `${String(t.time).padStart(8)}:${String(t.key)}:${t.namespace}`).sort();
  let wm = 0;
  for (let i = 0; i < 6000; i++) {
    const op = Math.floor(random() * 10);
    const key = Math.floor(random() * 20);
    const time = wm + Math.floor(random() * 200);
    const kg = (at(heap, key), heap.currentKeyGroup());
    if (op < 6) {
      heap.timers.register('event', time, key, kg, op % 2 === 0 ? 'a' : 'b');
      lm.timers.register('event', time, key, kg, op % 2 === 0 ? 'a' : 'b');
    } else if (op < 8) {
      heap.timers.delete('event', time, key, kg, 'a');
      lm.timers.delete('event', time, key, kg, 'a');
    } else {
      wm += Math.floor(random() * 30);
      expect(fire(lm, wm)).toEqual(fire(heap, wm));
      expect(lm.timers.size('event')).toBe(heap.timers.size('event'));
    }
    if (i % 1500 === 1499) lm = await fx.open('lmdb', { restore: [await lm.snapshot(i)], flushEvery: 5 });
  }
  expect(fire(lm, Infinity)).toEqual(fire(heap, Infinity));
});
