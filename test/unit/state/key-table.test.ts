/**
 * KeyTable (the backends' tables by key: strings, numbers and other keys) and its CLOCK sweep,
 * against a Map as the model: removals during a sweep leave every other entry reachable (a later
 * entry of a run moves back into the emptied slot, also across the table's end), a sweep resumes
 * where the last one stopped, and it visits no more than asked.
 */
import { describe, expect, it } from 'vitest';
import type { KeyId } from '../../../state/key-codec.ts';
import { KeyTable, Sweep, keyIdHash } from '../../../state/key-table.ts';

interface Entry {
  id: KeyId;
  hash: number;
  ref: boolean;
}

let seed = 11;
const rnd = (n: number): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;

const ids: KeyId[] = Array.from({ length: 2000 }, (_, i) => (i % 4 === 0 ? `k${i}` : i % 4 === 1 ? i * 4_194_304 + 3 : i % 4 === 2 ? i : i % 8 === 3));
/** Hashes with few distinct values: long runs that wrap around the end of the table. */
const weak = (id: KeyId): number => keyIdHash(id) & 0xf;

describe('KeyTable', () => {
  it.each([
    ['key-group hashes', keyIdHash],
    ['colliding hashes', weak],
  ] as const)('agrees with a Map through adds, deletes and sweeps that remove as they go (%s)', (_, hashOf) => {
    const table = new KeyTable<Entry>();
    const model = new Map<KeyId, Entry>();
    for (let step = 0; step < 30_000; step++) {
      const id = ids[rnd(ids.length)]!;
      const op = rnd(10);
      if (op < 5) {
        if (!model.has(id)) {
          const e = { id, hash: hashOf(id), ref: rnd(2) === 0 };
          table.add(id, e.hash, e);
          model.set(id, e);
        }
      } else if (op < 7) {
        table.delete(id, hashOf(id));
        model.delete(id);
      } else if (op < 9) {
        expect(table.get(id, hashOf(id))).toBe(model.get(id));
      } else {
        // Evict up to 5 unreferenced entries, clearing the references passed (CLOCK).
        let removed = 0;
        let visits = 0;
        const max = 1 + rnd(40);
        table.sweep((e) => {
          visits++;
          if (removed >= 5) return Sweep.Stop;
          if (e.ref) {
            e.ref = false;
            return Sweep.Keep;
          }
          removed++;
          expect(model.delete(e.id)).toBe(true);
          return Sweep.Remove;
        }, max);
        expect(visits).toBeLessThanOrEqual(max);
      }
      expect(table.size).toBe(model.size);
    }
    for (const [id, e] of model) expect(table.get(id, hashOf(id))).toBe(e);
    expect(new Set(table.values())).toEqual(new Set(model.values()));
  });

  it('resumes each sweep where the last one stopped: every entry is visited once before any twice', () => {
    const table = new KeyTable<Entry>();
    const entries = ids.filter((id) => typeof id !== 'boolean').slice(0, 500).map((id) => ({ id, hash: keyIdHash(id), ref: false }));
    for (const e of entries) table.add(e.id, e.hash, e);
    const seen = new Map<Entry, number>();
    // 50 sweeps of 10 visits (one of them a Stop, which is visited again next time): 9 * 50 = 450 entries.
    for (let s = 0; s < 50; s++) {
      let n = 0;
      table.sweep((e) => {
        if (n++ === 9) return Sweep.Stop;
        seen.set(e, (seen.get(e) ?? 0) + 1);
        return Sweep.Keep;
      }, 100);
    }
    expect(seen.size).toBe(450);
    expect(Math.max(...seen.values())).toBe(1);
  });

  /**
   * The LMDB cache's pattern when every key is new (a keyed count over 10M keys through a 1M-entry
   * cache): full, it evicts a sixteenth at a time with the sweep, and each new key is looked up
   * (absent) and added. Returns the longest run of occupied slots after three turns of the hand:
   * a lookup of an absent key may walk that far.
   */
  const longestRunUnderEviction = (slotsPerEntry: number, sweptSlotsPerEntry = slotsPerEntry): number => {
    const capacity = 50_000;
    const table = new KeyTable<Entry>(slotsPerEntry, sweptSlotsPerEntry);
    let longest = 0;
    for (let i = 0; i < 4 * capacity; i++) {
      const id = `key-${i}`;
      const hash = keyIdHash(id);
      if (table.get(id, hash) !== undefined) throw new Error(`${id} is new`);
      if (table.size >= capacity) {
        let removed = 0;
        table.sweep((e) => (removed >= capacity / 16 ? Sweep.Stop : e.ref ? ((e.ref = false), Sweep.Keep) : (removed++, Sweep.Remove)), 2 * capacity);
      }
      table.add(id, hash, { id, hash, ref: false });
      if (i % 5000 === 0) longest = Math.max(longest, table.longestRun());
    }
    return longest;
  };

  it('a table swept as the LMDB cache sweeps it stays free of long runs at a quarter load, not at a half', () => {
    // At a half, the stretch ahead of the hand fills up: runs of hundreds of slots (over 1,000 here).
    expect(longestRunUnderEviction(2)).toBeGreaterThan(300);
    expect(longestRunUnderEviction(4)).toBeLessThan(100);
    // The cache's tables (layers.ts): a half until the first sweep, a quarter from then on.
    expect(longestRunUnderEviction(2, 4)).toBeLessThan(100);
  });

  it('keeps two slots an entry until its first sweep, four from then on', () => {
    const table = new KeyTable<Entry>(2, 4);
    const idOf = (i: number): KeyId => (i % 2 === 0 ? i * 7919 : `key-${i}`);
    const add = (i: number): void => {
      const id = idOf(i);
      table.add(id, keyIdHash(id), { id, hash: keyIdHash(id), ref: false });
    };
    for (let i = 0; i < 10_000; i++) add(i);
    expect(table.slots).toBeLessThanOrEqual(4 * 10_000);
    expect(table.slots).toBeGreaterThanOrEqual(2 * 10_000);
    table.sweep(() => Sweep.Keep, 1);
    expect(table.slots).toBeGreaterThanOrEqual(4 * 10_000);
    for (let i = 10_000; i < 20_000; i++) add(i);
    expect(table.slots).toBeGreaterThanOrEqual(4 * 20_000);
    for (let i = 0; i < 20_000; i++) expect(table.get(idOf(i), keyIdHash(idOf(i)))?.id).toBe(idOf(i));
  });

  it('stops on an empty table and after maxVisits on one that keeps everything', () => {
    const table = new KeyTable<Entry>();
    let visits = 0;
    table.sweep(() => (visits++, Sweep.Remove), 10);
    expect(visits).toBe(0);
    for (const id of ids.slice(0, 3)) table.add(id, keyIdHash(id), { id, hash: keyIdHash(id), ref: true });
    table.sweep(() => (visits++, Sweep.Keep), 10);
    expect(visits).toBe(10);
  });
});
