/**
 * What every kind of LMDB state handle (point-state.ts, list-state.ts, map-state.ts) reads and
 * writes through: the current key, the cache of deserialized entries (point-cache.ts) in front of
 * the write-back buffer (write-buffer.ts) and LMDB, and the read-work counter tests bound.
 */
import type { Database } from 'lmdb';
import type { Clock } from '../backend.ts';
import { keyId, ownKey, ownKeyId, smallIntegerKey, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import { encodePart, stateKeyPrefix, type KeyPart } from '../layout.ts';
import type { DELETED, StateTable, Stored } from './layers.ts';
import { isDirty, isLive, REFERENCED, type CachedPoint, type PointCache } from './point-cache.ts';
import type { WriteBuffer } from './write-buffer.ts';
import { currentKeyHash, keyIdHash } from '../key-table.ts';

/** Dirty cache entries allowed, in batches of flushEvery (see tick). */
const MAX_DIRTY_BATCHES = 2;
/**
 * Dirty entries written back per cached write at most, past the bound: a backend whose cache stopped
 * being its whole state (see tick) catches up over the records that follow, not in one stall.
 */
const CATCH_UP_PER_WRITE = 1024;

/** Keys the LMDB backend hashed itself, in this thread: not a string or number key with its carried keyGroupHash (tests). */
export const lmdbKeyHashes = { count: 0 };

export class StateAccess {
  key: StateKey = '';
  id: KeyId = '';
  /** keyIdHash(id), for the cache tables: the hash the exchange carried, or computed once per key. */
  hash = keyIdHash('');
  keyGroup = 0;
  /** Bumped by every setCurrentKey (and restore): tells whether a table's `last` entry is the current key's. */
  epoch = 0;
  /**
   * Read work done for state handles, for tests that bound the work per record: LMDB gets, entries
   * read by range scans, and buffered map or list entries replayed over them.
   */
  readWork = 0;
  /** Next list element seq, backend-wide (carried in snapshot handles). */
  nextSeq = 0;
  readonly maxDirty: number;
  /** Cached writes since the TTL sweep last ran (the sweep otherwise runs with every batch). */
  private ticks = 0;

  constructor(
    readonly db: Database<Stored, KeyPart[]>,
    readonly clock: Clock,
    readonly cache: PointCache<StateTable>,
    readonly buffer: WriteBuffer,
    private readonly ttlTables: readonly StateTable[],
    /** Whether dirty entries may wait in the cache unbounded (the backend's cache is its whole state: see tick). */
    private readonly cacheIsTheState: () => boolean = () => false,
  ) {
    this.maxDirty = MAX_DIRTY_BATCHES * buffer.flushEvery;
  }

  setCurrentKey(k: StateKey, keyGroup: number, keyHash?: number): void {
    const key = smallIntegerKey(k);
    this.key = key;
    const id = typeof key === 'object' ? keyId(key) : key;
    this.id = id;
    this.hash = currentKeyHash(key, id, keyHash, lmdbKeyHashes);
    this.keyGroup = keyGroup;
    this.epoch++;
  }

  /** The LMDB key prefix of state `name` for the current key. */
  currentPrefix(name: string): KeyPart[] {
    const k = this.key;
    return typeof k === 'object' ? stateKeyPrefix(this.keyGroup, name, k) : [this.keyGroup, name, 0, encodePart(k)];
  }

  /**
   * The current key's cache entry, if cached. A miss is remembered too (`last` undefined for this
   * epoch): a new key's read, then its write, probe the table once (entries are only added by
   * `insert`, which sets `last`).
   */
  cachedPoint(t: StateTable): CachedPoint | undefined {
    if (t.lastEpoch === this.epoch) {
      const l = t.last;
      if (l === undefined) return undefined;
      if (isLive(l)) {
        l.bits |= REFERENCED;
        return l;
      }
    }
    const e = t.cache.get(this.id, this.hash);
    t.last = e;
    t.lastEpoch = this.epoch;
    if (e === undefined) return undefined;
    e.bits |= REFERENCED;
    return e;
  }

  /**
   * Whether the current key of `t` was never written back, so has nothing in the layers or LMDB
   * (key-filter.ts): then a key without a value needs no cache entry (absent = no value), as in
   * the heap backend, and the cache does not fill up with deleted keys (closed windows, expired
   * auctions).
   */
  nothingBelow(t: StateTable): boolean {
    return !t.lmdbKeys.mightHave(this.id);
  }

  /** Drops the current key's entry `e` of `t` (its key has nothing below: see nothingBelow). */
  drop(t: StateTable, e: CachedPoint): void {
    this.cache.remove(t, e, this.id, this.hash);
    if (t.last === e) t.last = undefined;
    t.lastEpoch = -1;
  }

  /** Caches `stored` as the current key's entry of `t`. */
  insert(t: StateTable, stored: Stored | typeof DELETED, dirty: boolean, weight = 1): CachedPoint {
    // The cache keeps its own copy of the key's strings (ownKey in key-codec.ts).
    const key = ownKey(this.key);
    const n = this.cache.insert(t, ownKeyId(key, this.id), this.hash, this.keyGroup, key, stored, dirty, weight);
    t.last = n;
    t.lastEpoch = this.epoch;
    return n;
  }

  /** After a cached collection (map, list) changed: dirty, weighing `weight`. */
  changed(e: CachedPoint, weight: number): void {
    if (!isDirty(e)) this.cache.markDirty(e);
    this.cache.reweigh(e, weight);
    this.tick();
  }

  /**
   * After every cached write. Past MAX_DIRTY_BATCHES * flushEvery dirty entries, the oldest are
   * written back (up to flushEvery of them, CATCH_UP_PER_WRITE at a time), so a snapshot through
   * LMDB encodes at most that many at the barrier. Not while the cache is the whole state
   * (nothing was sent to LMDB, and the snapshot comes from the cache, which encodes nothing at the
   * barrier for values only ever replaced): then a key, however often written, reaches LMDB only
   * when evicted or from the first snapshot's bytes (LmdbKeyedStateBackend.snapshot), as a
   * memtable's rows reach the disk on a flush. Cached writes do not make batches otherwise; the
   * TTL sweep still goes on every `flushEvery` of them.
   */
  tick(): void {
    const c = this.cache;
    const b = this.buffer;
    const dirty = c.dirtyCount;
    if (dirty > this.maxDirty && !this.cacheIsTheState()) c.writeBackOldest(Math.max(this.maxDirty - b.flushEvery, dirty - CATCH_UP_PER_WRITE), (t, e) => b.writeBackCached(t, e));
    if (++this.ticks < b.flushEvery) return;
    this.ticks = 0;
    if (this.ttlTables.length > 0) b.sendBatch(true);
  }

  /** Puts every dirty cached value into the current layer (one batch, however many). */
  writeBackAll(): void {
    const b = this.buffer;
    this.cache.writeBackAll((t, e) => b.writeBack(t, e, false));
  }
}
