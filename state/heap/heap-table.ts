/**
 * One state's entries in the heap backend, by key: a KeyTable (state/key-table.ts: string and
 * tuple keys in a StringKeyTable, number keys unboxed in a NumberKeyTable, both probed with the
 * hash the backend computed once when the key became current, or that the exchange carried).
 *
 * The entry found last is remembered, so a read then a write of the current key (a running count's
 * `value()` then `update()`) probes the table once.
 */
import type { KeyId } from '../key-codec.ts';
import { KeyTable } from '../key-table.ts';
import type { HeapEntry } from './heap-snapshot.ts';

/** Probes of all heap tables in this thread (tests bound them per record). */
export const heapTableProbes = { count: 0 };

/** Keys the heap backend hashed itself, in this thread: not a string key with its carried keyGroupHash (tests). */
export const heapKeyHashes = { count: 0 };

export class HeapTable extends KeyTable<HeapEntry> {
  private lastId: KeyId | undefined = undefined;
  private lastHash = 0;
  private lastEntry: HeapEntry | undefined = undefined;

  /** The entry of `id` (`hash` = keyIdHash(id)). */
  override get(id: KeyId, hash: number): HeapEntry | undefined {
    if (hash === this.lastHash && id === this.lastId) return this.lastEntry;
    heapTableProbes.count++;
    const e = super.get(id, hash);
    if (e !== undefined) {
      this.lastId = id;
      this.lastHash = hash;
      this.lastEntry = e;
    }
    return e;
  }

  /** Adds an entry for an id the table does not have. */
  override add(id: KeyId, hash: number, entry: HeapEntry): void {
    super.add(id, hash, entry);
    this.lastId = id;
    this.lastHash = hash;
    this.lastEntry = entry;
  }

  override delete(id: KeyId, hash: number): void {
    if (hash === this.lastHash && id === this.lastId) {
      this.lastId = undefined;
      this.lastEntry = undefined;
    }
    super.delete(id, hash);
  }

  override clear(): void {
    super.clear();
    this.lastId = undefined;
    this.lastEntry = undefined;
  }
}
