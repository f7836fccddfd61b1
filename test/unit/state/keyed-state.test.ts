/** One suite, run against both keyed state backends. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aggregatingState, listState, mapState, reducingState, valueState } from '../../../state/index.ts';
import { BACKENDS, type Fixture, at, makeFixture } from './helpers.ts';

for (const kind of BACKENDS) {
  describe(`${kind} keyed state`, () => {
    let fx: Fixture;
    beforeEach(async () => {
      fx = await makeFixture();
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    // flushEvery: 3 makes the LMDB backend commit in the middle of every test, so reads go through
    // both its write buffer and LMDB.
    const open = () => fx.open(kind, { flushEvery: 3 });

    it('value state is per key, updates and clears', async () => {
      const b = await open();
      const s = b.getValueState<{ n: number }>(valueState('v'));
      for (let i = 0; i < 20; i++) {
        at(b, `k${i}`);
        expect(s.value()).toBeUndefined();
        s.update({ n: i });
      }
      for (let i = 0; i < 20; i++) {
        at(b, `k${i}`);
        expect(s.value()).toEqual({ n: i });
      }
      at(b, 'k3');
      s.clear();
      expect(s.value()).toBeUndefined();
      at(b, 'k4');
      expect(s.value()).toEqual({ n: 4 });
      at(b, ['a', 1]);
      s.update({ n: 100 });
      at(b, ['a', 2]);
      expect(s.value()).toBeUndefined();
      at(b, ['a', 1]);
      expect(s.value()).toEqual({ n: 100 });
    });

    it('keys of every primitive type, tuples, -0 and NUL characters round-trip', async () => {
      const b = await open();
      const s = b.getValueState<string>(valueState('v'));
      const m = b.getMapState<string | number | bigint, number>(mapState('m'));
      const keys = ['a', 'a\u0000b', '', 7, -0, 1.5, 10n ** 20n, true, ['a', 1], ['a\u0000', 2n]] as const;
      for (const [i, k] of keys.entries()) {
        b.setCurrentKey(k as never, i % 128);
        s.update(`v${i}`);
        m.put(k === -0 ? 0 : typeof k === 'object' ? 'tuple' : (k as string | number | bigint), i);
      }
      for (const [i, k] of keys.entries()) {
        b.setCurrentKey(k as never, i % 128);
        expect(s.value()).toBe(`v${i}`);
        expect([...m.entries()].length).toBe(1);
      }
      b.setCurrentKey('a', 0);
      expect([...m.keys()]).toEqual(['a']);
      const found = [...b.keys('v')].map(([k]) => k);
      expect(found).toHaveLength(keys.length);
      expect(found).toContainEqual(10n ** 20n);
      expect(found).toContainEqual(['a\u0000', 2n]);
    });

    it('two states of one key do not see each other', async () => {
      const b = await open();
      const x = b.getValueState<number>(valueState('x'));
      const y = b.getValueState<number>(valueState('y'));
      at(b, 1);
      x.update(1);
      y.update(2);
      expect([x.value(), y.value()]).toEqual([1, 2]);
    });

    it('list state appends, updates, clears', async () => {
      const b = await open();
      const l = b.getListState<string>(listState('l'));
      at(b, 'a');
      expect(l.get()).toEqual([]);
      l.add('1');
      l.add('2');
      l.addAll(['3', '4', '5']);
      at(b, 'b');
      l.add('x');
      at(b, 'a');
      expect(l.get()).toEqual(['1', '2', '3', '4', '5']);
      l.update(['z', 'y']);
      expect(l.get()).toEqual(['z', 'y']);
      l.add('w');
      expect(l.get()).toEqual(['z', 'y', 'w']);
      l.clear();
      expect(l.get()).toEqual([]);
      l.add('again');
      expect(l.get()).toEqual(['again']);
      at(b, 'b');
      expect(l.get()).toEqual(['x']);
    });

    it('map state puts, removes and iterates in user-key order', async () => {
      const b = await open();
      const m = b.getMapState<number, string>(mapState('m'));
      at(b, 'k');
      expect(m.isEmpty()).toBe(true);
      for (const n of [5, 1, 9, 3, 7]) m.put(n, `v${n}`);
      expect(m.get(3)).toBe('v3');
      expect(m.contains(4)).toBe(false);
      m.remove(9);
      expect([...m.keys()]).toEqual([1, 3, 5, 7]);
      expect([...m.entries()]).toEqual([
        [1, 'v1'],
        [3, 'v3'],
        [5, 'v5'],
        [7, 'v7'],
      ]);
      m.put(2, 'v2');
      m.put(10, 'v10');
      expect([...m.keys()]).toEqual([1, 2, 3, 5, 7, 10]);
      at(b, 'other');
      expect(m.isEmpty()).toBe(true);
      m.put(1, 'o');
      at(b, 'k');
      m.clear();
      expect(m.isEmpty()).toBe(true);
      expect(m.get(1)).toBeUndefined();
      m.put(4, 'v4');
      expect([...m.entries()]).toEqual([[4, 'v4']]);
      at(b, 'other');
      expect([...m.entries()]).toEqual([[1, 'o']]);
    });

    it('reducing and aggregating state fold added values', async () => {
      const b = await open();
      const sum = b.getReducingState<number>(reducingState('sum', (a, v) => a + v));
      const avg = b.getAggregatingState(
        aggregatingState<number, { s: number; n: number }, number>('avg', {
          createAccumulator: () => ({ s: 0, n: 0 }),
          add: (v, acc) => ({ s: acc.s + v, n: acc.n + 1 }),
          getResult: (acc) => acc.s / acc.n,
        }),
      );
      for (const key of ['a', 'b']) {
        at(b, key);
        expect(sum.get()).toBeUndefined();
        expect(avg.get()).toBeUndefined();
      }
      for (let i = 1; i <= 4; i++) {
        at(b, 'a');
        sum.add(i);
        avg.add(i);
        at(b, 'b');
        sum.add(10 * i);
      }
      at(b, 'a');
      expect(sum.get()).toBe(10);
      expect(avg.get()).toBe(2.5);
      at(b, 'b');
      expect(sum.get()).toBe(100);
      sum.clear();
      expect(sum.get()).toBeUndefined();
    });

    it('keys() lists every key with state, with its key group', async () => {
      const b = await open();
      const v = b.getValueState<number>(valueState('v'));
      const l = b.getListState<number>(listState('l'));
      const keys = ['a', 'b', 'c', 'd'];
      for (const k of keys) {
        at(b, k);
        v.update(1);
        l.add(1);
        l.add(2);
      }
      for (const name of ['v', 'l']) {
        const found = [...b.keys(name)];
        expect(found.map(([k]) => k).sort()).toEqual(keys);
        for (const [k, kg] of found) {
          at(b, k as string);
          expect(kg).toBe(b.currentKeyGroup());
        }
      }
    });

    it('TTL on create and write: expired values are invisible, writes restart the clock', async () => {
      const b = await open();
      const ttl = { ttlMs: 100 };
      const v = b.getValueState<number>(valueState('v', { ttl }));
      const l = b.getListState<number>(listState('l', { ttl }));
      const m = b.getMapState<string, number>(mapState('m', { ttl }));
      const r = b.getReducingState<number>(reducingState('r', (a, x) => a + x, { ttl }));
      at(b, 'k');
      v.update(1);
      l.add(1);
      m.put('x', 1);
      r.add(5);
      fx.clock.advance(60);
      expect(v.value()).toBe(1);
      v.update(2); // restarts v's clock
      fx.clock.advance(60);
      expect(v.value()).toBe(2);
      expect(l.get()).toEqual([]);
      expect(m.get('x')).toBeUndefined();
      expect(m.isEmpty()).toBe(true);
      expect(r.get()).toBeUndefined();
      r.add(7);
      expect(r.get()).toBe(7);
      fx.clock.advance(100);
      expect(v.value()).toBeUndefined();
      expect([...b.keys('v')]).toEqual([]);
    });

    it('TTL on read and write: reads restart the clock', async () => {
      const b = await open();
      const v = b.getValueState<number>(valueState('v', { ttl: { ttlMs: 100, update: 'on-read-and-write' } }));
      at(b, 'k');
      v.update(1);
      for (let i = 0; i < 5; i++) {
        fx.clock.advance(80);
        expect(v.value()).toBe(1);
      }
      fx.clock.advance(101);
      expect(v.value()).toBeUndefined();
    });

    it('timers fire in time order, deduplicated, with deletes', async () => {
      const b = await open();
      const t = b.timers;
      t.register('event', 30, 'a', 1);
      t.register('event', 10, 'b', 2);
      t.register('event', 20, 'c', 3, 'w1');
      t.register('event', 20, 'c', 3, 'w1'); // duplicate
      t.register('event', 20, 'c', 3, 'w2');
      t.register('event', 40, 'd', 4);
      t.register('processing', 5, 'a', 1);
      t.delete('event', 40, 'd', 4);
      expect(t.size('event')).toBe(4);
      expect(t.peekEarliest('event')).toBe(10);
      // Timers with equal times may fire in any order.
      const due = t.pollDue('event', 25).map((x) => [x.time, x.key, x.namespace]);
      expect(due.sort((x, y) => Number(x[0]) - Number(y[0]) || String(x[2]).localeCompare(String(y[2])))).toEqual([
        [10, 'b', ''],
        [20, 'c', 'w1'],
        [20, 'c', 'w2'],
      ]);
      expect(t.pollDue('event', 25)).toEqual([]);
      expect(t.size('event')).toBe(1);
      expect(t.pollDue('event', 100).map((x) => x.key)).toEqual(['a']);
      expect(t.peekEarliest('event')).toBeUndefined();
      expect(t.pollDue('processing', 5).map((x) => [x.time, x.keyGroup])).toEqual([[5, 1]]);
    });

    it('many timers beyond the in-memory index still fire in order', async () => {
      const b = await open();
      const n = 10_000;
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const time = (i * 7919) % n;
        times.push(time);
        b.timers.register('event', time, `k${i % 97}`, i % 128, `${i}`);
      }
      expect(b.timers.size('event')).toBe(n);
      const fired: number[] = [];
      for (let w = 0; w <= n; w += 1000) for (const t of b.timers.pollDue('event', w)) fired.push(t.time);
      expect(fired).toEqual(times.sort((a, c) => a - c));
      expect(b.timers.size('event')).toBe(0);
    });
  });
}
