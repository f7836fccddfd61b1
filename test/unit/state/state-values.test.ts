/**
 * What keyed state may hold (state/value-serializer.ts, runtime/plain-data.ts), the same on both
 * backends: plain data including Map, Set, Date, bigint and typed arrays survives snapshots and
 * restores into either backend; anything else is rejected at the write with an error naming the
 * operator, the state, the type and the path; values are copied in and out, so mutating a value
 * without writing it back never changes the state, whether or not the LMDB cache evicted it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateValueError, sharedPlainData, valuesNeverChangedInPlace, type StateSerializer } from '../../../state/value-serializer.ts';
import { aggregatingState, listState, mapState, valueState } from '../../../state/descriptors.ts';
import type { KeyedStateBackend } from '../../../state/index.ts';
import { BACKENDS, type Fixture, at, makeFixture } from './helpers.ts';

/** Records `{ price }` whose field counts its reads (the plain-data walk reads each field once). */
function countedRecords(): { rec: (price: number) => { price: number }; counter: { reads: number } } {
  const counter = { reads: 0 };
  const rec = (price: number): { price: number } =>
    Object.defineProperty({}, 'price', {
      enumerable: true,
      get: () => {
        counter.reads++;
        return price;
      },
    }) as { price: number };
  return { rec, counter };
}

/** Runs `f` with `key` as the backend's current key. */
function keyed<R>(b: KeyedStateBackend, key: string, f: () => R): R {
  at(b, key);
  return f();
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Everything the default serializer accepts, nested. */
function richValue(): unknown {
  return {
    seen: new Set(['a', 'b', 3]),
    byName: new Map<unknown, unknown>([
      ['x', { n: 1 }],
      [2, new Set([1n])],
    ]),
    at: new Date(1_700_000_000_000),
    big: 12345678901234567890n,
    bytes: new Uint8Array([1, 2, 3]),
    floats: new Float64Array([1.5, -2]),
    list: [1, 'two', null, undefined, true, { deep: [new Map([['k', 'v']])] }],
  };
}

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

function errorOf(f: () => void): StateValueError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StateValueError);
    return e as StateValueError;
  }
  throw new Error('expected a StateValueError');
}

