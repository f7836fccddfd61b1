/**
 * Values by state key (a KeyId) for the backends' in-memory tables: the heap backend's state
 * tables (heap/heap-table.ts) and the LMDB backend's cache (lmdb/point-cache.ts). String keys (and
 * tuples, whose KeyId is a string) are in a StringKeyTable and number keys in a NumberKeyTable,
 * both looked up with the hash the backend computed once when the key became current (for a key
 * that crossed a keyBy exchange, the hash the exchange carried); boolean and bigint keys are in a
 * Map. Why not a Map for all: a Map hashes each new string object in the engine's runtime, and a
 * number key beyond the small integers (bidder x 2^22 + auction) is a boxed heap number in its
 * entries; with a million such keys a Map lookup took a fifth of the LMDB backend's thread in
 * Nexmark q18.
 *
 * `sweep` is a CLOCK hand over the entries in slot order (the LMDB cache evicts with it).
 */
import type { KeyId } from './key-codec.ts';
import { hashKey, hashString } from './key-groups.ts';
import { NumberKeyTable } from './number-key-table.ts';
import { StringKeyTable } from './string-key-table.ts';

/**
 * The hash a KeyTable is given with a KeyId: the key-group hash of a string or number (for a tuple,
 * whose id is a string, the hash of that string), 0 for other ids.
 */
export function keyIdHash(id: KeyId): number {
  return typeof id === 'string' ? hashString(id) : typeof id === 'number' ? hashKey(id) : 0;
}

/**
 * The table hash of the current key: the key-group hash the exchange carried (`keyHash`) when the
 * key is a string or number (for them it is keyIdHash(id)), else computed. `hashed` counts the keys
 * hashed here (tests bound it).
 */
export function currentKeyHash(key: unknown, id: KeyId, keyHash: number | undefined, hashed: { count: number }): number {
  // Direct typeof comparisons (see runtime/plain-data.ts): this runs for every record.
  if (typeof id === 'string') {
    // A tuple's id is a string too, with a hash of its own.
    if (keyHash !== undefined && typeof key === 'string') return keyHash;
    hashed.count++;
    return hashString(id);
  }
  if (typeof id === 'number') {
    if (keyHash !== undefined) return keyHash;
    hashed.count++;
    return hashKey(id);
  }
  return 0;
}

/** What a sweep's visitor says of an entry: keep it, remove it, or stop here (the entry is left as it is, and the next sweep starts with it). */
export const Sweep = { Keep: 0, Remove: 1, Stop: 2 } as const;
export type Sweep = (typeof Sweep)[keyof typeof Sweep];

export class KeyTable<V> {
  private readonly strings: StringKeyTable<V>;
  private readonly numbers: NumberKeyTable<V>;
  private readonly others = new Map<KeyId, V>();
  /** The sweep's hand: a slot of `strings`, then (past its slots) of `numbers`. */
  private hand = 0;

  /** Whether `sweep` has run (the tables then keep `sweptSlotsPerEntry`). */
  private swept = false;

  /**
   * `slotsPerEntry`: the tables grow when they would hold more than one entry per that many slots
   * (default 2, a load of at most a half). A table that is swept (the LMDB cache, once it evicts)
   * needs 4, `sweptSlotsPerEntry`, from its first sweep on: a sweep that evicts removes entries in
   * slot order while new keys land anywhere, so the slots just ahead of the hand hold the entries of
   * a whole turn on top of their share, up to twice the table's load; at a load of a half that is a
   * nearly full stretch of the table, where every probe for an absent key (each new key) walks
   * thousands of slots (10M new keys through a 1M-entry cache stalled at 4M). Until then (a cache
   * that holds the whole state) the 2 slots an entry save 40 bytes a key.
   */
  constructor(
    slotsPerEntry = 2,
    private readonly sweptSlotsPerEntry = slotsPerEntry,
  ) {
    this.strings = new StringKeyTable<V>(slotsPerEntry);
    this.numbers = new NumberKeyTable<V>(slotsPerEntry);
  }

