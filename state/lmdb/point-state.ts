/**
 * Value, reducing and aggregating state of the LMDB backend: one cached deserialized value per key
 * (point-cache.ts). Value semantics (value-serializer.ts), as in the heap backend: writes keep a
 * copy, reads hand out a copy (the cache's object never leaves the backend, so eviction changes
 * nothing a caller can see); the accumulator of reducing and aggregating state is the state's own
 * and only checked.
 */
import type { AggregatingStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor } from '../descriptors.ts';
import { serializerOf } from '../descriptors.ts';
import type { AggregatingState, ReducingState, ValueState } from '../handles.ts';
import { checkIn, copyIn, copyInReplacing, copyOut } from '../value-serializer.ts';
import { DELETED, type StateTable, type Stored } from './layers.ts';
import { isDirty, type CachedPoint } from './point-cache.ts';
import type { StateAccess } from './state-access.ts';

function loadPoint(a: StateAccess, t: StateTable): Stored | typeof DELETED {
  const ls = t.layers;
  for (let i = ls.length - 1; i >= 0; i--) {
    const p = ls[i]!.points.get(a.id);
    if (p !== undefined) return p.stored;
  }
  // A key never written back has nothing in LMDB (one hash instead of encoding a key and a read).
  if (!t.lmdbKeys.mightHave(a.id)) return DELETED;
  a.readWork++;
  const stored = a.db.get(a.currentPrefix(t.name));
  return stored === undefined ? DELETED : stored;
}

function readPoint(a: StateAccess, t: StateTable): unknown {
  let e = a.cachedPoint(t);
  if (e === undefined) {
    // A key with nothing below and nothing cached has no value: no entry is made for it.
    if (a.nothingBelow(t)) return undefined;
    e = a.insert(t, loadPoint(a, t), false);
  }
  const stored = e.stored;
  if (stored === DELETED) return undefined;
  const ttl = t.ttl;
  if (ttl === undefined) return stored;
  const w = stored as [number, unknown];
  const now = a.clock.now();
  if (w[0] <= now) {
    setPoint(a, t, e, DELETED);
    return undefined;
  }
  if (ttl.update === 'on-read-and-write') setPoint(a, t, e, [now + ttl.ttlMs, w[1]]);
  return w[1];
}

function setPoint(a: StateAccess, t: StateTable, e: CachedPoint, stored: Stored | typeof DELETED): void {
  if (stored === DELETED && a.nothingBelow(t)) {
    a.drop(t, e);
    return;
  }
  e.stored = stored;
  if (!isDirty(e)) a.cache.markDirty(e);
  a.tick();
}

/** The value cached in `e` (expired or not: only its identity is used), or undefined. */
function valueOf(t: StateTable, e: CachedPoint): unknown {
  if (e.stored === DELETED) return undefined;
  return t.ttl === undefined ? e.stored : (e.stored as [number, unknown])[1];
}

/** `e`: the current key's entry (a.cachedPoint(t)) when the caller has it (undefined looks again: the epoch remembers the miss). */
function writePoint(a: StateAccess, t: StateTable, value: unknown, e = a.cachedPoint(t)): void {
  writePointStored(a, t, t.ttl === undefined ? value : [a.clock.now() + t.ttl.ttlMs, value], e);
}

function writePointStored(a: StateAccess, t: StateTable, stored: Stored | typeof DELETED, e = a.cachedPoint(t)): void {
  if (e !== undefined) {
    setPoint(a, t, e, stored);
    return;
  }
  if (stored === DELETED && a.nothingBelow(t)) return;
  a.insert(t, stored, true);
  a.tick();
}

export function valueState<T>(a: StateAccess, t: StateTable, d: ValueStateDescriptor<T>, uid: string): ValueState<T> {
  const ser = serializerOf<T>(d);
  return {
    value: () => {
      const v = readPoint(a, t) as T | undefined;
      return v === undefined ? undefined : copyOut(ser, v);
    },
    update: (v: T) => {
      if (v === undefined) return writePointStored(a, t, DELETED);
      // One lookup of the current key's entry for the copy (against the value it replaces) and the write.
      const e = a.cachedPoint(t);
      writePoint(a, t, copyInReplacing(ser, v, ser.copyReplacing && e !== undefined ? (valueOf(t, e) as T | undefined) : undefined, uid, d.name), e);
    },
    clear: () => writePointStored(a, t, DELETED),
  };
}

export function reducingState<T>(a: StateAccess, t: StateTable, d: ReducingStateDescriptor<T>, uid: string): ReducingState<T> {
  const ser = serializerOf<T>(d);
  return {
    get: () => {
      const v = readPoint(a, t) as T | undefined;
      return v === undefined ? undefined : copyOut(ser, v);
    },
    add: (v: T) => {
      const cur = readPoint(a, t) as T | undefined;
      const c = copyIn(ser, v, uid, d.name);
      writePoint(a, t, cur === undefined ? c : checkIn(ser, d.reduce(cur, c), uid, d.name));
    },
    clear: () => writePointStored(a, t, DELETED),
  };
}

export function aggregatingState<IN, ACC, OUT>(a: StateAccess, t: StateTable, d: AggregatingStateDescriptor<IN, ACC, OUT>, uid: string): AggregatingState<IN, OUT> {
  const agg = d.aggregate;
  const ser = serializerOf<ACC>(d);
  return {
    get: () => {
      const acc = readPoint(a, t) as ACC | undefined;
      return acc === undefined ? undefined : agg.getResult(acc);
    },
    add: (v: IN) => {
      const acc = readPoint(a, t) as ACC | undefined;
      writePoint(a, t, checkIn(ser, agg.add(v, acc === undefined ? agg.createAccumulator() : acc), uid, d.name));
    },
    clear: () => writePointStored(a, t, DELETED),
  };
}
