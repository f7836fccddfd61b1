/** The write-back buffer of the LMDB backend: per state, one layer per write batch not yet in LMDB. */
import type { KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import type { StateTtlConfig } from '../descriptors.ts';
import { copyOut, valuesNeverChangedInPlace, type StateSerializer } from '../value-serializer.ts';
import { encodeKeyView, pushKey, readKey, stateKeyPrefix, StateKeyEncoder, type KeyPart } from '../layout.ts';
import { keyId } from '../key-codec.ts';
import type { WriteBatchBuilder } from './write-batch.ts';
import { isDirty, type CachedPoint } from './point-cache.ts';
import { KeyFilter } from './key-filter.ts';
import { KeyTable, keyIdHash } from '../key-table.ts';

export const DELETED = Symbol('deleted');
export type Stored = unknown;

export interface PendingPoint {
  kg: number;
  key: StateKey;
  stored: Stored | typeof DELETED;
}

export interface PendingList {
  kg: number;
  key: StateKey;
  /** Drop what is below this layer for this key before adding `added`. */
  cleared: boolean;
  seqs: number[];
  added: Stored[];
}

export interface PendingMap {
  kg: number;
  key: StateKey;
  cleared: boolean;
  puts: Map<KeyId, { uk: StateKey; stored: Stored | typeof DELETED }>;
}

/** The buffered writes of one state in one batch. */
export interface Layer {
  gen: number;
  points: Map<KeyId, PendingPoint>;
  lists: Map<KeyId, PendingList>;
  maps: Map<KeyId, PendingMap>;
}

export class StateTable {
  /** Oldest first; the last one is the current batch's if its gen is the backend's current gen. */
  layers: Layer[] = [];
  /**
   * Single-value states only: deserialized values in front of the layers (point-cache.ts). Swept
   * by the cache's eviction, so at most a quarter full once it evicts (see KeyTable's constructor).
   */
  readonly cache = new KeyTable<CachedPoint>(2, 4);
  /** Keys written back (so maybe in LMDB): a miss on another key does not read LMDB. */
  readonly lmdbKeys = new KeyFilter();
  /** The entry of the current key (undefined: not cached), valid while the backend's key epoch is `lastEpoch` (a read then a write looks up once). */
  last: CachedPoint | undefined;
  lastEpoch = -1;
  /** Its index among the cache's states (PointCache.register). */
  cacheIndex = -1;
  /** Encodes this state's point keys for write batches (the `[keyGroup, name]` part cached). */
  readonly keys: StateKeyEncoder;
  /**
   * A value or map state whose stored values are only ever replaced, never changed in place (its
   * serializer copies them, or shares them by contract): a cache snapshot keeps them as they are at
   * the barrier instead of encoding them there. (Reducing and aggregating accumulators are changed
   * in place by the user's function.)
   */
  readonly valuesImmutable: boolean;
  constructor(
    readonly name: string,
    readonly kind: string,
    readonly ttl: StateTtlConfig | undefined,
    /** The descriptor's: copies buffered values (the state's own objects) before they are handed out. */
    readonly serializer: StateSerializer<unknown>,
  ) {
    this.keys = new StateKeyEncoder(name);
    this.valuesImmutable = (kind === 'value' || kind === 'map') && valuesNeverChangedInPlace(serializer);
  }

  /** A copy of a buffered stored value ([expiresAt, value] with TTL). */
  copyStored(stored: Stored): Stored {
    if (this.ttl === undefined) return copyOut(this.serializer, stored);
    const w = stored as [number, unknown];
    return [w[0], copyOut(this.serializer, w[1])];
  }
}

export interface TimerLayer {
  gen: number;
  writes: Map<string, { key: KeyPart[]; present: boolean }>;
}

/** Whether the cache (dirty) or a layer of `t` holds a write for the entry stored under `key` (a decoded LMDB key of `t`). */
export function bufferedFor(t: StateTable, key: KeyPart[]): boolean {
  const [k, next] = readKey(key, 2);
  const id = typeof k === 'object' ? keyId(k) : k;
  const cached = t.cache.get(id, keyIdHash(id));
  if (cached !== undefined && isDirty(cached)) return true;
  for (const l of t.layers) {
    if (l.points.has(id)) return true;
    const m = l.maps.get(id);
    if (m !== undefined && (m.cleared || m.puts.has(keyId(readKey(key, next)[0])))) return true;
    // List elements are never rewritten under the same seq, so deleting an expired one is safe.
  }
  return false;
}

export interface LayerEncoding {
  batch: WriteBatchBuilder;
  encode(value: unknown): Uint8Array;
  /** Keys under `prefix` in LMDB's current view. */
  existingKeys(prefix: KeyPart[]): Iterable<KeyPart[]>;
}

/** Appends the writes of layer `l` of state `t` to the batch (which copies each key view at once). */
export function encodeLayer(t: StateTable, l: Layer, out: LayerEncoding): void {
  const b = out.batch;
  const keys = t.keys;
  for (const p of l.points.values()) {
    if (p.stored === DELETED) {
      b.delete(encodeKeyView(stateKeyPrefix(p.kg, t.name, p.key)));
      continue;
    }
    // The value first: the key's tail is a view into the key codec's buffer, valid until the next key.
    const v = out.encode(p.stored);
    b.putKey2(keys.prefix(p.kg), keys.tail(p.key), v);
  }
  for (const [id, pl] of l.lists) {
    const prefix = stateKeyPrefix(pl.kg, t.name, pl.key);
    if (pl.cleared) deleteExisting(t, l, prefix, out, (older) => older.lists.get(id)?.seqs.map((seq) => [...prefix, seq]));
    for (let i = 0; i < pl.added.length; i++) {
      prefix.push(pl.seqs[i]!);
      b.put(encodeKeyView(prefix), out.encode(pl.added[i]));
      prefix.pop();
    }
  }
  for (const [id, m] of l.maps) {
    const prefix = stateKeyPrefix(m.kg, t.name, m.key);
    if (m.cleared) {
      deleteExisting(t, l, prefix, out, (older) => {
        const o = older.maps.get(id);
        return o === undefined ? undefined : [...o.puts.values()].map((e) => pushKey(prefix.slice(), e.uk));
      });
    }
    for (const e of m.puts.values()) {
      const k = encodeKeyView(pushKey(prefix.slice(), e.uk));
      if (e.stored === DELETED) b.delete(k);
      else b.put(k, out.encode(e.stored));
    }
  }
}

/**
 * For a clear in layer `l`: deletes of every entry under `prefix` that exists below it, i.e. in
 * LMDB's view or written by an older layer still in flight (nothing else writes these keys, so
 * this is exact). The writer thread then only does puts and deletes, which lmdb-js batches natively.
 */
function deleteExisting(t: StateTable, l: Layer, prefix: KeyPart[], out: LayerEncoding, inOlder: (older: Layer) => KeyPart[][] | undefined): void {
  for (const k of out.existingKeys(prefix)) out.batch.delete(encodeKeyView(k));
  for (const older of t.layers) {
    if (older === l) break;
    for (const k of inOlder(older) ?? []) out.batch.delete(encodeKeyView(k));
  }
}

export function encodeTimerLayer(tl: TimerLayer, out: LayerEncoding): void {
  const one = Uint8Array.from(out.encode(1)); // a copy: the encoder reuses its buffer
  for (const w of tl.writes.values()) {
    if (w.present) out.batch.put(encodeKeyView(w.key), one);
    else out.batch.delete(encodeKeyView(w.key));
  }
}
