/**
 * The heap backend's side of the shared snapshot format (../snapshot/keyed-state-handle.ts): its
 * Maps encoded as LMDB-layout entries, and entries decoded back into Maps once a state's descriptor
 * says what kind it is.
 */
import { UserKeyMap } from './user-key-map.ts';
import { Packr } from 'msgpackr';
import { keyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import { encodeKeyBytes, pushKey, readKey, stateKeyPrefix, timerKey } from '../layout.ts';
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

const encodeKey = encodeKeyBytes;

export function encodeHeapState(
  tables: ReadonlyMap<string, HeapTable>,
  kinds: ReadonlyMap<string, StateKind>,
  restored: ReadonlyMap<string, RestoredEntry[]>,
  timers: HeapTimerService,
  now: number,
): { byKeyGroup: Map<number, [Buffer, Buffer][]>; nextListSeq: number } {
  const byKeyGroup = new Map<number, [Buffer, Buffer][]>();
  let nextListSeq = 0;
  const emit = (kg: number, parts: readonly unknown[], stored: unknown): void => {
    let g = byKeyGroup.get(kg);
    if (!g) byKeyGroup.set(kg, (g = []));
    g.push([encodeKey(parts), valueCodec.encode(stored)]);
  };
  for (const [name, table] of tables) {
    const kind = kinds.get(name);
    for (const e of table.values()) {
      if (e.expiresAt <= now) continue;
      const wrap = (v: unknown): unknown => (e.expiresAt === Infinity ? v : [e.expiresAt, v]);
      const prefix = stateKeyPrefix(e.keyGroup, name, e.key);
      if (kind === 'list') {
        const list = e.value as unknown[];
        nextListSeq = Math.max(nextListSeq, list.length);
        for (let i = 0; i < list.length; i++) emit(e.keyGroup, [...prefix, i], wrap(list[i]));
      } else if (kind === 'map') {
        for (const [uk, v] of (e.value as Map<KeyId, [StateKey, unknown]>).values()) emit(e.keyGroup, pushKey([...prefix], uk), wrap(v));
      } else {
        emit(e.keyGroup, prefix, wrap(e.value));
      }
    }
  }
  for (const entries of restored.values()) {
    for (const e of entries) {
      emit(e.parts[0] as number, e.parts, e.value);
      const last = e.parts[e.parts.length - 1];
      if (typeof last === 'number') nextListSeq = Math.max(nextListSeq, last + 1);
    }
  }
  for (const domain of ['event', 'processing'] as const) {
    for (const t of timers.all(domain)) emit(t.keyGroup, timerKey(t.keyGroup, domain, t.time, t.key, t.namespace), 1);
  }
  return { byKeyGroup, nextListSeq };
}

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
