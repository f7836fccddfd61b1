/**
 * The heap backend's side of the shared snapshot format (../snapshot/keyed-state-handle.ts): its
 * Maps encoded as LMDB-layout entries, and entries decoded back into Maps once a state's descriptor
 * says what kind it is.
 */
import { UserKeyMap } from './user-key-map.ts';
import { Packr } from 'msgpackr';
import { keyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import { encodeKeyView, pushKey, readKey, stateKeyPrefix, timerKey } from '../layout.ts';
import type { EntryWriter } from '../snapshot/entry-file.ts';
import type { Timer } from '../timers.ts';
import type { StateTtlConfig } from '../descriptors.ts';
import type { HeapTimerService } from './heap-timers.ts';

export type StateKind = 'value' | 'list' | 'map' | 'reducing' | 'aggregating';

export interface HeapEntry {
  key: StateKey;
  keyGroup: number;
  value: unknown;
  /** Processing time after which the entry is invisible; Infinity without TTL. */
  expiresAt: number;
}

export type HeapTable = Map<KeyId, HeapEntry>;

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

/** What a grouped snapshot item is (see encodeHeapState): a table entry of a kind, a restored entry, a timer. */
const VALUE = 0;
const LIST = 1;
const MAP = 2;
const RESTORED = 3;
const EVENT_TIMER = 4;
const PROCESSING_TIMER = 5;

/**
 * Encodes every live entry and timer into `writer`, one block per key group in key-group order:
 * first the items are grouped by key group (three array slots each, no encoding), then each group
 * is encoded straight into the writer's chunks (a key is encoded into the key codec's shared
 * buffer and copied once, into the chunk). Before, every entry became two Buffers and a pair,
 * copied into the chunks later: 4-5 s for 1M small values, a third of it garbage collection.
 * Synchronous: it is the consistent view (values can change once the task goes on).
 */
export function encodeHeapState(
  tables: ReadonlyMap<string, HeapTable>,
  kinds: ReadonlyMap<string, StateKind>,
  restored: ReadonlyMap<string, RestoredEntry[]>,
  timers: HeapTimerService,
  now: number,
  writer: EntryWriter,
): { nextListSeq: number } {
  const groups = new Map<number, unknown[]>();
  const add = (kg: number, what: number, name: string, item: unknown): void => {
    let g = groups.get(kg);
    if (g === undefined) groups.set(kg, (g = []));
    g.push(what, name, item);
  };
  for (const [name, table] of tables) {
    const kind = kinds.get(name);
    const what = kind === 'list' ? LIST : kind === 'map' ? MAP : VALUE;
    for (const e of table.values()) if (e.expiresAt > now) add(e.keyGroup, what, name, e);
  }
  for (const entries of restored.values()) for (const e of entries) add(e.parts[0] as number, RESTORED, '', e);
  for (const t of timers.all('event')) add(t.keyGroup, EVENT_TIMER, '', t);
  for (const t of timers.all('processing')) add(t.keyGroup, PROCESSING_TIMER, '', t);

  let nextListSeq = 0;
  const kgs = [...groups.keys()].sort((a, b) => a - b);
  for (const kg of kgs) {
    const g = groups.get(kg)!;
    writer.beginKeyGroup(kg);
    for (let i = 0; i < g.length; i += 3) {
      const what = g[i] as number;
      if (what === RESTORED) {
        const e = g[i + 2] as RestoredEntry;
        writer.add(encodeKeyView(e.parts), valueCodec.encode(e.value));
        const last = e.parts[e.parts.length - 1];
        if (typeof last === 'number') nextListSeq = Math.max(nextListSeq, last + 1);
        continue;
      }
      if (what === EVENT_TIMER || what === PROCESSING_TIMER) {
        const t = g[i + 2] as Timer;
        writer.add(encodeKeyView(timerKey(t.keyGroup, what === EVENT_TIMER ? 'event' : 'processing', t.time, t.key, t.namespace)), ONE);
        continue;
      }
      const e = g[i + 2] as HeapEntry;
      const prefix = stateKeyPrefix(kg, g[i + 1] as string, e.key);
      const ttl = e.expiresAt !== Infinity;
      if (what === VALUE) {
        writer.add(encodeKeyView(prefix), valueCodec.encode(ttl ? [e.expiresAt, e.value] : e.value));
      } else if (what === LIST) {
        const list = e.value as unknown[];
        if (list.length > nextListSeq) nextListSeq = list.length;
        const at = prefix.length;
        for (let j = 0; j < list.length; j++) {
          prefix[at] = j;
          writer.add(encodeKeyView(prefix), valueCodec.encode(ttl ? [e.expiresAt, list[j]] : list[j]));
        }
      } else {
        const at = prefix.length;
        for (const [uk, v] of (e.value as Map<KeyId, [StateKey, unknown]>).values()) {
          prefix.length = at;
          writer.add(encodeKeyView(pushKey(prefix, uk)), valueCodec.encode(ttl ? [e.expiresAt, v] : v));
        }
      }
    }
    writer.endKeyGroup();
  }
  return { nextListSeq };
}

/** A timer's stored value. */
const ONE = Buffer.from(valueCodec.encode(1));

/** Fills `table` from restored entries of one state, now that its kind and TTL are known. */
export function materialize(table: HeapTable, kind: StateKind, ttl: StateTtlConfig | undefined, entries: readonly RestoredEntry[], now: number): void {
  const unwrap = (stored: unknown): [number, unknown] => (ttl ? (stored as [number, unknown]) : [Infinity, stored]);
  if (kind === 'list') {
    const seqs = new Map<KeyId, number[]>();
    for (const e of entries) {
      const [key, next] = readKey(e.parts, 2);
      const [expiresAt, v] = unwrap(e.value);
      if (expiresAt <= now) continue;
      const id = keyId(key);
      let entry = table.get(id);
      if (!entry) {
        entry = { key, keyGroup: e.parts[0] as number, value: [], expiresAt: -Infinity };
        table.set(id, entry);
        seqs.set(id, []);
      }
      (entry.value as unknown[]).push(v);
      seqs.get(id)!.push(e.parts[next] as number);
      entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
    }
    for (const [id, s] of seqs) {
      const entry = table.get(id)!;
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
      if (expiresAt <= now) continue;
      const id = keyId(key);
      let entry = table.get(id);
      if (!entry) {
        entry = { key, keyGroup: e.parts[0] as number, value: new UserKeyMap(false), expiresAt: -Infinity };
        table.set(id, entry);
      }
      (entry.value as Map<KeyId, [StateKey, unknown]>).set(keyId(uk), [uk, v]);
      entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
    }
    return;
  }
  for (const e of entries) {
    const key = readKey(e.parts, 2)[0];
    const [expiresAt, v] = unwrap(e.value);
    if (expiresAt > now) table.set(keyId(key), { key, keyGroup: e.parts[0] as number, value: v, expiresAt });
  }
}
