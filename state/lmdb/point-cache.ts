/**
 * The LMDB backend's cache of deserialized values of single-value states (value, reducing,
 * aggregating), in front of the write-back layers and LMDB. A hit costs one table lookup
 * (key-table.ts): no key encoding, no LMDB read, no msgpack decode. Writes change the cached entry
 * and mark it dirty; a dirty entry reaches LMDB only when it is evicted or when the backend writes
 * every dirty entry back (snapshot, flush), so a key updated a thousand times between checkpoints
 * is encoded and written once.
 *
 * Bounded by entry count over all states of the backend (state larger than the cache spills to
 * LMDB). Eviction is CLOCK over each state's table (a hand over its slots, KeyTable.sweep): a read
 * or write marks the entry REFERENCED; the sweep gives referenced entries a second chance (clears
 * the mark and passes them) and evicts the others, writing dirty ones back through `onEvictDirty`.
 * It evicts a sixteenth of the capacity at a time, from each state in proportion to its size.
 *
 * The backend also writes back the entries dirty the longest once too many are dirty, which bounds
 * what a snapshot has to encode at the barrier.
 *
 * Invariant: an entry, when present, holds the current value of its key (DELETED when it has none),
 * newer than anything in the layers or LMDB.
 */
import { getHeapStatistics } from 'node:v8';
import { keyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import type { DELETED, Stored } from './layers.ts';
import { Sweep, type KeyTable } from '../key-table.ts';

export interface CachedPoint {
  /** The key, owned by the cache (its table id is keyId(key): the key itself unless a tuple). */
  readonly key: StateKey;
  /** As stored in LMDB ([expiresAt, value] with TTL), or DELETED: the key has no value. */
  stored: Stored | typeof DELETED;
  /**
   * The entry's marks (DIRTY, REFERENCED, EVICTED: the low bits), its key group and its state's
   * index in the cache, as one small integer: an entry per cached key, and three fields of their
   * own were 24 bytes a key (read with isDirty/isLive, entryKeyGroup, PointCache.ownerOf).
   */
  bits: number;
  /** What the entry counts against the capacity: 1 for a value, 1 + its elements for a cached map or list. */
  weight: number;
  /**
   * Snapshots taken from the cache alone (cache-snapshot.ts) only: which one wrote this entry last
   * (-1: none) and at which offset of its file, so that the next one copies the key from there
   * instead of encoding it, and the whole entry when `stored` is still `recordOf`.
   */
  recordGen: number;
  recordAt: number;
  /** The immutable stored value written at `recordAt`, or a symbol (an object: only the key is reused). */
  recordOf: unknown;
  /**
   * The write batch that holds this entry's value without a layer entry (WriteBuffer.writeBackCached;
   * 0: none). If the entry is evicted clean before that batch commits, `onEvictSent` puts the value
   * into a layer so reads still find it.
   */
  sentGen: number;
}

/** Changed since written back (a mark of CachedPoint.bits). */
export const DIRTY = 1;
/** Read or written since the eviction's hand last passed (its second chance). */
export const REFERENCED = 2;
/** Evicted: no longer the key's entry (a write-back after that is a bug the backend must not make). */
export const EVICTED = 4;
/** CachedPoint.bits: the marks, then the key group (below 32768: validate.ts bounds max parallelism), then the state's index. */
const MARKS = 7;
const KEY_GROUP_SHIFT = 3;
const KEY_GROUP_MASK = 0x7fff;
const OWNER_SHIFT = 18;
/** States a cache can hold (the owner index's bits: bits stays a small integer). */
export const MAX_CACHE_OWNERS = 1 << 12;

export function isDirty(e: CachedPoint): boolean {
  return (e.bits & DIRTY) !== 0;
}

export function isLive(e: CachedPoint): boolean {
  return (e.bits & EVICTED) === 0;
}

/** Dirty and not evicted: its value still has to be written back. */
export function needsWriteBack(e: CachedPoint): boolean {
  return (e.bits & (DIRTY | EVICTED)) === DIRTY;
}

/** The key group of the entry's key. */
export function entryKeyGroup(e: CachedPoint): number {
  return (e.bits >>> KEY_GROUP_SHIFT) & KEY_GROUP_MASK;
}

/** The index of the entry's state among its cache's owners (CacheOwner.cacheIndex). */
export function entryOwnerIndex(e: CachedPoint): number {
  return e.bits >>> OWNER_SHIFT;
}

/** The id the entry's table and the write-back layers know its key by. */
export function entryId(e: CachedPoint): KeyId {
  return keyId(e.key);
}

/** Sets the entry's marks to `marks`, keeping its key group and state. */
function setMarks(e: CachedPoint, marks: number): void {
  e.bits = (e.bits & ~MARKS) | marks;
}

export interface CacheOwner {
  readonly cache: KeyTable<CachedPoint>;
  /** Its index among the cache's owners (PointCache.register sets it). */
  cacheIndex: number;
}

/**
 * Default capacity: a sixteenth of the heap limit at 256 bytes per entry, at least 10k and at most
 * 1M entries (Node's default 4 GiB heap: 1M; --max-old-space-size=96: about 37k). Measured: a
 * small object value with a short string key costs about 450 bytes of heap with everything that
 * refers to it, so the cache takes at most about a ninth of the heap. (The three record fields for
 * cache snapshots add 24 bytes an entry; the last cache snapshot's bytes kept with them are at
 * most 16 MiB, and only while the cache holds at most 2 x flushEvery entries.)
 */
export function defaultCacheEntries(): number {
  const limit = getHeapStatistics().heap_size_limit;
  return Math.max(10_000, Math.min(1_000_000, Math.floor(limit / 16 / 256)));
}

export class PointCache<T extends CacheOwner> {
  private count = 0;
  /** Entries made dirty since the last writeBackAll (some since evicted: `live` false). */
  private dirtyList: CachedPoint[] = [];
  /** Entries of dirtyList before this one have been written back or evicted (or listed again later). */
  private head = 0;
  /** Live dirty entries. */
  private dirty = 0;
  private readonly owners: T[] = [];

  constructor(
    readonly capacity: number,
    private readonly onEvictDirty: (t: T, e: CachedPoint) => void,
    /** A clean entry with `sentGen` set is evicted (see CachedPoint.sentGen). */
    private readonly onEvictSent: (t: T, e: CachedPoint) => void = () => {},
  ) {}

  get size(): number {
    return this.count;
  }

  get dirtyCount(): number {
    return this.dirty;
  }

  register(t: T): void {
    if (this.owners.length >= MAX_CACHE_OWNERS) throw new Error(`the LMDB state backend holds more than ${MAX_CACHE_OWNERS} states in one operator: keep fewer state descriptors (a map state can hold many values per key)`);
    t.cacheIndex = this.owners.length;
    this.owners.push(t);
  }

  /** The state `e` belongs to. */
  ownerOf(e: CachedPoint): T {
    return this.owners[entryOwnerIndex(e)]!;
  }

  /** Adds an entry for a key not in `t.cache` (evicting first if full). */
  insert(t: T, id: KeyId, hash: number, kg: number, key: StateKey, stored: Stored | typeof DELETED, dirty: boolean, weight = 1): CachedPoint {
    if (this.count >= this.capacity) this.evict();
    const bits = (t.cacheIndex << OWNER_SHIFT) | (kg << KEY_GROUP_SHIFT);
    const e: CachedPoint = { key, stored, bits, weight, recordGen: -1, recordAt: 0, recordOf: undefined, sentGen: 0 };
    t.cache.add(id, hash, e);
    this.count += weight;
    if (dirty) this.markDirty(e);
    return e;
  }

  /**
   * Changes the weight of a live entry (a cached map or list grew or shrank). Call it when the
   * operation on the entry is done: it may evict, and an evicted entry must not be changed again.
   */
  reweigh(e: CachedPoint, weight: number): void {
    if (!isLive(e)) return;
    this.count += weight - e.weight;
    e.weight = weight;
    if (this.count > this.capacity) this.evict();
  }

  /**
   * Drops a live entry whose key has nothing below the cache (its value or absence needs no
   * write-back). `id`, `hash`: entryId(e) and keyIdHash of it, which the caller has (the current
   * key's; an entry keeps neither).
   */
  remove(t: T, e: CachedPoint, id: KeyId, hash: number): void {
    if (!isLive(e)) return;
    t.cache.delete(id, hash);
    if (isDirty(e)) this.dirty--;
    setMarks(e, EVICTED);
    this.count -= e.weight;
    e.stored = undefined;
    e.recordOf = undefined;
  }

  markDirty(e: CachedPoint): void {
    if (isDirty(e)) return;
    e.bits |= DIRTY;
    this.dirty++;
    const list = this.dirtyList;
    list.push(e);
    // Evicted entries stay listed until the next writeBackAll; without checkpoints that would grow
    // without bound, so they are dropped whenever they are half the list (amortized O(1)).
    if (list.length - this.head > 2 * this.dirty + 1024) this.compact();
  }

  /** A dirty entry whose value LMDB now gets by other means (a snapshot's bytes): clean, still cached. */
  markClean(e: CachedPoint): void {
    if (!isDirty(e)) return;
    e.bits &= ~DIRTY;
    this.dirty--;
  }

  private compact(): void {
    this.dirtyList = this.dirtyList.slice(this.head).filter(needsWriteBack);
    this.head = 0;
  }

  /** Writes back the entries dirty the longest until at most `keep` are dirty (they stay cached, clean). */
  writeBackOldest(keep: number, write: (t: T, e: CachedPoint) => void): void {
    const list = this.dirtyList;
    let i = this.head;
    while (this.dirty > keep && i < list.length) {
      const e = list[i++]!;
      if (!needsWriteBack(e)) continue;
      e.bits &= ~DIRTY;
      this.dirty--;
      write(this.ownerOf(e), e);
    }
    this.head = i;
    if (i > 1024 && i > list.length >> 1) this.compact();
  }

  /** Calls `write` for every dirty entry (and marks it clean); entries stay cached. */
  writeBackAll(write: (t: T, e: CachedPoint) => void): number {
    const list = this.dirtyList;
    const from = this.head;
    this.dirtyList = [];
    this.head = 0;
    this.dirty = 0;
    let n = 0;
    for (let i = from; i < list.length; i++) {
      const e = list[i]!;
      if (!needsWriteBack(e)) continue;
      e.bits &= ~DIRTY;
      write(this.ownerOf(e), e);
      n++;
    }
    return n;
  }

  /** Drops every entry (after a restore wrote LMDB directly). Dirty entries are lost: callers write back first. */
  clear(): void {
    for (const t of this.owners) t.cache.clear();
    this.count = 0;
    this.dirtyList = [];
    this.head = 0;
    this.dirty = 0;
  }

  private evict(): void {
    const total = this.count;
    const excess = Math.max(1, this.capacity >> 4);
    for (const t of this.owners) {
      const size = t.cache.size;
      if (size === 0) continue;
      // By entry count per state (weights differ between states; this only spreads the sweep).
      this.evictFrom(t, Math.ceil((excess * size) / Math.max(1, total)));
    }
  }

  private evictFrom(t: T, n: number): void {
    let removed = 0;
    // Each entry gets at most one second chance per sweep, so this ends after size + n visits.
    let chances = t.cache.size;
    t.cache.sweep((e) => {
      if (removed >= n) return Sweep.Stop;
      if ((e.bits & REFERENCED) !== 0 && chances-- > 0) {
        e.bits &= ~REFERENCED;
        return Sweep.Keep;
      }
      const dirty = isDirty(e);
      setMarks(e, EVICTED);
      removed += e.weight;
      if (dirty) {
        this.dirty--;
        this.onEvictDirty(t, e);
        e.stored = undefined; // the layer holds it now; a listed dead entry must not keep it alive
      } else if (e.sentGen > 0) {
        this.onEvictSent(t, e);
      }
      e.recordOf = undefined;
      return Sweep.Remove;
    }, t.cache.size + n);
    this.count -= removed;
  }
}
