/**
 * Keyed state in JS Maps: fast, bounded by the heap. For tests and small state; jobs default to
 * the LMDB backend. Entries remember their key group so state can be cut by key-group range.
 */
import type { Clock, KeyedStateBackend } from '../backend.ts';
import { systemClock } from '../backend.ts';
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
} from '../descriptors.ts';
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from '../handles.ts';
import { type KeyGroupRange, type StateKey } from '../key-groups.ts';
import { keyId, ownKey, ownKeyId, smallIntegerKey, type KeyId } from '../key-codec.ts';
import { HeapTimerService } from './heap-timers.ts';
import { UserKeyMap } from './user-key-map.ts';
import type { CheckpointScope, CheckpointStorage } from '../checkpoint-storage/storage.ts';
import { TIMERS, decodeKeyBytes, readKey, validateStateName } from '../layout.ts';
import { forEachEntry, readOwnedBlocks, writeKeyedSnapshot } from '../snapshot/entry-file.ts';
import type { KeyedStateHandle } from '../snapshot/keyed-state-handle.ts';
import { serializerOf } from '../descriptors.ts';
import { checkIn, copyIn, copyInReplacing, copyOut, valuesNeverChangedInPlace } from '../value-serializer.ts';
import { captureHeapState, isExpired, materialize, valueCodec, type HeapEntry, type RestoredEntry, type StateKind } from './heap-snapshot.ts';
import { currentKeyHash, keyIdHash } from '../key-table.ts';
import { HeapTable, heapKeyHashes } from './heap-table.ts';

type Entry = HeapEntry;
type Table = HeapTable;

export interface HeapBackendOptions {
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  clock?: Clock;
  /** Needed for snapshots and restores. */
  storage?: CheckpointStorage;
  operatorUid?: string;
  subtask?: number;
}


