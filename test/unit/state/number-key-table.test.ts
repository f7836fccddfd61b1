/**
 * NumberKeyTable against a Map as the model: random adds, deletes and lookups of keys inside and
 * outside the small-integer range (and -0, which is the key 0), with hashes that collide often so
 * that probe runs, wrap-around and backward-shift deletion are exercised.
 */
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../../state/key-groups.ts';
import { NumberKeyTable } from '../../../state/number-key-table.ts';

describe('NumberKeyTable', () => {
  it('agrees with a Map over random adds, deletes and lookups, through growth', () => {
    let seed = 7;
    const rnd = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    const pool = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? i : i % 3 === 1 ? i * 4_194_304 + 17 : i + 0.5));
    // A hash with few distinct values: long probe runs that wrap around the table's end.
    const weak = (k: number): number => hashKey(k) & 0x7;
    for (const hashOf of [hashKey, weak]) {
      const table = new NumberKeyTable<number>();
      const model = new Map<number, number>();
      for (let step = 0; step < 40_000; step++) {
        const k = pool[rnd(pool.length)]!;
        const h = hashOf(k);
        const op = rnd(3);
        if (op === 0 && !model.has(k)) {
          table.addHashed(k, h, step);
          model.set(k, step);
        } else if (op === 1) {
          expect(table.deleteHashed(k, h)).toBe(model.delete(k));
        } else {
          expect(table.getHashed(k, h)).toBe(model.get(k));
        }
        expect(table.size).toBe(model.size);
      }
      for (const [k, v] of model) expect(table.getHashed(k, hashOf(k))).toBe(v);
      expect([...table.values()].sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
    }
  });

  it('treats -0 as 0, holds keys beyond 2^31 and fractions apart, and clears', () => {
    const table = new NumberKeyTable<string>();
    table.addHashed(0, hashKey(0), 'zero');
    expect(table.getHashed(-0, hashKey(-0))).toBe('zero');
    const big = 4_000 * 4_194_304 + 3;
    table.addHashed(big, hashKey(big), 'big');
    table.addHashed(big + 1, hashKey(big + 1), 'next');
    table.addHashed(1.5, hashKey(1.5), 'fraction');
    expect([table.getHashed(big, hashKey(big)), table.getHashed(big + 1, hashKey(big + 1)), table.getHashed(1.5, hashKey(1.5)), table.getHashed(1, hashKey(1))]).toEqual(['big', 'next', 'fraction', undefined]);
    expect(table.deleteHashed(-0, hashKey(0))).toBe(true);
    expect(table.getHashed(0, hashKey(0))).toBeUndefined();
    table.clear();
    expect(table.size).toBe(0);
    expect(table.getHashed(big, hashKey(big))).toBeUndefined();
  });
});
