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
import type { KeyGroupRange, StateKey } from '../key-groups.ts';
import { compareKeys, keyId, type KeyId } from '../key-codec.ts';
import { HeapTimerService } from './heap-timers.ts';

interface Entry {
  key: StateKey;
  keyGroup: number;
  value: unknown;
  /** Processing time after which the entry is invisible; Infinity without TTL. */
  expiresAt: number;
}

type Table = Map<KeyId, Entry>;

export interface HeapBackendOptions {
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  clock?: Clock;
}

export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  readonly timers = new HeapTimerService();
  private readonly clock: Clock;
  private readonly tables = new Map<string, Table>();
  private readonly handles = new Map<string, unknown>();
  private key: StateKey = '';
  private id: KeyId = '';
  private keyGroup = 0;

  constructor(options: HeapBackendOptions) {
    this.keyGroupRange = options.keyGroupRange;
    this.maxParallelism = options.maxParallelism;
    this.clock = options.clock ?? systemClock;
  }

  setCurrentKey(key: StateKey, keyGroup: number): void {
    this.key = key;
    this.id = keyId(key);
    this.keyGroup = keyGroup;
  }

  currentKey(): StateKey {
    return this.key;
  }

  currentKeyGroup(): number {
    return this.keyGroup;
  }

  private table(name: string): Table {
    let t = this.tables.get(name);
    if (!t) {
      t = new Map();
      this.tables.set(name, t);
    }
    return t;
  }

  /** The current key's entry in `table`, or undefined if absent or expired. */
  private read(table: Table, ttl: StateTtlConfig | undefined): Entry | undefined {
    const e = table.get(this.id);
    if (e === undefined) return undefined;
    if (e.expiresAt !== Infinity) {
      const now = this.clock.now();
      if (e.expiresAt <= now) {
        table.delete(this.id);
        return undefined;
      }
      if (ttl?.update === 'on-read-and-write') e.expiresAt = now + ttl.ttlMs;
    }
    return e;
  }

  private write(table: Table, ttl: StateTtlConfig | undefined, value: unknown): void {
    const expiresAt = ttl ? this.clock.now() + ttl.ttlMs : Infinity;
    const e = table.get(this.id);
    if (e) {
      e.value = value;
      e.expiresAt = expiresAt;
    } else {
      table.set(this.id, { key: this.key, keyGroup: this.keyGroup, value, expiresAt });
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

  getValueState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    return this.cached(d.name, () => {
      const table = this.table(d.name);
      return {
        value: () => this.read(table, d.ttl)?.value as T | undefined,
        update: (v: T) => this.write(table, d.ttl, v),
        clear: () => void table.delete(this.id),
      };
    });
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.cached(d.name, () => {
      const table = this.table(d.name);
      const list = (): T[] | undefined => this.read(table, d.ttl)?.value as T[] | undefined;
      return {
        get: () => [...(list() ?? [])],
        add: (v: T) => {
          const l = list();
          if (l) {
            l.push(v);
            this.write(table, d.ttl, l);
          } else this.write(table, d.ttl, [v]);
        },
        addAll: (vs: readonly T[]) => this.write(table, d.ttl, [...(list() ?? []), ...vs]),
        update: (vs: readonly T[]) => (vs.length === 0 ? void table.delete(this.id) : this.write(table, d.ttl, [...vs])),
        clear: () => void table.delete(this.id),
      };
    });
  }

  getMapState<UK extends StateKey, UV>(d: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.cached(d.name, () => {
      const table = this.table(d.name);
      type Inner = Map<KeyId, [UK, UV]>;
      const inner = (): Inner | undefined => this.read(table, d.ttl)?.value as Inner | undefined;
      const sorted = (): [UK, UV][] => [...(inner()?.values() ?? [])].sort((a, b) => compareKeys(a[0], b[0]));
      return {
        get: (k: UK) => inner()?.get(keyId(k))?.[1],
        put: (k: UK, v: UV) => {
          const m = inner() ?? new Map<KeyId, [UK, UV]>();
          m.set(keyId(k), [k, v]);
          this.write(table, d.ttl, m);
        },
        remove: (k: UK) => {
          const m = inner();
          if (!m) return;
          m.delete(keyId(k));
          if (m.size === 0) table.delete(this.id);
        },
        contains: (k: UK) => inner()?.has(keyId(k)) ?? false,
        entries: () => sorted().map(([k, v]): [UK, UV] => [k, v])[Symbol.iterator](),
        keys: () => sorted().map(([k]) => k)[Symbol.iterator](),
        isEmpty: () => (inner()?.size ?? 0) === 0,
        clear: () => void table.delete(this.id),
      };
    });
  }

  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.cached(d.name, () => {
      const table = this.table(d.name);
      return {
        get: () => this.read(table, d.ttl)?.value as T | undefined,
        add: (v: T) => {
          const e = this.read(table, d.ttl);
          this.write(table, d.ttl, e === undefined ? v : d.reduce(e.value as T, v));
        },
        clear: () => void table.delete(this.id),
      };
    });
  }

  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.cached(d.name, () => {
      const table = this.table(d.name);
      const agg = d.aggregate;
      return {
        get: () => {
          const e = this.read(table, d.ttl);
          return e === undefined ? undefined : agg.getResult(e.value as ACC);
        },
        add: (v: IN) => {
          const e = this.read(table, d.ttl);
          this.write(table, d.ttl, agg.add(v, e === undefined ? agg.createAccumulator() : (e.value as ACC)));
        },
        clear: () => void table.delete(this.id),
      };
    });
  }

  *keys(stateName: string): Iterable<[StateKey, number]> {
    const table = this.tables.get(stateName);
    if (!table) return;
    const now = this.clock.now();
    for (const e of table.values()) if (e.expiresAt > now) yield [e.key, e.keyGroup];
  }

  async dispose(): Promise<void> {
    this.tables.clear();
  }
}
