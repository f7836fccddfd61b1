/**
 * The time-coalesced timer index both backends keep timers in (state/timer-index.ts): order,
 * deduplication, deletes, trimming (the LMDB backend's bound), and bounds on what deleted timers
 * leave behind, counted rather than timed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimerIndex, timeHash, type IndexedTimer } from '../../../state/timer-index.ts';
import type { LmdbTimerService } from '../../../state/lmdb/lmdb-timers.ts';
import { BACKENDS, type Fixture, makeFixture } from './helpers.ts';

const fields = (t: IndexedTimer | undefined) => (t === undefined ? undefined : [t.time, t.key, t.namespace]);

function drain(ix: TimerIndex, upTo: number): unknown[] {
  const out: unknown[] = [];
  for (let t = ix.pollNext(upTo); t !== undefined; t = ix.pollNext(upTo)) out.push(fields(t));
  return out;
}

describe('TimerIndex', () => {
  it('fires in time order, timers of one time in registration order, each (time, key, namespace) once', () => {
    const ix = new TimerIndex();
    ix.add(20, 'b', 1, '');
    ix.add(10, 'z', 1, 'w');
    ix.add(20, 'a', 1, 'x');
    ix.add(20, 'b', 1, 'y'); // a second namespace of b at 20: after a
    ix.add(20, ['t', 1], 1, '');
    expect(ix.add(20, 'a', 1, 'x')).toBeUndefined(); // already there
    expect(ix.add(20, ['t', 1], 1, '')).toBeUndefined(); // tuple keys compare by content
    ix.add(15, 1, 2, '');
    ix.add(15, '1', 2, ''); // the number 1 and the string '1' are different keys
    expect(ix.size).toBe(7);
    expect(ix.peek()).toBe(10);
    expect(drain(ix, 15)).toEqual([[10, 'z', 'w'], [15, 1, ''], [15, '1', '']]);
    expect(drain(ix, 100)).toEqual([[20, 'b', ''], [20, 'a', 'x'], [20, 'b', 'y'], [20, ['t', 1], '']]);
    expect(ix.size).toBe(0);
    expect(ix.peek()).toBeUndefined();
  });

  it('deletes: only the timer named, absent ones are a no-op, an emptied time is skipped', () => {
    const ix = new TimerIndex();
    ix.add(5, 'a', 0, 'x');
    ix.add(5, 'a', 0, 'y');
    ix.add(7, 'b', 0, '');
    ix.add(9, 'c', 0, '');
    expect(ix.remove(5, 'a', 'z')).toBeUndefined();
    expect(ix.remove(6, 'a', 'x')).toBeUndefined();
    expect(fields(ix.remove(5, 'a', 'x'))).toEqual([5, 'a', 'x']);
    expect(fields(ix.remove(7, 'b', ''))).toEqual([7, 'b', '']);
    expect(ix.size).toBe(2);
    expect(ix.all().map(fields).sort()).toEqual([[5, 'a', 'y'], [9, 'c', '']]);
    expect(drain(ix, 8)).toEqual([[5, 'a', 'y']]);
    expect(ix.peek()).toBe(9);
    // deleted then registered again: fires once, in its new place in the order
    ix.add(9, 'd', 0, '');
    ix.remove(9, 'c', '');
    ix.add(9, 'c', 0, '');
    expect(drain(ix, 9)).toEqual([[9, 'd', ''], [9, 'c', '']]);
  });

  it('a time with one timer: duplicates, deletes of other keys or namespaces, a second timer, firing, re-adding', () => {
    const ix = new TimerIndex();
    const one = ix.add(30, ['k', 1], 0, 'x');
    expect(ix.add(30, ['k', 1], 0, 'x')).toBeUndefined(); // the same timer (a tuple key, by content)
    expect(ix.remove(30, ['k', 2], 'x')).toBeUndefined(); // another key at that time
    expect(ix.remove(30, ['k', 1], 'y')).toBeUndefined(); // another namespace
    expect(ix.size).toBe(1);
    expect(ix.footprint()).toEqual({ heapTimes: 1, slots: 1 });
    ix.add(30, ['k', 1], 0, 'y'); // a second timer at the time: the two keep registration order
    expect(ix.add(30, ['k', 1], 0, 'x')).toBeUndefined(); // still deduplicated once they share a bucket
    expect(drain(ix, 30)).toEqual([[30, ['k', 1], 'x'], [30, ['k', 1], 'y']]);
    expect(one!.dead).toBe(true);
    // fired, deleted and registered again: each state of a lone timer
    ix.add(40, 'a', 0, '');
    expect(fields(ix.remove(40, 'a', ''))).toEqual([40, 'a', '']);
    expect(ix.remove(40, 'a', '')).toBeUndefined();
    expect(ix.size).toBe(0);
    expect(ix.peek()).toBeUndefined();
    ix.add(40, 'a', 0, '');
    ix.add(50, 'b', 0, '');
    expect(ix.all().map(fields).sort()).toEqual([[40, 'a', ''], [50, 'b', '']]);
    const dropped: unknown[] = [];
    expect(ix.trim(1, (t) => dropped.push(fields(t)))).toEqual({ bound: 40, kept: 1 });
    expect(dropped).toEqual([[50, 'b', '']]);
    expect(drain(ix, 100)).toEqual([[40, 'a', '']]);
    expect(ix.add(40, 'a', 0, '')).toBeDefined(); // fired: registering it again is a new timer
    expect(ix.size).toBe(1);
  });

  it('a time emptied and registered again fires once, in order, however its earlier entry ended', () => {
    // Millisecond timestamps (beyond 32 bits) and a fractional time, as the time table must tell apart.
    const t = 1_436_918_400_000;
    const ix = new TimerIndex();
    ix.add(t, 'a', 0, ''); // a lone timer...
    ix.add(t, 'b', 0, ''); // ...turned into a bucket
    ix.remove(t, 'a', '');
    ix.remove(t, 'b', ''); // the bucket emptied by deletes: its heap item is stale
    ix.add(t + 2 ** 32, 'far', 0, ''); // the same low 32 bits
    ix.add(t + 0.5, 'half', 0, '');
    ix.add(t, 'c', 0, ''); // the time again: a new lone timer
    expect(ix.timeCount).toBe(3);
    expect(ix.peek()).toBe(t);
    expect(drain(ix, t + 1)).toEqual([[t, 'c', ''], [t + 0.5, 'half', '']]);
    ix.add(t + 1, 'd', 0, '');
    ix.add(t + 1, 'e', 0, '');
    expect(drain(ix, t + 1)).toEqual([[t + 1, 'd', ''], [t + 1, 'e', '']]); // a bucket emptied by firing
    ix.add(t + 1, 'd', 0, '');
    expect(drain(ix, Infinity)).toEqual([[t + 1, 'd', ''], [t + 2 ** 32, 'far', '']]);
    expect(ix.size).toBe(0);
    expect(ix.footprint().heapTimes).toBe(0);
    expect(() => ix.add(Number.NaN, 'a', 0, '')).toThrow(/time NaN \(key a\)/);
  });

  it('spreads times over the time table: a fraction of a millisecond apart, whole milliseconds, 2^32 ms apart', () => {
    const t = 1_436_918_400_000;
    // The slots of a 4096-slot table the times start probing at (NumberKeyTable's home slot).
    const home = (time: number) => {
      const h = timeHash(time);
      return (h ^ (h >>> 16)) & 4095;
    };
    const distinct = (times: number[]) => new Set(times.map(home)).size;
    const within = Array.from({ length: 1000 }, (_, i) => t + i / 1000);
    const whole = Array.from({ length: 1000 }, (_, i) => t + i);
    const far = Array.from({ length: 1000 }, (_, i) => t + i * 2 ** 32);
    // 1000 keys over 4096 slots by chance: about 890 distinct.
    for (const times of [within, whole, far]) expect(distinct(times)).toBeGreaterThan(800);
    expect(timeHash(-0)).toBe(timeHash(0));
  });

  it('a timer moved again and again leaves a bounded number of dead slots and stale times behind', () => {
    const ix = new TimerIndex();
    ix.add(1_000_000, 'keeps-the-time-alive', 0, '');
    for (let i = 0; i < 50_000; i++) {
      // the same time, one key registering and deleting (a session's timer moving back and forth)
      ix.add(1_000_000, 'k', 0, String(i));
      ix.remove(1_000_000, 'k', String(i));
      // distinct times, each emptied again (processing-time timers replaced by later ones)
      ix.add(i, 'p', 0, '');
      ix.remove(i, 'p', '');
    }
    const f = ix.footprint();
    expect(f.slots).toBeLessThanOrEqual(2 * ix.size + 32);
    expect(f.heapTimes).toBeLessThanOrEqual(2 * ix.timeCount + 32);
    expect(ix.work.compactions).toBeGreaterThan(0);
    expect(drain(ix, Infinity)).toEqual([[1_000_000, 'keeps-the-time-alive', '']]);
  });

  it('firing takes no key lookup per timer; a fired timer registered again while its time fires fires again', () => {
    const ix = new TimerIndex();
    for (let k = 0; k < 100; k++) {
      ix.add(50, k, 0, '');
      ix.add(50, k, 0, 'w');
    }
    expect(fields(ix.pollNext(50))).toEqual([50, 0, '']);
    expect(fields(ix.pollNext(50))).toEqual([50, 0, 'w']);
    // a handler registers the fired timers again, and deletes one not fired yet
    expect(ix.add(50, 0, 0, '')).toBeDefined();
    expect(ix.add(50, 0, 0, 'w')).toBeDefined();
    expect(ix.add(50, 0, 0, 'w')).toBeUndefined();
    expect(ix.remove(50, 1, 'w')).toBeDefined();
    const rest = drain(ix, 50);
    expect(rest.length).toBe(198 - 1 + 2);
    expect(rest.slice(-2)).toEqual([[50, 0, ''], [50, 0, 'w']]);
    // a fired timer is no longer there to delete
    expect(ix.remove(50, 2, '')).toBeUndefined();
    expect(ix.work.unindexed).toBe(1); // the one delete; none of the 201 timers fired
    expect(ix.size).toBe(0);
  });

  it('registering many timers at the time of the previous registration pushes that time once', () => {
    const ix = new TimerIndex();
    for (let k = 0; k < 1000; k++) for (let r = 0; r < 3; r++) ix.add(10_000, k, 0, '');
    ix.add(20_000, 0, 0, '');
    for (let k = 1; k < 1000; k++) ix.add(20_000, k, 0, '');
    expect(ix.work.timesPushed).toBe(2);
    expect(ix.size).toBe(2000);
  });

  it('trim keeps the earliest times holding at least n timers, never splitting a time, and hands over the rest', () => {
    const ix = new TimerIndex();
    for (let i = 0; i < 100; i++) ix.add(i % 10, i, 0, '');
    const dropped: number[] = [];
    const { bound, kept } = ix.trim(25, (t) => dropped.push(t.time));
    expect(bound).toBe(2);
    expect(kept).toBe(30);
    expect(ix.size).toBe(30);
    expect(dropped.length).toBe(70);
    expect(Math.min(...dropped)).toBe(3);
    expect(ix.footprint().heapTimes).toBe(3);
    const fired = drain(ix, Infinity) as number[][];
    expect(fired.map((f) => f[0])).toEqual([...Array(30).keys()].map((i) => Math.floor(i / 10)));
    expect(ix.trim(25, () => {}).bound).toBeUndefined();
  });
});

describe('both backends fire timers of one time in registration order', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  for (const kind of BACKENDS) {
    it(kind, async () => {
      const b = await fx.open(kind);
      const keys = ['m', 'c', 'x', 'a', 'c'];
      keys.forEach((k, i) => b.timers.register('event', 100, k, i, `w${i}`));
      b.timers.register('event', 50, 'z', 0, '');
      expect(b.timers.pollDue('event', 100).map((t) => [t.time, t.key, t.namespace])).toEqual([
        [50, 'z', ''],
        ...keys.map((k, i) => [100, k, `w${i}`]),
      ]);
    });
  }

  it('lmdb: the index holds the same timers as the heap backend between checkpoints, none in the store', async () => {
    const b = await fx.open('lmdb');
    const t = b.timers as LmdbTimerService;
    for (let i = 0; i < 1000; i++) t.register('event', 10 * (i % 7), i, i % 128, '');
    expect(t.index('event').size).toBe(1000);
    expect(t.index('event').timeCount).toBe(7);
    expect(t.storeIds).toBe(0);
  });
});
