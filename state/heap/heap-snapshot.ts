/**
 * The heap backend's side of the shared snapshot format (../snapshot/keyed-state-handle.ts): its
 * Maps encoded as LMDB-layout entries, and entries decoded back into Maps once a state's descriptor
 * says what kind it is.
 */
import { UserKeyMap } from './user-key-map.ts';
import { Packr } from 'msgpackr';
import { keyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import { encodeKeyBytes, encodeKeyView, pushKey, readKey, stateKeyPrefix, timerKey } from '../layout.ts';
import type { EntryWriter } from '../snapshot/entry-file.ts';
import type { TimeDomain } from '../timers.ts';
import type { StateTtlConfig } from '../descriptors.ts';
import type { HeapTimerService } from './heap-timers.ts';
import { keyIdHash } from '../key-table.ts';
import type { HeapTable } from './heap-table.ts';

export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

export interface HeapEntry {
  key: StateKey;
  keyGroup: number;
  value: unknown;
  /**
   * Processing time after which the entry is invisible; undefined without TTL (not Infinity: a
   * double field holds its number in a box of its own, 16 bytes a key).
   */
  expiresAt: number | undefined;
}

/** Whether `e` has expired at `now` (never without TTL). */
export function isExpired(e: HeapEntry, now: number): boolean {
  return e.expiresAt !== undefined && e.expiresAt <= now;
}


/** A decoded snapshot entry: its key as an ordered array (layout.ts) and its stored value. */
export interface RestoredEntry {
  parts: unknown[];
  value: unknown;
}

/**
 * The msgpack options of state values in both backends (the LMDB backend opens its database with
 * them), so either reads the other's snapshots: `moreTypes` keeps Set and typed arrays (Map, Date
 * and bigint survive without it); see runtime/plain-data.ts for what a state value may be.
 */
export const STATE_VALUE_ENCODING = { copyBuffers: true, moreTypes: true } as const;

export const valueCodec = new Packr({ ...STATE_VALUE_ENCODING });

/** What a grouped snapshot item is (see captureHeapState); every item takes five array slots. */
const VALUE_REF = 0;
const ENCODED = 1;
const RESTORED = 2;
const TIMER = 3;
/** A list's elements (a copy of the array, the elements themselves never changed in place). */
const LIST_REF = 4;
/** A map's user keys and values, flat (uk, v, uk, v, ...), values never changed in place. */
const MAP_REF = 5;

/** Entries encoded into the snapshot file between yields to the task's loop. */
const SLICE = 65_536;

/** A heap backend's state as of a barrier: written into a snapshot file in slices, after the task went on. */
export interface HeapStateView {
  nextListSeq: number;
  /** Entries encoded at the barrier (the rest are encoded by `write`): tests bound it. */
  encodedAtBarrier: number;
  /** Encodes the view into `writer`, one block per key group in key-group order; yields every SLICE entries. */
  write(writer: EntryWriter): Generator<void>;
}

/**
 * The consistent view of a heap backend's state at a barrier, with as little work as that needs
 * (synchronous: processing is stopped meanwhile). Values of value state whose serializer copies
 * them in and out (`immutable`: the default plain-data serializer, or sharedPlainData whose users
 * promise not to change them) are never changed in place, only replaced: the view keeps a
 * reference and encodes it later, in slices between records. Everything else can change in place
 * once the task goes on (lists and maps, accumulators handed to the aggregate function, values of
 * serializers that share them with the operator, such as a HyperLogLog sketch) and is encoded
 * now. Timers are kept as their fields.
 */
export function captureHeapState(
  tables: ReadonlyMap<string, HeapTable>,
  kinds: ReadonlyMap<string, StateKind>,
  immutable: ReadonlySet<string>,
  restored: ReadonlyMap<string, RestoredEntry[]>,
  timers: HeapTimerService,
  now: number,
): HeapStateView {
  const groups = new Map<number, unknown[]>();
  const group = (kg: number): unknown[] => {
    let g = groups.get(kg);
    if (g === undefined) groups.set(kg, (g = []));
    return g;
  };
  let nextListSeq = 0;
  let encodedAtBarrier = 0;
  for (const [name, table] of tables) {
    const kind = kinds.get(name);
    // Lists and maps change in place (an element added, a user key's pair updated), their
    // elements and values do not when the serializer copies them: a copy of the container will do.
    const byRef = (kind === 'value' || kind === 'list' || kind === 'map') && immutable.has(name);
    for (const e of table.values()) {
      if (isExpired(e, now)) continue;
      const kg = e.keyGroup;
      const g = group(kg);
      if (byRef) {
        if (kind === 'value') g.push(VALUE_REF, name, e.key, e.value, e.expiresAt);
        else if (kind === 'list') {
          const list = e.value as unknown[];
          if (list.length > nextListSeq) nextListSeq = list.length;
          g.push(LIST_REF, name, e.key, list.slice(), e.expiresAt);
        } else {
          const flat: unknown[] = [];
          for (const pair of (e.value as Map<KeyId, [StateKey, unknown]>).values()) flat.push(pair[0], pair[1]);
          g.push(MAP_REF, name, e.key, flat, e.expiresAt);
        }
        continue;
      }
      const ttl = e.expiresAt !== undefined;
      const prefix = stateKeyPrefix(kg, name, e.key);
      if (kind === 'list') {
        const list = e.value as unknown[];
        if (list.length > nextListSeq) nextListSeq = list.length;
        const at = prefix.length;
        for (let j = 0; j < list.length; j++) {
          prefix[at] = j;
          g.push(ENCODED, '', encodeKeyBytes(prefix), valueCodec.encode(ttl ? [e.expiresAt, list[j]] : list[j]), 0);
        }
        encodedAtBarrier += list.length;
      } else if (kind === 'map') {
        const at = prefix.length;
        for (const [uk, v] of (e.value as Map<KeyId, [StateKey, unknown]>).values()) {
          prefix.length = at;
          g.push(ENCODED, '', encodeKeyBytes(pushKey(prefix, uk)), valueCodec.encode(ttl ? [e.expiresAt, v] : v), 0);
          encodedAtBarrier++;
        }
      } else {
        g.push(ENCODED, '', encodeKeyBytes(prefix), valueCodec.encode(ttl ? [e.expiresAt, e.value] : e.value), 0);
        encodedAtBarrier++;
      }
    }
  }
  for (const list of restored.values()) {
    for (const e of list) {
      group(e.parts[0] as number).push(RESTORED, '', e, 0, 0);
      const last = e.parts[e.parts.length - 1];
      if (typeof last === 'number') nextListSeq = Math.max(nextListSeq, last + 1);
    }
  }
  for (const domain of ['event', 'processing'] as const) {
    for (const t of timers.all(domain)) group(t.keyGroup).push(TIMER, domain, t.key, t.time, t.namespace);
  }
  const kgs = [...groups.keys()].sort((a, b) => a - b);
  return {
    nextListSeq,
    encodedAtBarrier,
    *write(writer: EntryWriter): Generator<void> {
      let sinceYield = 0;
      for (const kg of kgs) {
        const g = groups.get(kg)!;
        groups.delete(kg); // encoded values are garbage once copied into the writer
        writer.beginKeyGroup(kg);
        for (let i = 0; i < g.length; i += 5) {
          const what = g[i] as number;
          if (what === VALUE_REF) {
            const expiresAt = g[i + 4] as number | undefined;
            const value = g[i + 3];
            writer.add(encodeKeyView(stateKeyPrefix(kg, g[i + 1] as string, g[i + 2] as StateKey)), valueCodec.encode(expiresAt === undefined ? value : [expiresAt, value]));
          } else if (what === ENCODED) {
            writer.add(g[i + 2] as Uint8Array, g[i + 3] as Uint8Array);
          } else if (what === RESTORED) {
            const e = g[i + 2] as RestoredEntry;
            writer.add(encodeKeyView(e.parts), valueCodec.encode(e.value));
          } else if (what === LIST_REF || what === MAP_REF) {
            const items = g[i + 3] as unknown[];
            const expiresAt = g[i + 4] as number | undefined;
            const prefix = stateKeyPrefix(kg, g[i + 1] as string, g[i + 2] as StateKey);
            const at = prefix.length;
            if (what === LIST_REF) {
              for (let j = 0; j < items.length; j++) {
                prefix[at] = j;
                writer.add(encodeKeyView(prefix), valueCodec.encode(expiresAt === undefined ? items[j] : [expiresAt, items[j]]));
              }
              sinceYield += items.length;
            } else {
              for (let j = 0; j < items.length; j += 2) {
                prefix.length = at;
                writer.add(encodeKeyView(pushKey(prefix, items[j] as StateKey)), valueCodec.encode(expiresAt === undefined ? items[j + 1] : [expiresAt, items[j + 1]]));
              }
              sinceYield += items.length / 2;
            }
          } else {
            writer.add(encodeKeyView(timerKey(kg, g[i + 1] as TimeDomain, g[i + 3] as number, g[i + 2] as StateKey, g[i + 4] as string)), ONE);
          }
          if (++sinceYield >= SLICE) {
            sinceYield = 0;
            yield;
          }
        }
        writer.endKeyGroup();
      }
    },
  };
}

/** A timer's stored value. */
const ONE = Buffer.from(valueCodec.encode(1));

/** Fills `table` from restored entries of one state, now that its kind and TTL are known. */
export function materialize(table: HeapTable, kind: StateKind, ttl: StateTtlConfig | undefined, entries: readonly RestoredEntry[], now: number): void {
  const unwrap = (stored: unknown): [number | undefined, unknown] => (ttl ? (stored as [number, unknown]) : [undefined, stored]);
  const expired = (expiresAt: number | undefined): boolean => expiresAt !== undefined && expiresAt <= now;
  // A list's or map's entry expires with its latest element (-Infinity until the first is read).
  const noneYet = ttl ? -Infinity : undefined;
  const latest = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : Math.max(a, b));
  if (kind === 'list') {
    const seqs = new Map<KeyId, number[]>();
    for (const e of entries) {
      const [key, next] = readKey(e.parts, 2);
      const [expiresAt, v] = unwrap(e.value);
      if (expired(expiresAt)) continue;
      const id = keyId(key);
      const hash = keyIdHash(id);
      let entry = table.get(id, hash);
      if (!entry) {
        entry = { key, keyGroup: e.parts[0] as number, value: [], expiresAt: noneYet };
        table.add(id, hash, entry);
        seqs.set(id, []);
      }
      (entry.value as unknown[]).push(v);
      seqs.get(id)!.push(e.parts[next] as number);
      entry.expiresAt = latest(entry.expiresAt, expiresAt);
    }
    for (const [id, s] of seqs) {
      const entry = table.get(id, keyIdHash(id))!;
      const values = entry.value as unknown[];
      const order = s.map((_, i) => i).sort((a, b) => s[a]! - s[b]!);
      entry.value = order.map((i) => values[i]);
    }
    return;
  }
  if (kind === 'map') {
    for (const e of entries) {
      const [key, next] = readKey(e.parts, 2);
      const uk = readKey(e.parts, next)[0];
      const [expiresAt, v] = unwrap(e.value);
      if (expired(expiresAt)) continue;
      const id = keyId(key);
      const hash = keyIdHash(id);
      let entry = table.get(id, hash);
      if (!entry) {
        entry = { key, keyGroup: e.parts[0] as number, value: new UserKeyMap(false), expiresAt: noneYet };
        table.add(id, hash, entry);
      }
      (entry.value as Map<KeyId, [StateKey, unknown]>).set(keyId(uk), [uk, v]);
      entry.expiresAt = latest(entry.expiresAt, expiresAt);
    }
    return;
  }
  for (const e of entries) {
    const key = readKey(e.parts, 2)[0];
    const [expiresAt, v] = unwrap(e.value);
    if (expired(expiresAt)) continue;
    const id = keyId(key);
    const hash = keyIdHash(id);
    const entry = { key, keyGroup: e.parts[0] as number, value: v, expiresAt };
    // The last entry of a key wins, as a Map's set would have it.
    if (table.get(id, hash) !== undefined) table.delete(id, hash);
    table.add(id, hash, entry);
  }
}
