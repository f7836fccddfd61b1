/**
 * A heap map state's entries of one key, in a Map that knows whether it iterates in user-key order
 * (as LMDB does): a map whose user keys are put in increasing order (window ends, timestamps) is in
 * order already and never sorted; another is sorted in place once, at its next entries(). The order
 * is a field of the map itself: it was kept in a WeakMap, and a WeakMap entry per new map (an
 * interval join makes one per key and bucket) cost about 6% of the join plus GC work.
 */
import { compareKeys, keyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';

export class UserKeyMap<V> extends Map<KeyId, [StateKey, V]> {
  /** Whether iteration order is user-key order. A map restored from a snapshot starts not known to be. */
  sorted: boolean;
  /** The greatest user key while sorted. */
  last: StateKey | undefined = undefined;

  constructor(sorted: boolean) {
    super();
    this.sorted = sorted;
  }

  /** Call before setting a user key the map does not have. */
  noteNewKey(k: StateKey): void {
    if (!this.sorted) return;
    if (this.last === undefined || compareKeys(k, this.last) > 0) this.last = k;
    else this.sorted = false;
  }

  /** Entries in user-key order (sorting in place first if needed). */
  inOrder(): IterableIterator<[StateKey, V]> {
    if (!this.sorted) {
      // The values are [user key, value] pairs: no [id, pair] array per entry (the ids are the
      // keys' own, worked out again), and numbers (window starts, ids, times) compare as numbers.
      const es = [...this.values()];
      let numbers = true;
      for (let i = 0; i < es.length && numbers; i++) {
        const k = es[i]![0];
        numbers = typeof k === 'number' && k === k; // NaN compares as equal to everything in compareKeys
      }
      es.sort(numbers ? byNumber : byKey);
      this.clear();
      for (let i = 0; i < es.length; i++) this.set(keyId(es[i]![0]), es[i]!);
      this.sorted = true;
      this.last = es.length > 0 ? es[es.length - 1]![0] : undefined;
    }
    return this.values();
  }
}

const byNumber = (a: [StateKey, unknown], b: [StateKey, unknown]): number => (a[0] as number) - (b[0] as number);
const byKey = (a: [StateKey, unknown], b: [StateKey, unknown]): number => compareKeys(a[0], b[0]);