  /** The longest run of occupied slots of either table (what a lookup of an absent key may walk): for tests. */
  longestRun(): number {
    let longest = 0;
    for (const t of [this.strings, this.numbers]) {
      const n = t.slots;
      let run = 0;
      // Twice round, so that a run wrapping past the last slot is counted whole.
      for (let j = 0; j < 2 * n; j++) {
        run = t.valueAt(j % n) === undefined ? 0 : run + 1;
        longest = Math.max(longest, Math.min(run, n));
      }
    }
    return longest;
  }

  get size(): number {
    return this.strings.size + this.numbers.size + this.others.size;
  }

  /** Slots of both tables (what the table costs: 20 bytes a slot): for tests. */
  get slots(): number {
    return this.strings.slots + this.numbers.slots;
  }

  /** The entry of `id` (`hash` = keyIdHash(id)). */
  get(id: KeyId, hash: number): V | undefined {
    return typeof id === 'string' ? this.strings.getHashed(id, hash) : typeof id === 'number' ? this.numbers.getHashed(id, hash) : this.others.get(id);
  }

  /** Adds an entry for an id the table does not have. */
  add(id: KeyId, hash: number, value: V): void {
    if (typeof id === 'string') this.strings.addHashed(id, hash, value);
    else if (typeof id === 'number') this.numbers.addHashed(id, hash, value);
    else this.others.set(id, value);
  }

  delete(id: KeyId, hash: number): void {
    if (typeof id === 'string') this.strings.deleteHashed(id, hash);
    else if (typeof id === 'number') this.numbers.deleteHashed(id, hash);
    else this.others.delete(id);
  }

  /**
   * Every entry (string keys, then number keys, in slot order; then the others in insertion order).
   * An entry added or removed meanwhile may be seen or not, and one moved by a removal (a later
   * entry of its run moves back) may be seen twice or not at all: callers that go on across an
   * await check each entry they get.
   */
  *values(): IterableIterator<V> {
    yield* this.strings.values();
    yield* this.numbers.values();
    yield* this.others.values();
  }

  /**
   * Visits entries from where the last sweep stopped, in slot order, wrapping around (the others,
   * not in slots, once per turn), removing those `visit` says to, until it says Stop or `maxVisits`
   * entries were visited. An entry moved back by a removal is looked at again in the same sweep.
   */
  sweep(visit: (value: V) => Sweep, maxVisits: number): void {
    const strings = this.strings;
    const numbers = this.numbers;
    if (!this.swept) {
      this.swept = true;
      strings.spread(this.sweptSlotsPerEntry);
      numbers.spread(this.sweptSlotsPerEntry);
      this.hand = 0;
    }
    let visits = 0;
    while (visits < maxVisits && this.size > 0) {
      const stringSlots = strings.slots;
      if (this.hand >= stringSlots + numbers.slots) {
        this.hand = 0;
        for (const [id, v] of this.others) {
          if (visits >= maxVisits) return;
          visits++;
          const a = visit(v);
          if (a === Sweep.Stop) return;
          if (a === Sweep.Remove) this.others.delete(id);
        }
        continue;
      }
      const i = this.hand;
      const inStrings = i < stringSlots;
      const v = inStrings ? strings.valueAt(i) : numbers.valueAt(i - stringSlots);
      if (v === undefined) {
        this.hand++;
        continue;
      }
      visits++;
      const a = visit(v);
      if (a === Sweep.Stop) return;
      if (a === Sweep.Remove) {
        if (inStrings) strings.deleteAt(i);
        else numbers.deleteAt(i - stringSlots);
      } else this.hand++;
    }
  }

  clear(): void {
    this.strings.clear();
    this.numbers.clear();
    this.others.clear();
    this.hand = 0;
  }
}
