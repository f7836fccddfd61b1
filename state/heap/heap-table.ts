/**
 * One state's entries in the heap backend, by key. String keys (and tuples, whose KeyId is a
 * string) are in a StringKeyTable looked up with the hash the backend computed once when the key
 * became current: a key decoded fresh from the exchange is hashed once per record however many
 * states the operator touches, and never by the engine's Map (which hashes each new string object
 * in its runtime). Number keys are in a NumberKeyTable, unboxed, with the key-group hash the
 * exchange carried. Boolean and bigint keys are in a Map.
 *
 * The entry found last is remembered, so a read then a write of the current key (a running count's
 * `value()` then `update()`) probes the table once.
 */
import type { KeyId } from '../key-codec.ts';
import { hashKey, hashString } from '../key-groups.ts';
import { NumberKeyTable } from '../number-key-table.ts';
import { StringKeyTable } from '../string-key-table.ts';
import type { HeapEntry } from './heap-snapshot.ts';

/**
 * The hash a HeapTable is given with a KeyId: the key-group hash of a string or number (for a tuple,
 * whose id is a string, the hash of that string), 0 for other ids.
 */
export function keyIdHash(id: KeyId): number {
  return typeof id === 'string' ? hashString(id) : typeof id === 'number' ? hashKey(id) : 0;
}

/** Probes of all heap tables in this thread (tests bound them per record). */
export const heapTableProbes = { count: 0 };

/** Keys the heap backend hashed itself, in this thread: not a string key with its carried keyGroupHash (tests). */
export const heapKeyHashes = { count: 0 };

export class HeapTable {
  private readonly strings = new StringKeyTable<HeapEntry>();
  private readonly numbers = new NumberKeyTable<HeapEntry>();
  private readonly others = new Map<KeyId, HeapEntry>();
  private lastId: KeyId | undefined = undefined;
  private lastHash = 0;
  private lastEntry: HeapEntry | undefined = undefined;

  get size(): number {
    return this.strings.size + this.numbers.size + this.others.size;
  }

  /** The entry of `id` (`hash` = keyIdHash(id)). */
  get(id: KeyId, hash: number): HeapEntry | undefined {
    if (hash === this.lastHash && id === this.lastId) return this.lastEntry;
    heapTableProbes.count++;
    const e = typeof id === 'string' ? this.strings.getHashed(id, hash) : typeof id === 'number' ? this.numbers.getHashed(id, hash) : this.others.get(id);
    if (e !== undefined) {
      this.lastId = id;
      this.lastHash = hash;
      this.lastEntry = e;
    }
    return e;
  }

  /** Adds an entry for an id the table does not have. */
  add(id: KeyId, hash: number, entry: HeapEntry): void {
    if (typeof id === 'string') this.strings.addHashed(id, hash, entry);
    else if (typeof id === 'number') this.numbers.addHashed(id, hash, entry);
    else this.others.set(id, entry);
    this.lastId = id;
    this.lastHash = hash;
    this.lastEntry = entry;
  }

  delete(id: KeyId, hash: number): void {
    if (hash === this.lastHash && id === this.lastId) {
      this.lastId = undefined;
      this.lastEntry = undefined;
    }
    if (typeof id === 'string') this.strings.deleteHashed(id, hash);
    else if (typeof id === 'number') this.numbers.deleteHashed(id, hash);
    else this.others.delete(id);
  }

  /** Every entry (string keys, then number keys, in slot order; then the others in insertion order); the table must not change meanwhile. */
  *values(): IterableIterator<HeapEntry> {
    yield* this.strings.values();
    yield* this.numbers.values();
    yield* this.others.values();
  }

  clear(): void {
    this.strings.clear();
    this.numbers.clear();
    this.others.clear();
    this.lastId = undefined;
    this.lastEntry = undefined;
  }
}
