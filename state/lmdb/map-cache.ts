/**
 * The LMDB backend's cache of map state: per (state, key) the user keys read or written since the
 * key was cached, with their values (deserialized, the state's own objects), in front of the
 * write-back layers and LMDB. It lives in the backend's PointCache (the entry's `stored` is a
 * CachedMap, its weight 1 + the user keys it holds), so maps and values share one bound and one
 * eviction.
 *
 * - `get` of a user key not yet known reads it once (layers, then LMDB) and remembers it, present
 *   or absent; `put` and `remove` only change the cached map and note the user key as changed.
 * - The first `entries()`, `keys()` or `isEmpty()` loads the whole map once (`complete`); after
 *   that they are answered from the cache alone.
 * - A hot key's map never reaches LMDB between checkpoints: its changes are written back as one
 *   PendingMap (the layer format) when it is evicted, when too many entries are dirty, and at
 *   snapshot and flush.
 * - Order: `entries()` is in user-key order (compareKeys, as LMDB). User keys put in increasing
 *   order (window ends, timestamps) keep the cached map sorted; otherwise it is sorted once at the
 *   next `entries()`, not on every call.
 *
 * Invariant (as for values): what the cache knows of a user key is newer than the layers and LMDB.
 */
import { compareKeys, ownKey, ownKeyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import { DELETED, type Layer, type Stored } from './layers.ts';

export interface KnownEntry {
  uk: StateKey;
  stored: Stored | typeof DELETED;
  /**
   * Put since the last write-back while absent below (the layers and LMDB do not have it): removing
   * it again forgets it at once, with nothing to write back. Without this, a map used as a time
   * index (a join's buckets, put and removed by the watermark) kept a deleted entry per bucket ever
   * seen until the next checkpoint, and every `keys()` walked them all.
   */
  fresh?: boolean;
  /** Written since the last write-back (listed in CachedMap.changedIds). */
  changed?: boolean;
}

export class CachedMap {
  /** User keys known: present (stored) or absent (DELETED). */
  known = new Map<KeyId, KnownEntry>();
  /** Whether `known` covers every user key of the map (an unknown user key is absent). */
  complete: boolean;
  /**
   * User keys written since the last write-back, once each while their entry's `changed` is set (a
   * flag and a list, not a Set: a write to a hot map costs no second hash table insert). An id may
   * be listed twice when its entry was replaced; the flag makes the write-back take it once.
   */
  private changedIds: KeyId[] = [];
  /** The map was cleared since the last write-back: what is below goes. */
  cleared = false;
  /** While complete: the present entries of `known` are in user-key order, the greatest is `last`. */
  sorted = true;
  private last: StateKey | undefined;
  /** Present entries in `known` (while complete: the map's size). */
  present = 0;

  constructor(complete: boolean) {
    this.complete = complete;
  }

  /** Sets a known user key (read from below: not changed). */
  learn(id: KeyId, uk: StateKey, stored: Stored | typeof DELETED): void {
    this.known.set(id, { uk, stored });
    if (stored !== DELETED) this.present++;
  }

  write(id: KeyId, uk: StateKey, stored: Stored | typeof DELETED): void {
    const e = this.known.get(id);
    // Removing a user key a complete map does not have changes nothing.
    if (e === undefined && stored === DELETED && this.complete) return;
    // A user key that is absent below: unknown to a complete map, or learned absent and not
    // changed since (a deletion not yet written back may still have something below to delete).
    let fresh = e === undefined ? this.complete : e.stored === DELETED && e.changed !== true;
    if (e !== undefined) {
      if (e.stored !== DELETED) {
        if (stored !== DELETED) {
          this.mark(id, e);
          e.stored = stored;
          return;
        }
        this.present--;
        if (e.fresh === true) {
          // Put and removed since the last write-back: below never had it.
          this.known.delete(id);
          e.changed = false;
          return;
        }
        this.mark(id, e);
        e.stored = DELETED;
        return;
      }
      if (stored === DELETED) return;
      // Absent before: moved to the end, where a new user key goes.
      this.known.delete(id);
    }
    if (this.cleared) fresh = true;
    // A new user key: the cache keeps its own copy of its strings (ownKey in key-codec.ts).
    const own = ownKey(uk);
    const ownId = ownKeyId(own, id);
    this.changedIds.push(ownId);
    if (stored === DELETED) {
      this.known.set(ownId, { uk: own, stored, changed: true });
      return;
    }
    this.known.set(ownId, { uk: own, stored, fresh, changed: true });
    this.present++;
    if (this.sorted) {
      if (this.last === undefined || compareKeys(own, this.last) > 0) this.last = own;
      else this.sorted = false;
    }
  }

  private mark(id: KeyId, e: KnownEntry): void {
    if (e.changed === true) return;
    e.changed = true;
    this.changedIds.push(id);
  }

  clear(): void {
    this.known = new Map();
    this.complete = true;
    this.changedIds = [];
    this.cleared = true;
    this.sorted = true;
    this.last = undefined;
    this.present = 0;
  }

  /**
   * Makes the map complete: `below` is the map as the layers and LMDB hold it, in user-key order;
   * what the cache knows is newer and wins.
   */
  complete_(below: Iterable<[KeyId, StateKey, Stored]>): void {
    const merged = new Map<KeyId, KnownEntry>();
    let extra = false;
    for (const [id, uk, stored] of below) if (!this.known.has(id)) merged.set(id, { uk, stored });
    const absent: [KeyId, KnownEntry][] = [];
    for (const [id, e] of this.known) {
      if (e.stored === DELETED) {
        // Kept while it must still be written back; otherwise absence is implied now.
        if (e.changed === true) absent.push([id, e]);
        continue;
      }
      merged.set(id, e);
      extra = true;
    }
    this.known = merged;
    this.complete = true;
    this.sorted = !extra;
    this.present = merged.size;
    this.last = undefined;
    if (extra) this.sort();
    else for (const e of merged.values()) this.last = e.uk;
    for (const [id, e] of absent) this.known.set(id, e);
  }

  /** Orders `known` by user key (present entries first, in order; absent ones after). */
  sort(): void {
    if (this.sorted) return;
    const present: [KeyId, KnownEntry][] = [];
    const absent: [KeyId, KnownEntry][] = [];
    for (const kv of this.known) (kv[1].stored === DELETED ? absent : present).push(kv);
    present.sort((a, b) => compareKeys(a[1].uk, b[1].uk));
    this.known = new Map(present);
    for (const kv of absent) this.known.set(kv[0], kv[1]);
    this.sorted = true;
    this.last = present.length > 0 ? present[present.length - 1]![1].uk : undefined;
  }

  /**
   * Puts the changes since the last write-back into `layer` (merged with what it already holds for
   * this key) and forgets them; returns the number of writes it added. A complete map then drops
   * its absent user keys (absence is implied).
   */
  writeBack(layer: Layer, id: KeyId, kg: number, key: StateKey): number {
    let m = layer.maps.get(id);
    if (m === undefined) {
      m = { kg, key, cleared: false, puts: new Map() };
      layer.maps.set(id, m);
    }
    let n = 0;
    if (this.cleared) {
      m.cleared = true;
      m.puts.clear();
      n++;
    }
    for (const ukId of this.changedIds) {
      const e = this.known.get(ukId);
      // A user key dropped from `known` while changed can only be an absent one of a map that was
      // made complete after a clear (nothing to delete below the clear), or one put and removed
      // while fresh (never below).
      if (e === undefined || e.changed !== true) continue;
      e.changed = false;
      m.puts.set(ukId, { uk: e.uk, stored: e.stored });
      e.fresh = false;
      n++;
    }
    this.changedIds = [];
    this.cleared = false;
    if (this.complete && this.present < this.known.size) {
      for (const [ukId, e] of this.known) if (e.stored === DELETED) this.known.delete(ukId);
    }
    return n;
  }
}