describe.each(BACKENDS)('state values (%s)', (kind) => {
  for (const to of BACKENDS) {
    it(`Map, Set, Date, bigint and typed arrays survive a snapshot restored into ${to}`, async () => {
      const b = await fx.open(kind);
      const value = b.getValueState(valueState<unknown>('v'));
      const list = b.getListState(listState<unknown>('l'));
      const map = b.getMapState(mapState<string, unknown>('m'));
      keyed(b, 'k1', () => {
        value.update(richValue());
        list.add(new Set([1, 2]));
        list.add(new Map([['a', new Date(5)]]));
        map.put('x', richValue());
      });
      const handle = await b.snapshot(1);
      const r = await fx.open(to, { restore: [handle] });
      const rv = r.getValueState(valueState<unknown>('v'));
      const rl = r.getListState(listState<unknown>('l'));
      const rm = r.getMapState(mapState<string, unknown>('m'));
      keyed(r, 'k1', () => {
        expect(rv.value()).toEqual(richValue());
        expect((rv.value() as { seen: unknown }).seen).toBeInstanceOf(Set);
        expect(rl.get()).toEqual([new Set([1, 2]), new Map([['a', new Date(5)]])]);
        expect(rm.get('x')).toEqual(richValue());
      });
    });
  }

  it('rejects a class instance, a function and a symbol at the first write, naming operator, state, type and path', async () => {
    const b = await fx.open(kind);
    const value = b.getValueState(valueState<unknown>('positions'));
    const list = b.getListState(listState<unknown>('history'));
    const map = b.getMapState(mapState<string, unknown>('byId'));
    keyed(b, 'k', () => {
      const e = errorOf(() => value.update({ last: { at: new Point(1, 2) } }));
      expect(e.message).toContain("state 'positions' of operator 'op'");
      expect(e.message).toContain('an instance of class Point at $.last.at');
      expect(e.path).toBe('$.last.at');
      expect(errorOf(() => value.update(new Point(1, 2))).path).toBe('$');
      expect(errorOf(() => value.update([1, () => 2])).message).toContain('a function at $[1]');
      expect(errorOf(() => list.add({ s: Symbol('x') })).message).toContain("state 'history'");
      expect(errorOf(() => list.add(new Set([new Point(0, 0)]))).path).toBe('$<Set element>');
      expect(errorOf(() => map.put('a', new Map([['p', new WeakMap()]]))).message).toContain('an instance of class WeakMap at $<Map value of "p">');
      expect(errorOf(() => list.update([1, new Point(1, 1)])).path).toBe('$');
      // Nothing was stored by the rejected writes.
      expect(value.value()).toBeUndefined();
      expect(list.get()).toEqual([]);
      expect(map.isEmpty()).toBe(true);
    });
  });

  it('rejects an accumulator that is not plain data when add returns it', async () => {
    const b = await fx.open(kind);
    const agg = b.getAggregatingState(
      aggregatingState<number, { points: Point[] }, number>('agg', {
        createAccumulator: () => ({ points: [] }),
        add: (v, acc) => {
          acc.points.push(new Point(v, v));
          return acc;
        },
        getResult: (acc) => acc.points.length,
      }),
    );
    keyed(b, 'k', () => {
      expect(errorOf(() => agg.add(1)).message).toContain("state 'agg' of operator 'op' cannot hold an instance of class Point at $.points[0]");
    });
  });

  it('values are copied in and out: mutations without update never reach the state, with or without eviction', async () => {
    // cacheEntries 10_000 is the minimum; 20k keys make the LMDB cache evict and the layers serve reads.
    const b = await fx.open(kind, { cacheEntries: 10_000, flushEvery: 1000 });
    const value = b.getValueState(valueState<{ n: number; tags: Set<string> }>('v'));
    const map = b.getMapState(mapState<string, { n: number }>('m'));
    const list = b.getListState(listState<{ n: number }>('l'));
    const shared = { n: 0, tags: new Set<string>() };
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}`);
    for (const k of keys) {
      keyed(b, k, () => {
        shared.n++;
        value.update(shared); // one object written under every key
        map.put('a', { n: 1 });
        list.add({ n: 1 });
      });
    }
    for (const k of keys) {
      keyed(b, k, () => {
        const v = value.value()!;
        v.n = -1; // not written back
        v.tags.add('x');
        map.get('a')!.n = -1;
        for (const e of list.get()) e.n = -1;
        for (const [, e] of map.entries()) e.n = -1;
      });
    }
    shared.n = 999_999;
    for (let i = 0; i < keys.length; i++) {
      keyed(b, keys[i]!, () => {
        expect(value.value()).toEqual({ n: i + 1, tags: new Set() });
        expect(map.get('a')).toEqual({ n: 1 });
        expect(list.get()).toEqual([{ n: 1 }]);
      });
    }
  });

  it('sharedPlainData: reads hand out the object written (no copies), values are still checked and survive a restore', async () => {
    const b = await fx.open(kind);
    const top = b.getValueState(valueState<{ price: number }[]>('top', { serializer: sharedPlainData() }));
    const written = [{ price: 3 }, { price: 1 }];
    keyed(b, 'a', () => top.update(written));
    keyed(b, 'a', () => {
      expect(top.value()).toBe(written);
      expect(top.value()![0]).toBe(written[0]);
    });
    const e = errorOf(() => keyed(b, 'b', () => top.update([new Point(1, 2) as unknown as { price: number }])));
    expect(e.message).toContain("state 'top'");
    expect(e.message).toContain('$[0]');
    // The check passes over number and string fields at once: what follows them is still checked, and named.
    const bad = { price: 2, name: 'x', at: new Point(0, 0), note: () => 1 } as unknown as { price: number };
    expect(errorOf(() => keyed(b, 'b', () => top.update([{ price: 1 }, bad]))).path).toBe('$[1].at');
    const nested = { price: 2, tags: ['a', 1, 'b', Symbol('s')] } as unknown as { price: number };
    expect(errorOf(() => keyed(b, 'b', () => top.update([nested]))).path).toBe('$[0].tags[3]');
    const handle = await b.snapshot(1);
    const r = await fx.open(kind, { restore: [handle] });
    const restored = r.getValueState(valueState<{ price: number }[]>('top', { serializer: sharedPlainData() }));
    keyed(r, 'a', () => expect(restored.value()).toEqual([{ price: 3 }, { price: 1 }]));
  });

  it('sharedPlainData: a list written over the key\'s list walks only the records new to it, and still rejects a bad one', async () => {
    const b = await fx.open(kind);
    const top = b.getValueState(valueState<{ price: number }[]>('top', { serializer: sharedPlainData() }));
    // Records that count how often the check reads them (for...in reads each field).
    const { rec, counter } = countedRecords();
    const [a, c, d] = [rec(9), rec(5), rec(1)];
    keyed(b, 'k', () => top.update([a, c, d]));
    expect(counter.reads).toBe(3);
    counter.reads = 0;
    // A top-3 list that a new record enters in the middle: the rest moved by one or stayed.
    const e = rec(7);
    keyed(b, 'k', () => top.update([...top.value()!.slice(0, 1), e, ...top.value()!.slice(1, 2)]));
    expect(counter.reads).toBe(1);
    keyed(b, 'k', () => expect(top.value()).toEqual([{ price: 9 }, { price: 7 }, { price: 5 }]));
    counter.reads = 0;
    keyed(b, 'k', () => top.update(top.value()!)); // the same list again: nothing to walk
    expect(counter.reads).toBe(0);
    // Another key's list shares nothing with this key's (none yet): every record is walked.
    keyed(b, 'other', () => top.update([a, c]));
    expect(counter.reads).toBe(2);
    const err = errorOf(() => keyed(b, 'k', () => top.update([a, new Point(1, 2) as unknown as { price: number }, e])));
    expect(err.message).toContain("state 'top'");
    expect(err.message).toContain('$[1]');
  });

  it("sharedPlainData with knownPlain: a value it passes is stored unwalked, one it does not is walked (and a bad one named); values stay shared and survive a restore", async () => {
    const calls: [unknown, unknown][] = [];
    const { rec, counter } = countedRecords();
    const knownPlain = (v: { price: number }[], prev: { price: number }[] | undefined): boolean => {
      calls.push([v, prev]);
      return v.length < 3; // lists of three or more are walked
    };
    const serializer = sharedPlainData({ knownPlain });
    expect(valuesNeverChangedInPlace(serializer as StateSerializer<unknown>)).toBe(true);
    const b = await fx.open(kind);
    const top = b.getValueState(valueState<{ price: number }[]>('top', { serializer }));
    const first = [rec(9), rec(5)];
    keyed(b, 'k', () => top.update(first));
    expect(counter.reads).toBe(0); // passed: not walked
    expect(calls).toEqual([[first, undefined]]);
    const second = [first[0]!, rec(7), first[1]!];
    keyed(b, 'k', () => top.update(second));
    expect(calls[1]).toEqual([second, first]); // the key's value so far comes with it
    expect(counter.reads).toBe(1); // not passed: walked, but only the record new to the list
    keyed(b, 'k', () => expect(top.value()).toBe(second));
    const bad = [rec(1), rec(2), new Point(1, 2) as unknown as { price: number }];
    const err = errorOf(() => keyed(b, 'other', () => top.update(bad)));
    expect(err.message).toContain("state 'top'");
    expect(err.path).toBe('$[2]');
    const handle = await b.snapshot(1);
    const r = await fx.open(kind, { restore: [handle] });
    const restored = r.getValueState(valueState<{ price: number }[]>('top', { serializer: sharedPlainData({ knownPlain }) }));
    keyed(r, 'k', () => expect(restored.value()).toEqual([{ price: 9 }, { price: 7 }, { price: 5 }]));
  });

  it('a count-distinct written the obvious way (a Set in value state) is right after a restore', async () => {
    const b = await fx.open(kind);
    const seen = b.getValueState(valueState<Set<string>>('seen'));
    const add = (backend: KeyedStateBackend, s: typeof seen, user: string, page: string): number =>
      keyed(backend, user, () => {
        const set = s.value() ?? new Set<string>();
        set.add(page);
        s.update(set);
        return set.size;
      });
    add(b, seen, 'u', 'p1');
    add(b, seen, 'u', 'p2');
    const handle = await b.snapshot(1);
    const r = await fx.open(kind, { restore: [handle] });
    const rs = r.getValueState(valueState<Set<string>>('seen'));
    expect(add(r, rs, 'u', 'p2')).toBe(2);
    expect(add(r, rs, 'u', 'p3')).toBe(3);
  });
});
