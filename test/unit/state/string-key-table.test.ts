/** The window operator's table of string keys: finds what was added, by content, through growth and clear. */
import { describe, expect, it } from 'vitest';
import { StringKeyTable } from '../../../state/string-key-table.ts';
import { hashString } from '../../../state/key-groups.ts';

describe('StringKeyTable', () => {
  it('finds every key added (by content, not identity) as it grows, and nothing else', () => {
    const t = new StringKeyTable<number>();
    for (let i = 0; i < 5000; i++) t.add(`key-${i}`, i);
    expect(t.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(t.get(['key-', String(i)].join(''))).toBe(i);
    expect(t.get('key-5000')).toBeUndefined();
    expect(t.get('')).toBeUndefined();
  });

  it('hashes all of a long key: keys that differ only in the middle spread over the table', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `${'x'.repeat(16)}middle-${i}${'y'.repeat(16)}`);
    // A hash of the ends only would give them all one slot (every lookup a walk over all of them).
    expect(new Set(keys.map((k) => hashString(k) & 2047)).size).toBeGreaterThan(600);
    const t = new StringKeyTable<number>();
    keys.forEach((k, i) => t.add(k, i));
    keys.forEach((k, i) => expect(t.get([k.slice(0, 20), k.slice(20)].join(''))).toBe(i));
    expect(t.get(`${'x'.repeat(16)}middle-1000${'y'.repeat(16)}`)).toBeUndefined();
  });

  it('is empty after clear', () => {
    const t = new StringKeyTable<number>();
    for (let i = 0; i < 100; i++) t.add(`k${i}`, i);
    t.clear();
    expect(t.size).toBe(0);
    expect(t.get('k1')).toBeUndefined();
    t.add('k1', 7);
    expect(t.get('k1')).toBe(7);
  });
});

describe('StringKeyTable deletes', () => {
  it('agrees with a Map through random adds and deletes (backward shift keeps every key reachable)', () => {
    const t = new StringKeyTable<number>();
    const m = new Map<string, number>();
    let seed = 1;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let step = 0; step < 20_000; step++) {
      const k = `k${rnd(600)}`;
      if (rnd(3) === 0) {
        expect(t.delete(k)).toBe(m.delete(k));
      } else if (!m.has(k)) {
        t.add(k, step);
        m.set(k, step);
      }
      expect(t.size).toBe(m.size);
    }
    for (let i = 0; i < 600; i++) expect(t.get(`k${i}`)).toBe(m.get(`k${i}`));
    expect([...t.values()].sort((a, b) => a - b)).toEqual([...m.values()].sort((a, b) => a - b));
    expect(t.getHashed('k1', hashString('k1'))).toBe(m.get('k1'));
  });
});
