/** Snapshots of both backends, restored into fresh backends at the same and at other parallelisms. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  aggregatingState,
  type KeyedStateBackend,
  type KeyedStateHandle,
  keyGroupRangeFor,
  listState,
  mapState,
  reducingState,
  type StateSerializer,
  valueState,
} from '../../../state/index.ts';
import { BACKENDS, type BackendKind, type Fixture, MAX_PARALLELISM, at, makeFixture } from './helpers.ts';

const value = valueState<{ n: number; s: string }>('value');
const list = listState<number>('list');
const map = mapState<string, number>('map');
const sum = reducingState<number>('sum', (a, b) => a + b);

function fill(b: KeyedStateBackend, keys: readonly string[]): void {
  const v = b.getValueState(value);
  const l = b.getListState(list);
  const m = b.getMapState(map);
  const r = b.getReducingState(sum);
  for (const k of keys) {
    at(b, k);
    v.update({ n: k.length, s: k });
    l.addAll([1, 2, 3]);
    m.put('x', 1);
    m.put('y', 2);
    r.add(5);
    b.timers.register('event', 1000 + k.length, k, b.currentKeyGroup(), 'ns');
  }
}

/** The state of `key` as seen through every handle, or undefined if it has none. */
function read(b: KeyedStateBackend, key: string): unknown {
  at(b, key);
  const v = b.getValueState(value).value();
  if (v === undefined) return undefined;
  return { v, l: b.getListState(list).get(), m: [...b.getMapState(map).entries()], r: b.getReducingState(sum).get() };
}

function expected(key: string): unknown {
  return { v: { n: key.length, s: key }, l: [1, 2, 3], m: [['x', 1], ['y', 2]], r: 5 };
}

const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);

