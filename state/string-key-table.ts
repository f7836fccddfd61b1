/**
 * Values by string key in an open-addressed table (linear probing) that hashes the key itself (the
 * key-group hash, murmur3 over all its characters: long keys that differ only in the middle do not
 * collide) and compares keys with ===. For keys decoded fresh per record (every record that crossed
 * the exchange brings its own copy of its key string), a JS Map hashes the whole string in the
 * engine's runtime per lookup; this costs a few multiplications instead (measured 20-25 ns against
 * 50-90 ns per lookup of a 7-character key, with 500 keys), and a caller that already has the
 * key's hash (the heap backend hashes the current key once for all its states) passes it and
 * hashes nothing (`getHashed`, `addHashed`, `deleteHashed`: `hash` must be `hashString(key)`).
 *
 * Each slot keeps its key's hash: a probe compares hashes before strings, growing rehashes nothing,
 * and a delete shifts the entries after it back (no tombstones, so a table whose keys come and go
 * does not fill up with them). Iteration (`values`) is in slot order, not insertion order.
 *
 * Used by the window operator's batch folding (operators/window/pending-panes.ts) and the state
 * backends' tables by key (key-table.ts: the heap backend's states, the LMDB backend's cache).
 */
import { hashString } from './key-groups.ts';

/**
 * Where a probe for `hash` starts, before masking to the table's size: the hash with its high half
 * folded into its low bits. The low bits of a key-group hash are the key group, and a subtask owns
 * a range of key groups: at parallelism 2 every key of a subtask has the same bit 6, so indexed by
 * the low bits every other block of 64 slots was never a home slot and probe runs were 2.4 times
 * as long (460k keys: 3.4 slots an insert against 1.4). Module-local (NumberKeyTable has its own
 * copy): an imported function is a getter call per use when tsx loads modules as CommonJS.
 */
const homeSlot = (hash: number): number => hash ^ (hash >>> 16);

const MIN_CAPACITY = 64;

export class StringKeyTable<V> {
  private keys: (string | undefined)[] = new Array<string | undefined>(MIN_CAPACITY).fill(undefined);
  private values_: (V | undefined)[] = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
  private hashes = new Int32Array(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;
  size = 0;

  /** `slotsPerEntry`: the table grows when it would hold more than one entry per that many slots (see KeyTable). */
  constructor(private slotsPerEntry = 2) {}

  /** From now on at most one entry per `slotsPerEntry` slots (growing now if it holds more). */
  spread(slotsPerEntry: number): void {
    this.slotsPerEntry = slotsPerEntry;
    while (this.size * slotsPerEntry > this.keys.length) this.grow();
  }

  get(key: string): V | undefined {
    return this.getHashed(key, hashString(key));
  }

  getHashed(key: string, hash: number): V | undefined {
    const keys = this.keys;
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = homeSlot(hash) & mask; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === undefined) return undefined;
      if (hashes[i] === hash && k === key) return this.values_[i];
    }
  }

  /** Adds a key the table does not have. */
  add(key: string, value: V): void {
    this.addHashed(key, hashString(key), value);
  }

  /** Adds a key the table does not have. */
  addHashed(key: string, hash: number, value: V): void {
    if ((this.size + 1) * this.slotsPerEntry > this.keys.length) this.grow();
    this.place(key, hash, value);
    this.size++;
  }

  delete(key: string): boolean {
    return this.deleteHashed(key, hashString(key));
  }

  /** Removes the key if present; whether it was. */
  deleteHashed(key: string, hash: number): boolean {
    const keys = this.keys;
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = homeSlot(hash) & mask; ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === undefined) return false;
      if (hashes[i] === hash && k === key) {
        this.deleteAt(i);
        return true;
      }
    }
  }

  /** Slots in the table (its capacity): the indexes `valueAt` and `deleteAt` take. */
  get slots(): number {
    return this.keys.length;
  }

  /** The value in slot `i`, undefined when the slot is empty. */
  valueAt(i: number): V | undefined {
    return this.values_[i];
  }

  /**
   * Empties slot `i`, which must hold an entry. A later entry of its run may move into slot `i`
   * (so a sweep that deletes as it goes looks at `i` again), and with a run that wraps around the
   * end, one from the start of the table into the end.
   */
  deleteAt(i: number): void {
    const keys = this.keys;
    const hashes = this.hashes;
    const values = this.values_;
    const mask = this.mask;
    // Backward-shift deletion: move each later entry of the run into the hole when its home slot
    // does not lie (cyclically) between the hole and it, so every entry stays reachable.
    let hole = i;
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j];
      if (k === undefined) break;
      const home = homeSlot(hashes[j]!) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        values[hole] = values[j];
        hashes[hole] = hashes[j]!;
        hole = j;
      }
    }
    keys[hole] = undefined;
    values[hole] = undefined;
    this.size--;
  }

  /** The values, in slot order; the table must not change during the iteration. */
  *values(): IterableIterator<V> {
    const keys = this.keys;
    const values = this.values_;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== undefined) yield values[i]!;
  }

  clear(): void {
    this.keys = new Array<string | undefined>(MIN_CAPACITY).fill(undefined);
    this.values_ = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
    this.hashes = new Int32Array(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
    this.size = 0;
  }

  private place(key: string, hash: number, value: V): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = homeSlot(hash) & mask;
    while (keys[i] !== undefined) i = (i + 1) & mask;
    keys[i] = key;
    this.values_[i] = value;
    this.hashes[i] = hash;
  }

  private grow(): void {
    const { keys, values_: values, hashes } = this;
    const capacity = keys.length * 2;
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.values_ = new Array<V | undefined>(capacity).fill(undefined);
    this.hashes = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== undefined) this.place(keys[i]!, hashes[i]!, values[i]!);
  }
}
