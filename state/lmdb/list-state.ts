/**
 * List state of the LMDB backend: one entry per element under (key, seq) in LMDB, seq a
 * backend-wide increasing counter, so `add` never rewrites the list; in front of it one cache entry
 * per key (list-cache.ts): `add` appends to the cache only, the first `get` reads below once.
 */
import { serializerOf, type ListStateDescriptor } from '../descriptors.ts';
import type { ListState } from '../handles.ts';
import { prefixRange } from '../layout.ts';
import { copyIn, copyOut } from '../value-serializer.ts';
import type { StateTable, Stored } from './layers.ts';
import { CachedList } from './list-cache.ts';
import type { CachedPoint } from './point-cache.ts';
import type { StateAccess } from './state-access.ts';

/** The current key's cached list, created (knowing nothing below) on a miss. */
function listEntry(a: StateAccess, t: StateTable): CachedPoint {
  return a.cachedPoint(t) ?? a.insert(t, new CachedList(false), false);
}

function listAdd(a: StateAccess, t: StateTable, stored: readonly Stored[], clear: boolean): void {
  if (clear && stored.length === 0 && a.nothingBelow(t)) {
    // Nothing to delete below: an absent list is an empty one (no entry kept, as in the heap backend).
    const c = a.cachedPoint(t);
    if (c !== undefined) a.drop(t, c);
    return;
  }
  const e = listEntry(a, t);
  const cl = e.stored as CachedList;
  if (clear) cl.clear();
  for (let i = 0; i < stored.length; i++) cl.add(stored[i]!, a.nextSeq++);
  a.changed(e, 1 + cl.elems.length);
}

/** listAdd of one element (the common `add`): no array made for it. */
function listAddOne(a: StateAccess, t: StateTable, stored: Stored): void {
  const e = listEntry(a, t);
  const cl = e.stored as CachedList;
  cl.add(stored, a.nextSeq++);
  a.changed(e, 1 + cl.elems.length);
}

/**
 * The elements the layers and LMDB hold for the current key, oldest first: LMDB's with every
 * buffered layer replayed on top. Replaying a layer LMDB already holds changes nothing: a clear
 * starts over and re-adds, an element whose seq is not above the last one present is already
 * there (seqs only grow).
 */
function listStored(a: StateAccess, t: StateTable): Stored[] {
  const seqs: number[] = [];
  const stored: Stored[] = [];
  // A key never written back has nothing in LMDB or the layers.
  if (!t.lmdbKeys.mightHave(a.id)) return stored;
  for (const { key, value } of a.db.getRange(prefixRange(a.currentPrefix(t.name)))) {
    a.readWork++;
    seqs.push((key as unknown[])[(key as unknown[]).length - 1] as number);
    stored.push(value);
  }
  for (const layer of t.layers) {
    const l = layer.lists.get(a.id);
    if (l === undefined) continue;
    a.readWork += l.seqs.length;
    if (l.cleared) {
      seqs.length = 0;
      stored.length = 0;
    }
    for (let i = 0; i < l.seqs.length; i++) {
      const s = l.seqs[i]!;
      if (seqs.length > 0 && s <= seqs[seqs.length - 1]!) continue;
      seqs.push(s);
      stored.push(l.added[i]);
    }
  }
  return stored;
}

function readList(a: StateAccess, t: StateTable): unknown[] {
  // Nothing cached and nothing below: empty, and no entry is made for it.
  if (a.cachedPoint(t) === undefined && a.nothingBelow(t)) return [];
  const e = listEntry(a, t);
  const cl = e.stored as CachedList;
  if (!cl.complete) {
    cl.load(listStored(a, t));
    a.cache.reweigh(e, 1 + cl.elems.length);
  }
  const stored = cl.elems;
  const ttl = t.ttl;
  const ser = t.serializer;
  // The cached elements are the state's own: hand out copies.
  if (ttl === undefined) return stored.map((v) => copyOut(ser, v));
  const now = a.clock.now();
  const live = stored.filter((s) => (s as [number, unknown])[0] > now);
  const values = live.map((s) => copyOut(ser, (s as [number, unknown])[1]));
  const refresh = ttl.update === 'on-read-and-write';
  if ((live.length < stored.length || refresh) && stored.length > 0) {
    // Rewrite: drop expired elements (and restart the clock of the others on read-and-write).
    listAdd(a, t, refresh ? live.map((s) => [now + ttl.ttlMs, (s as [number, unknown])[1]]) : live, true);
  }
  return values;
}

export function listState<T>(a: StateAccess, t: StateTable, d: ListStateDescriptor<T>, uid: string): ListState<T> {
  const ser = serializerOf<T>(d);
  const wrap = (v: T): Stored => {
    const c = copyIn(ser, v, uid, d.name);
    return t.ttl === undefined ? c : [a.clock.now() + t.ttl.ttlMs, c];
  };
  return {
    get: () => readList(a, t) as T[],
    add: (v: T) => listAddOne(a, t, wrap(v)),
    addAll: (vs: readonly T[]) => listAdd(a, t, vs.map(wrap), false),
    // all checked before the list changes
    update: (vs: readonly T[]) => listAdd(a, t, vs.map(wrap), true),
    clear: () => listAdd(a, t, [], true),
  };
}