export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  readonly timers = new HeapTimerService();
  private readonly clock: Clock;
  private readonly tables = new Map<string, Table>();
  private readonly handles = new Map<string, unknown>();
  private readonly kinds = new Map<string, StateKind>();
  /** Value, list and map states whose values are never changed in place (their serializer copies in and out): snapshots keep references to them. */
  private readonly immutableValues = new Set<string>();
  /** Entries snapshots encoded at their barrier, for tests (the rest are encoded after it, between records). */
  encodedAtBarriers = 0;
  /** Restored entries of states whose descriptor (so kind and TTL) is not known yet. */
  private readonly restored = new Map<string, RestoredEntry[]>();
  private readonly storage: CheckpointStorage | undefined;
  private readonly operatorUid: string;
  private readonly subtask: number;
  private key: StateKey = '';
  private id: KeyId = '';
  /** keyIdHash(id): computed once per current key, used by every state's table. */
  private hash = keyIdHash('');
  private keyGroup = 0;

  constructor(options: HeapBackendOptions) {
    this.keyGroupRange = options.keyGroupRange;
    this.maxParallelism = options.maxParallelism;
    this.clock = options.clock ?? systemClock;
    this.storage = options.storage;
    this.operatorUid = options.operatorUid ?? 'operator';
    this.subtask = options.subtask ?? 0;
  }

  setCurrentKey(k: StateKey, keyGroup: number, keyHash?: number): void {
    const key = smallIntegerKey(k);
    this.key = key;
    const id = keyId(key);
    this.id = id;
    this.hash = currentKeyHash(key, id, keyHash, heapKeyHashes);
    this.keyGroup = keyGroup;
  }

  currentKey(): StateKey {
    return this.key;
  }

  currentKeyGroup(): number {
    return this.keyGroup;
  }

  private table(name: string, d: { kind: StateKind; ttl?: StateTtlConfig }): Table {
    let t = this.tables.get(name);
    if (!t) {
      validateStateName(name);
      t = new HeapTable();
      this.tables.set(name, t);
      this.kinds.set(name, d.kind);
      const restored = this.restored.get(name);
      if (restored) {
        this.restored.delete(name);
        materialize(t, d.kind, d.ttl, restored, this.clock.now());
      }
    }
    return t;
  }

  /** The current key's entry in `table`, or undefined if absent or expired. */
  private read(table: Table, ttl: StateTtlConfig | undefined): Entry | undefined {
    const e = table.get(this.id, this.hash);
    if (e === undefined) return undefined;
    if (e.expiresAt !== undefined) {
      const now = this.clock.now();
      if (e.expiresAt <= now) {
        table.delete(this.id, this.hash);
        return undefined;
      }
      if (ttl?.update === 'on-read-and-write') e.expiresAt = now + ttl.ttlMs;
    }
    return e;
  }

  private write(table: Table, ttl: StateTtlConfig | undefined, value: unknown): void {
    const expiresAt = ttl ? this.clock.now() + ttl.ttlMs : undefined;
    // Right after a read of the current key (a read-modify-write) the table answers from the entry it found last.
    const e = table.get(this.id, this.hash);
    if (e) {
      e.value = value;
      e.expiresAt = expiresAt;
    } else {
      // A new key: state keeps its own copy of the key's strings (ownKey in key-codec.ts).
      const key = ownKey(this.key);
      table.add(ownKeyId(key, this.id), this.hash, { key, keyGroup: this.keyGroup, value, expiresAt });
    }
  }

  private cached<H>(name: string, make: () => H): H {
    let h = this.handles.get(name) as H | undefined;
    if (h === undefined) {
      h = make();
      this.handles.set(name, h);
    }
    return h;
  }

  // Value semantics (value-serializer.ts): writes keep a copy, reads hand out a copy; the
  // accumulator of reducing and aggregating state is the state's own and is only checked.

  getValueState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    return this.cached(d.name, () => {
      const table = this.table(d.name, d);
      const ser = serializerOf<T>(d);
      if (valuesNeverChangedInPlace(ser)) this.immutableValues.add(d.name);
      const uid = this.operatorUid;
      return {
        value: () => {
          const e = this.read(table, d.ttl);
          return e === undefined ? undefined : copyOut(ser, e.value as T);
        },
        // The key's value so far (right after reading it, the table's last lookup): the serializer may skip what they share.
        update: (v: T) => this.write(table, d.ttl, copyInReplacing(ser, v, ser.copyReplacing && (table.get(this.id, this.hash)?.value as T | undefined), uid, d.name)),
        clear: () => void table.delete(this.id, this.hash),
      };
    });
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.cached(d.name, () => {
      const table = this.table(d.name, d);
      const ser = serializerOf<T>(d);
      if (valuesNeverChangedInPlace(ser)) this.immutableValues.add(d.name);
      const uid = this.operatorUid;
      const copyAll = (vs: readonly T[]): T[] => vs.map((v) => copyIn(ser, v, uid, d.name));
      const list = (): T[] | undefined => this.read(table, d.ttl)?.value as T[] | undefined;
      return {
        get: () => (list() ?? []).map((v) => copyOut(ser, v)),
        add: (v: T) => {
          const c = copyIn(ser, v, uid, d.name);
          const l = list();
          if (l) {
            l.push(c);
            this.write(table, d.ttl, l);
          } else this.write(table, d.ttl, [c]);
        },
        // Appended in place as `add` does (a snapshot copies lists at the barrier), not copied
        // whole: a key whose list grows by addAll would cost its whole length every time.
        addAll: (vs: readonly T[]) => {
          if (vs.length === 0) return;
          const cs = copyAll(vs);
          const l = list();
          if (l) {
            for (let i = 0; i < cs.length; i++) l.push(cs[i]!);
            this.write(table, d.ttl, l);
          } else this.write(table, d.ttl, cs);
        },
        update: (vs: readonly T[]) => (vs.length === 0 ? void table.delete(this.id, this.hash) : this.write(table, d.ttl, copyAll(vs))),
        clear: () => void table.delete(this.id, this.hash),
      };
    });
  }

  getMapState<UK extends StateKey, UV>(d: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.cached(d.name, () => {
      const table = this.table(d.name, d);
      const ser = serializerOf<UV>(d);
      if (valuesNeverChangedInPlace(ser)) this.immutableValues.add(d.name);
      const uid = this.operatorUid;
      const ttl = d.ttl;
      type Inner = UserKeyMap<UV>;
      // A put after a get (a window pane's read-modify-write) finds the entry the table found last
      // (heap-table.ts) without probing again.
      const entry = (): Entry | undefined => this.read(table, ttl);
      const deleteEntry = (): void => table.delete(this.id, this.hash);
      const inner = (): Inner | undefined => entry()?.value as Inner | undefined;
      // In user-key order, as LMDB iterates (user-key-map.ts).
      const sorted = (): Iterable<[UK, UV]> => (inner()?.inOrder() ?? []) as Iterable<[UK, UV]>;
      return {
        get: (k: UK) => {
          const e = inner()?.get(keyId(k));
          return e === undefined ? undefined : copyOut(ser, e[1]);
        },
        put: (k: UK, v: UV) => {
          const c = copyIn(ser, v, uid, d.name);
          const id = keyId(k);
          const e = entry();
          if (e === undefined) {
            const m = new UserKeyMap<UV>(true);
            const own = ownKey(k);
            m.noteNewKey(own);
            m.set(ownKeyId(own, id), [own, c]);
            this.write(table, ttl, m);
            return;
          }
          const m = e.value as Inner;
          // The pair is the map's own (reads copy out of it): update it in place, no new pair per put.
          const pair = m.get(id);
          if (pair !== undefined) pair[1] = c;
          else {
            const own = ownKey(k);
            m.noteNewKey(own);
            m.set(ownKeyId(own, id), [own, c]);
          }
          if (ttl !== undefined) e.expiresAt = this.clock.now() + ttl.ttlMs;
        },
        remove: (k: UK) => {
          const m = inner();
          if (!m) return;
          m.delete(keyId(k));
          if (m.size === 0) deleteEntry();
        },
        contains: (k: UK) => inner()?.has(keyId(k)) ?? false,
        entries: () => Array.from(sorted(), ([k, v]): [UK, UV] => [k, copyOut(ser, v)])[Symbol.iterator](),
        keys: () => Array.from(sorted(), ([k]) => k)[Symbol.iterator](),
        isEmpty: () => (inner()?.size ?? 0) === 0,
        clear: deleteEntry,
      };
    });
  }

  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.cached(d.name, () => {
      const table = this.table(d.name, d);
      const ser = serializerOf<T>(d);
      const uid = this.operatorUid;
      return {
        get: () => {
          const e = this.read(table, d.ttl);
          return e === undefined ? undefined : copyOut(ser, e.value as T);
        },
        add: (v: T) => {
          const e = this.read(table, d.ttl);
          const c = copyIn(ser, v, uid, d.name);
          this.write(table, d.ttl, e === undefined ? c : checkIn(ser, d.reduce(e.value as T, c), uid, d.name));
        },
        clear: () => void table.delete(this.id, this.hash),
      };
    });
  }

  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.cached(d.name, () => {
      const table = this.table(d.name, d);
      const agg = d.aggregate;
      const ser = serializerOf<ACC>(d);
      const uid = this.operatorUid;
      return {
        get: () => {
          const e = this.read(table, d.ttl);
          return e === undefined ? undefined : agg.getResult(e.value as ACC);
        },
        add: (v: IN) => {
          const e = this.read(table, d.ttl);
          this.write(table, d.ttl, checkIn(ser, agg.add(v, e === undefined ? agg.createAccumulator() : (e.value as ACC)), uid, d.name));
        },
        clear: () => void table.delete(this.id, this.hash),
      };
    });
  }

  *keys(stateName: string): Iterable<[StateKey, number]> {
    const table = this.tables.get(stateName);
    if (!table) {
      const seen = new Set<KeyId>();
      for (const e of this.restored.get(stateName) ?? []) {
        const k = readKey(e.parts, 2)[0];
        const id = keyId(k);
        if (!seen.has(id)) {
          seen.add(id);
          yield [k, e.parts[0] as number];
        }
      }
      return;
    }
    const now = this.clock.now();
    // Collected first: a caller may change state while iterating, which moves entries in the table.
    const live: [StateKey, number][] = [];
    for (const e of table.values()) if (!isExpired(e, now)) live.push([e.key, e.keyGroup]);
    yield* live;
  }

  /** Encodes everything synchronously (the consistent view), then writes the file asynchronously. */
  async snapshot(checkpointId: number, scope: CheckpointScope = 'checkpoint'): Promise<KeyedStateHandle> {
    if (!this.storage) throw new Error(`heap state backend of operator '${this.operatorUid}' has no checkpoint storage: pass 'storage' to createKeyedStateBackend`);
    const view = captureHeapState(this.tables, this.kinds, this.immutableValues, this.restored, this.timers, this.clock.now());
    this.encodedAtBarriers += view.encodedAtBarrier;
    const base = {
      type: 'weir.keyed-state' as const,
      version: 1 as const,
      backend: 'heap' as const,
      operatorUid: this.operatorUid,
      subtask: this.subtask,
      checkpointId,
      maxParallelism: this.maxParallelism,
      keyGroupRange: { ...this.keyGroupRange },
      nextListSeq: view.nextListSeq,
    };
    // What the view did not encode at the barrier is encoded now, in slices between records.
    return writeKeyedSnapshot(this.storage, base, async function* (w) {
      yield* view.write(w);
    }, scope);
  }

  /** Loads the owned key groups of `handles` (from any backend and parallelism). */
  async restore(handles: readonly KeyedStateHandle[]): Promise<void> {
    if (handles.length === 0) return;
    if (!this.storage) throw new Error(`restore of operator '${this.operatorUid}' needs checkpoint storage: pass 'storage' to createKeyedStateBackend`);
    await readOwnedBlocks(this.storage, handles, this.keyGroupRange, this.maxParallelism, (_kg, bytes) => {
      forEachEntry(bytes, (k, v) => {
        const parts = decodeKeyBytes(k);
        if (parts[1] === TIMERS) {
          const [key, next] = readKey(parts, 4);
          this.timers.register(parts[2] === 0 ? 'event' : 'processing', parts[3] as number, key, parts[0] as number, parts[next] as string);
          return;
        }
        const name = parts[1] as string;
        let list = this.restored.get(name);
        if (!list) this.restored.set(name, (list = []));
        list.push({ parts, value: valueCodec.decode(v) });
      });
    });
  }

  async dispose(): Promise<void> {
    this.tables.clear();
    this.restored.clear();
  }
}

