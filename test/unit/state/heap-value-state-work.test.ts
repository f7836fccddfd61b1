/**
 * The heap backend's keyed tables, counted (not timed): a read-modify-write of the current key
 * (a running count's value() then update(), a reducing or aggregating add, a list add) probes
 * the state's table once, and the table stays right when keys are cleared, expire, or change.
 */
import { describe, expect, it } from 'vitest';
import { HeapKeyedStateBackend } from '../../../state/heap/heap-backend.ts';
import { heapKeyHashes, heapTableProbes } from '../../../state/heap/heap-table.ts';
import { aggregatingState, keyGroupOf, listState, reducingState, valueState } from '../../../state/index.ts';
import { keyGroupHash, keyGroupOfHash } from '../../../state/key-groups.ts';
import type { StateKey } from '../../../state/key-groups.ts';

const MAX_PARALLELISM = 128;

function backend(now = { t: 0 }): HeapKeyedStateBackend {
  return new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: MAX_PARALLELISM - 1 }, maxParallelism: MAX_PARALLELISM, clock: { now: () => now.t } });
}

// A key decoded fresh per record, as after an exchange: a new string object every time.
const fresh = (s: string): string => [s.slice(0, 1), s.slice(1)].join('');
const at = (b: HeapKeyedStateBackend, key: StateKey): void => b.setCurrentKey(key, keyGroupOf(key, MAX_PARALLELISM));

describe('heap keyed tables', () => {
  it('a read-modify-write of each of four states probes each table once per record', () => {
    const b = backend();
    const count = b.getValueState(valueState<number>('count'));
    const sum = b.getReducingState(reducingState<number>('sum', (x, y) => x + y));
    const avg = b.getAggregatingState(aggregatingState<number, [number, number], number>('avg', { createAccumulator: () => [0, 0], add: (v, [s, n]) => [s + v, n + 1], getResult: ([s, n]) => s / n }));
    const seen = b.getListState(listState<number>('seen'));
    const keys = 500;
    const records = 5000;
    const pass = (): number => {
      const start = heapTableProbes.count;
      for (let i = 0; i < records; i++) {
        at(b, fresh(`key-${(i * 7) % keys}`));
        count.update((count.value() ?? 0) + 1);
        sum.add(i);
        avg.add(i);
        if (i % 10 === 0) seen.add(i);
      }
      return heapTableProbes.count - start;
    };
    // A key's first record misses, then adds (two probes per state); 50 keys get list elements.
    expect(pass()).toBe(records * 3 + records / 10 + keys * 3 + 50);
    // Before: two probes per read-modify-write (the read's and the write's), 2 * 15500.
    expect(pass()).toBe(records * 3 + records / 10);
    for (let k = 0; k < keys; k++) {
      at(b, fresh(`key-${k}`));
      expect(count.value()).toBe((2 * records) / keys);
    }
    expect([...b.keys('count')].length).toBe(keys);
  });

  it('uses the key hash carried from the exchange for string keys (hashes nothing), finding what self-hashed keys stored', () => {
    const b = backend();
    const count = b.getValueState(valueState<number>('count'));
    const withHash = (key: string): void => {
      const h = keyGroupHash(key);
      b.setCurrentKey(fresh(key), keyGroupOfHash(h, MAX_PARALLELISM), h);
    };
    for (let i = 0; i < 200; i++) {
      at(b, fresh(`k${i}`));
      count.update(i);
    }
    const hashesBefore = heapKeyHashes.count;
    for (let i = 0; i < 400; i++) {
      withHash(`k${i % 300}`);
      count.update((count.value() ?? 0) + 1000);
    }
    expect(heapKeyHashes.count - hashesBefore).toBe(0);
    for (let i = 0; i < 300; i++) {
      at(b, fresh(`k${i}`));
      expect(count.value()).toBe((i < 200 ? i : 0) + (i < 100 ? 2000 : 1000));
    }
    // Tuple keys are hashed by the backend (their table hash is not the carried one) and still found.
    const tuple: [string, number] = ['t', 1];
    const h = keyGroupHash(tuple);
    b.setCurrentKey(tuple, keyGroupOfHash(h, MAX_PARALLELISM), h);
    count.update(7);
    at(b, ['t', 1]);
    expect(count.value()).toBe(7);
  });

  it('stays right across clears, expiry, non-string and tuple keys, and clears while iterating keys', () => {
    const now = { t: 0 };
    const b = backend(now);
    const v = b.getValueState(valueState<number>('v'));
    const ttl = b.getValueState(valueState<number>('ttl', { ttl: { ttlMs: 10, update: 'on-create-and-write' } }));
    const model = new Map<string, number>();
    const keyOf = (i: number): StateKey => (i % 3 === 0 ? i : i % 3 === 1 ? `s${i}` : [`t${i}`, i]);
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 300; i++) {
        const k = keyOf(i);
        at(b, k);
        if ((i + round) % 4 === 0) {
          v.clear();
          model.delete(JSON.stringify(k));
        } else {
          v.update((v.value() ?? 0) + 1);
          model.set(JSON.stringify(k), (model.get(JSON.stringify(k)) ?? 0) + 1);
        }
      }
    }
    for (let i = 0; i < 300; i++) {
      at(b, keyOf(i));
      expect(v.value()).toBe(model.get(JSON.stringify(keyOf(i))));
    }
    expect(new Set([...b.keys('v')].map(([k]) => JSON.stringify(k)))).toEqual(new Set(model.keys()));
    // Clearing every key while iterating them visits each once (the table moves entries on delete).
    let visited = 0;
    for (const [k, kg] of b.keys('v')) {
      b.setCurrentKey(k, kg);
      v.clear();
      visited++;
    }
    expect(visited).toBe(model.size);
    expect([...b.keys('v')]).toEqual([]);
    at(b, 'x');
    ttl.update(1);
    expect(ttl.value()).toBe(1);
    now.t = 10;
    expect(ttl.value()).toBeUndefined();
    ttl.update(2);
    expect(ttl.value()).toBe(2);
  });
});