describe('snapshot and restore', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  for (const from of BACKENDS) {
    for (const to of BACKENDS) {
      it(`${from} snapshot restores into a fresh ${to} backend, timers included`, async () => {
        const a = await fx.open(from, { flushEvery: 100 });
        fill(a, keys);
        const handle = await a.snapshot(1);
        expect(JSON.parse(JSON.stringify(handle))).toEqual(handle);
        const b = await fx.open(to, { restore: [handle] });
        for (const k of keys) expect(read(b, k)).toEqual(expected(k));
        expect(b.timers.size('event')).toBe(keys.length);
        const fired = b.timers.pollDue('event', Infinity);
        expect(fired.map((t) => t.key).sort()).toEqual([...keys].sort());
        // Restored list state keeps appending after the restored elements.
        at(b, keys[0]!);
        b.getListState(list).add(4);
        expect(b.getListState(list).get()).toEqual([1, 2, 3, 4]);
      });
    }

    it(`${from}: writes after snapshot() returns are not in the snapshot`, async () => {
      const a = await fx.open(from, { flushEvery: 7 });
      fill(a, keys.slice(0, 100));
      const pending = a.snapshot(2);
      // Processing continues while the snapshot is written.
      const v = a.getValueState(value);
      for (const k of keys.slice(0, 100)) {
        at(a, k);
        v.update({ n: -1, s: 'changed' });
      }
      fill(a, keys.slice(100, 200));
      at(a, keys[0]!);
      a.getListState(list).clear();
      const handle = await pending;
      const b = await fx.open(from, { restore: [handle] });
      for (const k of keys.slice(0, 100)) expect(read(b, k)).toEqual(expected(k));
      for (const k of keys.slice(100, 200)) expect(read(b, k)).toBeUndefined();
      expect(b.timers.size('event')).toBe(100);
    });

    it(`${from}: values changed in place after snapshot() returns are not in the snapshot (accumulators, maps, lists, shared serializers)`, async () => {
      const a = await fx.open(from, { flushEvery: 7 });
      // An aggregate that changes its accumulator in place, and a serializer that shares values with the operator.
      const agg = aggregatingState<number, { n: number }, number>('agg', {
        createAccumulator: () => ({ n: 0 }),
        add: (v, acc) => {
          acc.n += v;
          return acc;
        },
        getResult: (acc) => acc.n,
      });
      const owned: StateSerializer<{ n: number }> = { copy: (v) => v, check: () => {} };
      const sharedValue = valueState<{ n: number }>('owned', { serializer: owned });
      const ks = keys.slice(0, 50);
      const held = new Map<string, { n: number }>();
      for (const k of ks) {
        at(a, k);
        a.getAggregatingState(agg).add(1);
        const o = { n: 1 };
        held.set(k, o);
        a.getValueState(sharedValue).update(o);
        a.getMapState(map).put('x', 1);
        a.getListState(list).add(1);
        a.getValueState(value).update({ n: 1, s: k });
      }
      const pending = a.snapshot(3);
      for (const k of ks) {
        at(a, k);
        a.getAggregatingState(agg).add(10);
        held.get(k)!.n = 99;
        a.getMapState(map).put('x', 2);
        a.getMapState(map).put('y', 3);
        a.getListState(list).add(2);
        a.getValueState(value).update({ n: 2, s: k });
      }
      const b = await fx.open(from, { restore: [await pending] });
      for (const k of ks) {
        at(b, k);
        expect(b.getAggregatingState(agg).get()).toBe(1);
        expect(b.getValueState(sharedValue).value()).toEqual({ n: 1 });
        expect([...b.getMapState(map).entries()]).toEqual([['x', 1]]);
        expect(b.getListState(list).get()).toEqual([1]);
        expect(b.getValueState(value).value()).toEqual({ n: 1, s: k });
      }
    });

    it(`${from}: expired TTL entries are left out of snapshots`, async () => {
      const a = await fx.open(from);
      const s = a.getValueState(valueState<number>('ttl', { ttl: { ttlMs: 50 } }));
      at(a, 'old');
      s.update(1);
      fx.clock.advance(40);
      at(a, 'young');
      s.update(2);
      fx.clock.advance(20);
      const handle = await a.snapshot(3);
      const b = await fx.open(from, { restore: [handle] });
      expect([...b.keys('ttl')].map(([k]) => k)).toEqual(['young']);
      expect(handle.keyGroups.reduce((n, g) => n + g.entries, 0)).toBe(1);
    });

    for (const to of BACKENDS) {
      it(`${from} -> ${to}: value, list and map states keep their TTL through a restore, and states without one never expire`, async () => {
        const ttl = { ttlMs: 100 };
        const a = await fx.open(from);
        at(a, 'k');
        a.getValueState(valueState<number>('tv', { ttl })).update(1);
        a.getListState(listState<number>('tl', { ttl })).add(1);
        a.getValueState(valueState<number>('plain')).update(7);
        a.getListState(listState<number>('plain-list')).add(7);
        fx.clock.advance(40);
        a.getListState(listState<number>('tl', { ttl })).add(2); // the list lives as long as its latest element
        a.getMapState(mapState<string, number>('tm', { ttl })).put('x', 3);
        const b = await fx.open(to, { restore: [await a.snapshot(4)] });
        const look = (): unknown => {
          at(b, 'k');
          return {
            tv: b.getValueState(valueState<number>('tv', { ttl })).value(),
            tl: b.getListState(listState<number>('tl', { ttl })).get(),
            tm: [...b.getMapState(mapState<string, number>('tm', { ttl })).entries()],
            plain: b.getValueState(valueState<number>('plain')).value(),
            plainList: b.getListState(listState<number>('plain-list')).get(),
          };
        };
        fx.clock.advance(50); // 90 after the first writes, 50 after the last
        expect(look()).toEqual({ tv: 1, tl: [1, 2], tm: [['x', 3]], plain: 7, plainList: [7] });
        fx.clock.advance(20); // the value is 110 old; list and map 70
        expect(look()).toMatchObject({ tv: undefined, tm: [['x', 3]], plain: 7, plainList: [7] });
        fx.clock.advance(1_000_000);
        expect(look()).toEqual({ tv: undefined, tl: [], tm: [], plain: 7, plainList: [7] });
      });
    }
  }

  async function snapshotAtParallelism(kind: BackendKind, parallelism: number, checkpointId: number): Promise<KeyedStateHandle[]> {
    const handles: KeyedStateHandle[] = [];
    for (let i = 0; i < parallelism; i++) {
      const r = keyGroupRangeFor(i, parallelism, MAX_PARALLELISM);
      const b = await fx.open(kind, { start: r.start, end: r.end, subtask: i, flushEvery: 64 });
      const mine = keys.filter((k) => {
        at(b, k);
        return b.currentKeyGroup() >= r.start && b.currentKeyGroup() <= r.end;
      });
      fill(b, mine);
      handles.push(await b.snapshot(checkpointId));
    }
    return handles;
  }

  for (const kind of BACKENDS) {
    for (const newParallelism of [4, 1]) {
      it(`${kind}: rescale from 2 subtasks to ${newParallelism}: every key's state is found exactly once`, async () => {
        const handles = await snapshotAtParallelism(kind, 2, 10);
        expect(handles.map((h) => h.keyGroupRange)).toEqual([
          { start: 0, end: 63 },
          { start: 64, end: 127 },
        ]);
        const owners = new Map<string, number>();
        let timers = 0;
        for (let i = 0; i < newParallelism; i++) {
          const r = keyGroupRangeFor(i, newParallelism, MAX_PARALLELISM);
          const b = await fx.open(kind, { start: r.start, end: r.end, subtask: i, restore: handles });
          for (const k of keys) {
            const s = read(b, k);
            if (s === undefined) continue;
            expect(s).toEqual(expected(k));
            expect(owners.has(k)).toBe(false);
            owners.set(k, i);
            expect(b.currentKeyGroup() >= r.start && b.currentKeyGroup() <= r.end).toBe(true);
          }
          const names = [...b.keys('value')].map(([k]) => k as string);
          expect(names.length).toBe([...owners.values()].filter((o) => o === i).length);
          const fired = b.timers.pollDue('event', Infinity);
          for (const t of fired) expect(owners.get(t.key as string)).toBe(i);
          timers += fired.length;
        }
        expect(owners.size).toBe(keys.length);
        expect(timers).toBe(keys.length);
      });
    }
  }

  for (const kind of BACKENDS) {
    it(`${kind}: a storage failure fails the snapshot, and the next snapshot works`, async () => {
      const a = await fx.open(kind, { flushEvery: 10 });
      fill(a, keys);
      const original = fx.storage.writeFile.bind(fx.storage);
      fx.storage.writeFile = async (id, name, data, options) => {
        if (id === 30) {
          for await (const _ of typeof (data as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function' ? (data as AsyncIterable<Uint8Array>) : []) break;
          throw new Error('disk full');
        }
        return original(id, name, data, options);
      };
      await expect(a.snapshot(30)).rejects.toThrow(/disk full/);
      const handle = await a.snapshot(31);
      const b = await fx.open(kind, { restore: [handle] });
      for (const k of keys.slice(0, 50)) expect(read(b, k)).toEqual(expected(k));
    });
  }

  it('a corrupt key-group block fails the restore with a message naming it', async () => {
    const a = await fx.open('lmdb');
    fill(a, keys.slice(0, 50));
    const handle = await a.snapshot(20);
    const broken: KeyedStateHandle = { ...handle, keyGroups: handle.keyGroups.map((g, i) => (i === 0 ? { ...g, crc32: '00000000' } : g)) };
    await expect(fx.open('lmdb', { restore: [broken] })).rejects.toThrow(/key group \d+ in state file .* is corrupt/);
  });

  it('a different maxParallelism is refused with the fix in the message', async () => {
    const a = await fx.open('heap');
    fill(a, keys.slice(0, 5));
    const handle = await a.snapshot(21);
    await expect(fx.open('lmdb', { restore: [{ ...handle, maxParallelism: 256 }] })).rejects.toThrow(/keep maxParallelism at 256/);
  });
});
