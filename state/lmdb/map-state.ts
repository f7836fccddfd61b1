/**
 * Map state of the LMDB backend: one LMDB entry per user key (so a whole map is a range scan in
 * user-key order), and in front of it one cache entry per key (map-cache.ts) that knows some or
 * all of the map's user keys; writes change only the cache until it is written back.
 */
import { serializerOf, type MapStateDescriptor } from '../descriptors.ts';
import type { MapState } from '../handles.ts';
import { compareKeys, keyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import { prefixRange, pushKey, readKey } from '../layout.ts';
import { copyIn, copyOut } from '../value-serializer.ts';
import { DELETED, type StateTable, type Stored } from './layers.ts';
import { CachedMap, type KnownEntry } from './map-cache.ts';
import type { CachedPoint } from './point-cache.ts';
import type { StateAccess } from './state-access.ts';

/** A map state of at most this many entries in LMDB is loaded whole when its key is cached. */
const SMALL_MAP = 64;

/** The current key's cached map, created (knowing nothing yet) on a miss. */
function mapEntry(a: StateAccess, t: StateTable): CachedPoint {
  const e = a.cachedPoint(t);
  if (e !== undefined) return e;
  // A small map is loaded whole at once (one range scan): then user keys it does not have (a
  // window's next pane, a join's next timestamp) are answered without reading LMDB.
  const cm = new CachedMap(false);
  if (!t.lmdbKeys.mightHave(a.id)) {
    // Never written back: the map is whatever the layers hold, and they hold nothing of a key never written back.
    cm.complete_([]);
    return a.insert(t, cm, false, 1);
  }
  const prefix = a.currentPrefix(t.name);
  let small = 0;
  for (const _ of a.db.getKeys({ ...prefixRange(prefix), limit: SMALL_MAP + 1 } as never)) small++;
  a.readWork += small;
  if (small <= SMALL_MAP) cm.complete_(mapBelow(a, t));
  return a.insert(t, cm, false, 1 + cm.known.size);
}

/** A user key's value as the layers and LMDB hold it (DELETED when absent), TTL not applied. */
function mapStoredBelow(a: StateAccess, t: StateTable, uk: StateKey, ukId: KeyId): Stored | typeof DELETED {
  for (let i = t.layers.length - 1; i >= 0; i--) {
    const m = t.layers[i]!.maps.get(a.id);
    if (m === undefined) continue;
    a.readWork++;
    const e = m.puts.get(ukId);
    if (e !== undefined) return e.stored;
    if (m.cleared) return DELETED;
  }
  a.readWork++;
  const stored = a.db.get(pushKey(a.currentPrefix(t.name), uk));
  return stored === undefined ? DELETED : stored;
}

/** The current key's whole map as the layers and LMDB hold it, in user-key order. */
function mapBelow(a: StateAccess, t: StateTable): [KeyId, StateKey, Stored][] {
  const prefix = a.currentPrefix(t.name);
  const at = prefix.length;
  const found: [KeyId, StateKey, Stored][] = [];
  for (const { key, value } of a.db.getRange(prefixRange(prefix))) {
    const uk = readKey(key as unknown[], at)[0];
    found.push([keyId(uk), uk, value]);
  }
  a.readWork += found.length;
  if (!t.layers.some((l) => l.maps.has(a.id))) return found;
  // Replay the buffered layers over LMDB's entries, then order by user key.
  const merged = new Map<KeyId, [KeyId, StateKey, Stored]>();
  for (const e of found) merged.set(e[0], e);
  for (const layer of t.layers) {
    const m = layer.maps.get(a.id);
    if (m === undefined) continue;
    if (m.cleared) merged.clear();
    a.readWork += m.puts.size;
    for (const [id, e] of m.puts) {
      if (e.stored === DELETED) merged.delete(id);
      else merged.set(id, [id, e.uk, e.stored]);
    }
  }
  return [...merged.values()].sort((x, y) => compareKeys(x[1], y[1]));
}

/**
 * Writes a user key of the current key's map (DELETED removes it). A write needs nothing from
 * below, so a key not cached yet (and written back before) starts knowing nothing instead of probing LMDB for a small map
 * (a temporal join's dimension rows are written once per key and read at the first fact: one
 * range scan then, not one more per row written).
 */
function mapWrite(a: StateAccess, t: StateTable, uk: StateKey, stored: Stored | typeof DELETED): void {
  // A key never written back has no map below: its cached map is complete from the start, so a
  // later get of a user key it does not have (a window's next pane) reads nothing below either.
  const e = a.cachedPoint(t) ?? a.insert(t, new CachedMap(a.nothingBelow(t)), false, 1);
  const cm = e.stored as CachedMap;
  cm.write(keyId(uk), uk, stored);
  a.changed(e, 1 + cm.known.size);
}

/** Unwraps a stored map value (TTL), or undefined if expired (then removes it). */
function liveMapValue(a: StateAccess, t: StateTable, uk: StateKey, stored: Stored): unknown {
  const ttl = t.ttl;
  if (ttl === undefined) return stored;
  const w = stored as [number, unknown];
  const now = a.clock.now();
  if (w[0] <= now) {
    mapWrite(a, t, uk, DELETED);
    return undefined;
  }
  if (ttl.update === 'on-read-and-write') mapWrite(a, t, uk, [now + ttl.ttlMs, w[1]]);
  return w[1];
}

/** Whether the current key has no map: nothing cached and nothing below (then no entry is made for it). */
function noMap(a: StateAccess, t: StateTable): boolean {
  // The cache first: a cached map is the common case, and a hit costs no key filter probe.
  return a.cachedPoint(t) === undefined && a.nothingBelow(t);
}

function mapGet(a: StateAccess, t: StateTable, uk: StateKey): unknown {
  if (noMap(a, t)) return undefined;
  const e = mapEntry(a, t);
  const cm = e.stored as CachedMap;
  const ukId = keyId(uk);
  let k = cm.known.get(ukId);
  if (k === undefined) {
    if (cm.complete) return undefined;
    cm.learn(ukId, uk, mapStoredBelow(a, t, uk, ukId));
    k = cm.known.get(ukId)!;
    a.cache.reweigh(e, 1 + cm.known.size);
  }
  const stored = k.stored;
  if (stored === DELETED) return undefined;
  const v = liveMapValue(a, t, uk, stored);
  // The cached object is the state's own: hand out a copy.
  return v === undefined ? undefined : copyOut(t.serializer, v);
}

/** The current key's cached map, complete and in user-key order. */
function completeMap(a: StateAccess, t: StateTable): CachedMap {
  const e = mapEntry(a, t);
  const cm = e.stored as CachedMap;
  if (!cm.complete) {
    cm.complete_(mapBelow(a, t));
    a.cache.reweigh(e, 1 + cm.known.size);
  }
  cm.sort();
  return cm;
}

/** Live entries of the current key's map, in user-key order. */
function* mapEntries(a: StateAccess, t: StateTable): IterableIterator<[StateKey, unknown]> {
  if (noMap(a, t)) return;
  const cm = completeMap(a, t);
  const entries: [StateKey, Stored][] = [];
  for (const e of cm.known.values()) if (e.stored !== DELETED) entries.push([e.uk, e.stored]);
  const ser = t.serializer;
  for (const [uk, s] of entries) {
    const v = liveMapValue(a, t, uk, s);
    if (v !== undefined) yield [uk, copyOut(ser, v)];
  }
}

/** Live user keys of the current key's map, in user-key order; values are not copied (a join's time index). */
function* mapKeys(a: StateAccess, t: StateTable): IterableIterator<StateKey> {
  if (noMap(a, t)) return;
  const cm = completeMap(a, t);
  const present: KnownEntry[] = [];
  for (const e of cm.known.values()) if (e.stored !== DELETED) present.push(e);
  for (const e of present) if (t.ttl === undefined || liveMapValue(a, t, e.uk, e.stored) !== undefined) yield e.uk;
}

/**
 * Called per record by operators that keep a map per key (a window's accumulators), so it must
 * not cost the size of the map: a present user key the cache knows answers at once (merging and
 * sorting the whole map here made Nexmark q5 on LMDB quadratic, 2k events/s at p1).
 */
function mapIsEmpty(a: StateAccess, t: StateTable): boolean {
  if (noMap(a, t)) return true;
  const e = mapEntry(a, t);
  let cm = e.stored as CachedMap;
  if (cm.present > 0 && t.ttl === undefined) return false;
  if (!cm.complete) cm = completeMap(a, t);
  if (cm.present === 0) return true;
  if (t.ttl === undefined) return false;
  const present: KnownEntry[] = [];
  for (const k of cm.known.values()) if (k.stored !== DELETED) present.push(k);
  for (const k of present) if (liveMapValue(a, t, k.uk, k.stored) !== undefined) return false;
  return true;
}

export function mapState<UK extends StateKey, UV>(a: StateAccess, t: StateTable, d: MapStateDescriptor<UK, UV>, uid: string): MapState<UK, UV> {
  const ser = serializerOf<UV>(d);
  return {
    get: (k: UK) => mapGet(a, t, k) as UV | undefined,
    put: (k: UK, v: UV) => {
      const c = copyIn(ser, v, uid, d.name);
      mapWrite(a, t, k, t.ttl === undefined ? c : [a.clock.now() + t.ttl.ttlMs, c]);
    },
    remove: (k: UK) => mapWrite(a, t, k, DELETED),
    contains: (k: UK) => mapGet(a, t, k) !== undefined,
    entries: () => mapEntries(a, t) as IterableIterator<[UK, UV]>,
    keys: () => mapKeys(a, t) as IterableIterator<UK>,
    isEmpty: () => mapIsEmpty(a, t),
    clear: () => {
      if (a.nothingBelow(t)) {
        // Nothing to delete below: an absent map is an empty one (no entry kept, as in the heap backend).
        const c = a.cachedPoint(t);
        if (c !== undefined) a.drop(t, c);
        return;
      }
      const e = mapEntry(a, t);
      const cm = e.stored as CachedMap;
      cm.clear();
      a.changed(e, 1 + cm.known.size);
    },
  };
}
