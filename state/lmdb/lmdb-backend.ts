/**
 * Keyed state in LMDB (lmdb-js): larger than the heap, the default for jobs. Layout in ../layout.ts.
 *
 * Handles are synchronous. Writes go to a write-back buffer per state, keyed by the current key.
 * Every `flushEvery` writes the buffer is encoded into one batch and handed to this backend's LMDB
 * writer thread (lmdb-writer.ts), which gives it to lmdb-js as async puts and deletes (committed in
 * order, in large native transactions) while processing goes on; the buffer stays readable as a
 * layer until the batch's commit is seen in shared memory, and at most
 * MAX_IN_FLIGHT batches are outstanding (then the processing thread waits for the oldest). Reads
 * look through the layers, newest first, then LMDB. The working environment is opened with noSync:
 * it is scratch space that is never reused after a crash (a restart restores from a checkpoint into
 * a fresh directory). (useWritemap wrote about 1.3x faster but tripped an LMDB assertion in
 * mdb_freelist_save under this two-thread use; it stays off.)
 *
 * ListState: one entry per element under (key, seq) with a backend-wide increasing seq, so `add` is
 * one buffered put and never rewrites the list; `get` is one range scan plus the buffered additions.
 * MapState: one entry per user key, so `entries()` is a range scan in user-key order.
 * TTL: values stored as [expiresAt, value]; expired entries are invisible, deleted when read, found
 * by a background sweep that goes on a little with every batch, and left out of snapshots.
 * Snapshots are taken by the writer thread: the request is queued behind the batches sent before it,
 * so its read transaction is exactly the state at the snapshot() call.
 */
import { rm } from 'node:fs/promises';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Clock, KeyedStateBackend } from '../backend.ts';
import { systemClock } from '../backend.ts';
import type { CheckpointScope, CheckpointStorage } from '../checkpoint-storage/storage.ts';
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
} from '../descriptors.ts';
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from '../handles.ts';
import { compareKeys, keyId, type KeyId } from '../key-codec.ts';
import type { KeyGroupRange, StateKey } from '../key-groups.ts';
import { TIMERS, domainCode, encodeKeyBytes, encodePart, prefixRange, pushKey, readKey, stateKeyPrefix, validateStateName, type KeyPart } from '../layout.ts';
import { readOwnedBlocks, writeKeyedSnapshotChunks } from '../snapshot/entry-file.ts';
import type { KeyedStateHandle } from '../snapshot/keyed-state-handle.ts';
import type { TimeDomain, Timer } from '../timers.ts';
import { LmdbTimerService, type TimerStore } from './lmdb-timers.ts';
import { WriteBatchBuilder } from './write-batch.ts';
import { DELETED, type Layer, type Stored, StateTable, type TimerLayer, encodeLayer, encodeTimerLayer } from './layers.ts';
import { TtlSweeper } from './ttl-sweep.ts';
import { LmdbWriterClient } from './writer-client.ts';
import { type CachedPoint, PointCache, defaultCacheEntries } from './point-cache.ts';
import { snapshotCache } from './cache-snapshot.ts';
import { CachedMap, type KnownEntry } from './map-cache.ts';
import { CachedList } from './list-cache.ts';
import { serializerOf } from '../descriptors.ts';
import { checkIn, copyIn, type StateSerializer } from '../value-serializer.ts';
import { STATE_VALUE_ENCODING } from '../heap/heap-snapshot.ts';

const MAX_IN_FLIGHT = 2;
/** A map state of at most this many entries in LMDB is loaded whole when its key is cached. */
const SMALL_MAP = 64;
/** Dirty cache entries allowed, in batches of flushEvery (see tick). */
const MAX_DIRTY_BATCHES = 2;
/** Entries of TTL states the background sweep looks at per batch sent. */
const SWEEP_PER_BATCH = 2048;

export interface LmdbBackendOptions {
  /** Directory of the working LMDB environment (created; removed by dispose). */
  path: string;
  keyGroupRange: KeyGroupRange;
  maxParallelism: number;
  operatorUid: string;
  subtask: number;
  /** Needed for snapshots. */
  storage?: CheckpointStorage;
  clock?: Clock;
  /** Buffered writes per batch. Default 32768. */
  flushEvery?: number;
  /**
   * Entries of the in-memory cache of single-value states (point-cache.ts), over all states of this
   * backend. Default: a sixteenth of the heap limit at 256 bytes an entry, between 10k and 1M.
   */
  cacheEntries?: number;
}

export class LmdbKeyedStateBackend implements KeyedStateBackend, TimerStore {
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  readonly timers: LmdbTimerService;
  private readonly env: RootDatabase;
  private readonly db: Database<Stored, KeyPart[]>;
  private readonly encoder: { encode(v: unknown): Uint8Array };
  private readonly writer: LmdbWriterClient;
  private readonly batch = new WriteBatchBuilder();
  private readonly clock: Clock;
  private readonly tables = new Map<string, StateTable>();
  private readonly handles = new Map<string, unknown>();
  private timerLayers: TimerLayer[] = [];
  private readonly flushEvery: number;
  private readonly maxDirty: number;
  /** Number of the batch being buffered now (sent batches are 1..gen-1). */
  private gen = 1;
  private seenCommitted = 0;
  private pending = 0;
  private nextSeq = 0;
  private key: StateKey = '';
  private id: KeyId = '';
  private keyGroup = 0;
  /** Bumped by every setCurrentKey (and restore): tells whether a table's `last` entry is the current key's. */
  private epoch = 0;
  private disposed = false;
  private readonly sweeper: TtlSweeper;
  private sweepDeletes: Uint8Array[] = [];
  private readonly ttlTables: StateTable[] = [];
  private readonly cache: PointCache<StateTable>;
  /** Cached writes since the TTL sweep last ran (the sweep otherwise runs with every batch). */
  private ticks = 0;
  /** Snapshots encoded from the cache alone (cache-snapshot.ts), for tests. */
  cacheSnapshots = 0;
  /**
   * Read work done for state handles, for tests that bound the work per record: LMDB gets, entries
   * read by range scans, and buffered map or list entries replayed over them.
   */
  readWork = 0;

  constructor(private readonly options: LmdbBackendOptions) {
    this.keyGroupRange = options.keyGroupRange;
    this.maxParallelism = options.maxParallelism;
    this.clock = options.clock ?? systemClock;
    this.flushEvery = options.flushEvery ?? 32768;
    this.maxDirty = MAX_DIRTY_BATCHES * this.flushEvery;
    this.env = open({ path: options.path, noSync: true, noMetaSync: true, maxDbs: 4, cache: false });
    // The same msgpack options as the heap backend (Set, typed arrays kept): either reads the other's snapshots.
    this.db = this.env.openDB<Stored, KeyPart[]>('state', { encoder: { ...STATE_VALUE_ENCODING } } as never);
    this.encoder = (this.db as unknown as { encoder: { encode(v: unknown): Uint8Array } }).encoder;
    this.writer = new LmdbWriterClient(options.path);
    this.timers = new LmdbTimerService(this);
    this.sweeper = new TtlSweeper(this.db, this.keyGroupRange);
    this.cache = new PointCache<StateTable>(options.cacheEntries ?? defaultCacheEntries(), (t, e) => this.writeBack(t, e, true));
  }

  setCurrentKey(key: StateKey, keyGroup: number): void {
    this.key = key;
    this.id = typeof key === 'object' ? keyId(key) : key;
    this.keyGroup = keyGroup;
    this.epoch++;
  }

  currentKey(): StateKey {
    return this.key;
  }

  currentKeyGroup(): number {
    return this.keyGroup;
  }

  // ---- write buffer ------------------------------------------------------------------------

  private noteWrite(): void {
    if (++this.pending >= this.flushEvery) this.sendBatch();
  }

  private layer(t: StateTable): Layer {
    const ls = t.layers;
    const last = ls[ls.length - 1];
    if (last !== undefined && last.gen === this.gen) return last;
    const l: Layer = { gen: this.gen, points: new Map(), lists: new Map(), maps: new Map() };
    ls.push(l);
    return l;
  }

  /** Encodes the current buffer into one batch for the writer thread (with `sweep`, also when it is empty but the TTL sweep finds something). */
  private sendBatch(sweep = false): void {
    if (this.pending === 0 && this.sweepDeletes.length === 0 && !sweep) return;
    this.sweepExpired(SWEEP_PER_BATCH);
    if (this.pending === 0 && this.sweepDeletes.length === 0) return;
    const b = this.batch;
    const enc = this.encoder;
    const gen = this.gen;
    // First in the batch: a put buffered in this same batch for a swept key comes after and wins.
    for (const k of this.sweepDeletes) b.delete(k);
    this.sweepDeletes = [];
    const out = { batch: b, encode: (v: unknown) => enc.encode(v), existingKeys: (prefix: KeyPart[]) => this.db.getKeys(prefixRange(prefix) as never) as Iterable<KeyPart[]> };
    for (const t of this.tables.values()) {
      const l = t.layers[t.layers.length - 1];
      if (l !== undefined && l.gen === gen) encodeLayer(t, l, out);
    }
    const tl = this.timerLayers[this.timerLayers.length - 1];
    if (tl !== undefined && tl.gen === gen) encodeTimerLayer(tl, out);
    const sent = this.writer.send(b.finish());
    if (sent !== gen) throw new Error(`LMDB write batch numbering is off: sent ${sent}, expected ${gen}`);
    this.gen++;
    this.pending = 0;
    this.collectCommitted();
    while (this.gen - 1 - this.seenCommitted > MAX_IN_FLIGHT) {
      this.writer.waitFor(this.seenCommitted + 1);
      this.collectCommitted();
    }
  }

  /** Drops the layers LMDB now holds (after renewing the read view so reads see them there). */
  private collectCommitted(): void {
    const c = this.writer.committed();
    if (c === this.seenCommitted) return;
    this.seenCommitted = c;
    this.env.resetReadTxn();
    for (const t of this.tables.values()) {
      const ls = t.layers;
      let n = 0;
      while (n < ls.length && ls[n]!.gen <= c) n++;
      if (n > 0) t.layers = ls.slice(n);
    }
    let n = 0;
    while (n < this.timerLayers.length && this.timerLayers[n]!.gen <= c) n++;
    if (n > 0) this.timerLayers = this.timerLayers.slice(n);
  }

  /** Puts every dirty cached value into the current layer (one batch, however many). */
  private writeBackAll(): void {
    this.cache.writeBackAll((t, e) => this.writeBack(t, e, false));
    this.timers.saveAll();
  }

  /** Sends the buffer and waits until LMDB holds every write made so far. */
  flush(): void {
    this.writeBackAll();
    this.sendBatch();
    if (this.gen - 1 > this.seenCommitted) {
      this.writer.waitFor(this.gen - 1);
      this.collectCommitted();
    }
  }

  private table(name: string, kind: string, ttl: StateTtlConfig | undefined, serializer: StateSerializer<unknown>): StateTable {
    validateStateName(name);
    let t = this.tables.get(name);
    if (!t) {
      t = new StateTable(name, kind, ttl, serializer);
      this.tables.set(name, t);
      if (ttl !== undefined) this.ttlTables.push(t);
      this.cache.register(t);
    }
    return t;
  }

  private cached<H>(name: string, make: () => H): H {
    let h = this.handles.get(name) as H | undefined;
    if (h === undefined) {
      h = make();
      this.handles.set(name, h);
    }
    return h;
  }

  private currentPrefix(name: string): KeyPart[] {
    const k = this.key;
    return typeof k === 'object' ? stateKeyPrefix(this.keyGroup, name, k) : [this.keyGroup, name, 0, encodePart(k)];
  }

  // ---- single-value states (value, reducing, aggregating) --------------------------------

  /** The cache entry of the current key, loaded from the layers or LMDB on a miss. */
  private point(t: StateTable): CachedPoint {
    const e = this.cachedPoint(t);
    if (e !== undefined) return e;
    const n = this.cache.insert(t, this.id, this.keyGroup, this.key, this.loadPoint(t), false);
    t.last = n;
    t.lastEpoch = this.epoch;
    return n;
  }

  /** The current key's cache entry, if cached. */
  private cachedPoint(t: StateTable): CachedPoint | undefined {
    if (t.lastEpoch === this.epoch) {
      const l = t.last!;
      if (l.live) {
        l.ref = true;
        return l;
      }
    }
    const e = t.cache.get(this.id);
    if (e === undefined) return undefined;
    e.ref = true;
    t.last = e;
    t.lastEpoch = this.epoch;
    return e;
  }

  private loadPoint(t: StateTable): Stored | typeof DELETED {
    const ls = t.layers;
    for (let i = ls.length - 1; i >= 0; i--) {
      const p = ls[i]!.points.get(this.id);
      if (p !== undefined) return p.stored;
    }
    this.readWork++;
    const stored = this.db.get(this.currentPrefix(t.name));
    return stored === undefined ? DELETED : stored;
  }

  private readPoint(t: StateTable): unknown {
    const e = this.point(t);
    const stored = e.stored;
    if (stored === DELETED) return undefined;
    const ttl = t.ttl;
    if (ttl === undefined) return stored;
    const w = stored as [number, unknown];
    const now = this.clock.now();
    if (w[0] <= now) {
      this.setPoint(t, e, DELETED);
      return undefined;
    }
    if (ttl.update === 'on-read-and-write') this.setPoint(t, e, [now + ttl.ttlMs, w[1]]);
    return w[1];
  }

  private setPoint(t: StateTable, e: CachedPoint, stored: Stored | typeof DELETED): void {
    e.stored = stored;
    if (!e.dirty) this.cache.markDirty(e);
    this.tick();
  }

  private writePoint(t: StateTable, value: unknown): void {
    this.writePointStored(t, t.ttl === undefined ? value : [this.clock.now() + t.ttl.ttlMs, value]);
  }

  private writePointStored(t: StateTable, stored: Stored | typeof DELETED): void {
    const e = this.cachedPoint(t);
    if (e !== undefined) {
      this.setPoint(t, e, stored);
      return;
    }
    const n = this.cache.insert(t, this.id, this.keyGroup, this.key, stored, true);
    t.last = n;
    t.lastEpoch = this.epoch;
    this.tick();
  }

  /**
   * After every cached write. Past MAX_DIRTY_BATCHES * flushEvery dirty entries, the oldest
   * flushEvery are written back (one batch), so a snapshot encodes at most that many at the barrier.
   * Cached writes do not make batches otherwise; the TTL sweep still goes on every `flushEvery` of them.
   */
  private tick(): void {
    const c = this.cache;
    if (c.dirtyCount > this.maxDirty) c.writeBackOldest(this.maxDirty - this.flushEvery, (t, e) => this.writeBack(t, e, true));
    if (++this.ticks < this.flushEvery) return;
    this.ticks = 0;
    if (this.ttlTables.length > 0) this.sendBatch(true);
  }

  /** Puts a dirty cache entry's value into the current layer (on eviction, snapshot and flush). */
  private writeBack(t: StateTable, e: CachedPoint, send: boolean): void {
    const l = this.layer(t);
    if (t.kind === 'map' || t.kind === 'list') {
      const n = t.kind === 'map' ? (e.stored as CachedMap).writeBack(l, e.id, e.kg, e.key) : (e.stored as CachedList).writeBack(l, e.id, e.kg, e.key);
      this.pending += n;
      if (send && this.pending >= this.flushEvery) this.sendBatch();
      return;
    }
    const p = l.points.get(e.id);
    if (p !== undefined) {
      p.stored = e.stored;
      return;
    }
    l.points.set(e.id, { kg: e.kg, key: e.key, stored: e.stored });
    if (send) this.noteWrite();
    else this.pending++;
  }

  // Value semantics (value-serializer.ts), as in the heap backend: writes keep a copy, reads hand
  // out a copy (the cache's object never leaves the backend, so eviction changes nothing a caller
  // can see); the accumulator of reducing and aggregating state is the state's own and only checked.

  getValueState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    return this.cached(d.name, () => {
      const t = this.table(d.name, 'value', d.ttl, serializerOf(d));
      const ser = serializerOf<T>(d);
      const uid = this.options.operatorUid;
      return {
        value: () => {
          const v = this.readPoint(t) as T | undefined;
          return v === undefined ? undefined : ser.copy(v);
        },
        update: (v: T) => (v === undefined ? this.writePointStored(t, DELETED) : this.writePoint(t, copyIn(ser, v, uid, d.name))),
        clear: () => this.writePointStored(t, DELETED),
      };
    });
  }

  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.cached(d.name, () => {
      const t = this.table(d.name, 'reducing', d.ttl, serializerOf(d));
      const ser = serializerOf<T>(d);
      const uid = this.options.operatorUid;
      return {
        get: () => {
          const v = this.readPoint(t) as T | undefined;
          return v === undefined ? undefined : ser.copy(v);
        },
        add: (v: T) => {
          const cur = this.readPoint(t) as T | undefined;
          const c = copyIn(ser, v, uid, d.name);
          this.writePoint(t, cur === undefined ? c : checkIn(ser, d.reduce(cur, c), uid, d.name));
        },
        clear: () => this.writePointStored(t, DELETED),
      };
    });
  }

  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.cached(d.name, () => {
      const t = this.table(d.name, 'aggregating', d.ttl, serializerOf(d));
      const agg = d.aggregate;
      const ser = serializerOf<ACC>(d);
      const uid = this.options.operatorUid;
      return {
        get: () => {
          const acc = this.readPoint(t) as ACC | undefined;
          return acc === undefined ? undefined : agg.getResult(acc);
        },
        add: (v: IN) => {
          const acc = this.readPoint(t) as ACC | undefined;
          this.writePoint(t, checkIn(ser, agg.add(v, acc === undefined ? agg.createAccumulator() : acc), uid, d.name));
        },
        clear: () => this.writePointStored(t, DELETED),
      };
    });
  }

  // ---- list state ----------------------------------------------------------------------------

  /** The current key's cached list, created (knowing nothing below) on a miss. */
  private listEntry(t: StateTable): CachedPoint {
    const e = this.cachedPoint(t);
    if (e !== undefined) return e;
    const n = this.cache.insert(t, this.id, this.keyGroup, this.key, new CachedList(false), false);
    t.last = n;
    t.lastEpoch = this.epoch;
    return n;
  }

  private listChanged(e: CachedPoint, cl: CachedList): void {
    if (!e.dirty) this.cache.markDirty(e);
    this.cache.reweigh(e, 1 + cl.elems.length);
    this.tick();
  }

  private listAdd(t: StateTable, stored: readonly Stored[], clear: boolean): void {
    const e = this.listEntry(t);
    const cl = e.stored as CachedList;
    if (clear) cl.clear();
    for (const s of stored) cl.add(s, this.nextSeq++);
    this.listChanged(e, cl);
  }

  /**
   * The elements the layers and LMDB hold for the current key, oldest first: LMDB's with every
   * buffered layer replayed on top. Replaying a layer LMDB already holds changes nothing: a clear
   * starts over and re-adds, an element whose seq is not above the last one present is already
   * there (seqs only grow).
   */
  private listStored(t: StateTable): Stored[] {
    const seqs: number[] = [];
    const stored: Stored[] = [];
    for (const { key, value } of this.db.getRange(prefixRange(this.currentPrefix(t.name)))) {
      this.readWork++;
      seqs.push((key as unknown[])[(key as unknown[]).length - 1] as number);
      stored.push(value);
    }
    for (const layer of t.layers) {
      const l = layer.lists.get(this.id);
      if (l === undefined) continue;
      this.readWork += l.seqs.length;
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

  private readList(t: StateTable): unknown[] {
    const e = this.listEntry(t);
    const cl = e.stored as CachedList;
    if (!cl.complete) {
      cl.load(this.listStored(t));
      this.cache.reweigh(e, 1 + cl.elems.length);
    }
    const stored = cl.elems;
    const ttl = t.ttl;
    const ser = t.serializer;
    // The cached elements are the state's own: hand out copies.
    if (ttl === undefined) return stored.map((v) => ser.copy(v));
    const now = this.clock.now();
    const live = stored.filter((s) => (s as [number, unknown])[0] > now);
    const values = live.map((s) => ser.copy((s as [number, unknown])[1]));
    const refresh = ttl.update === 'on-read-and-write';
    if ((live.length < stored.length || refresh) && stored.length > 0) {
      // Rewrite: drop expired elements (and restart the clock of the others on read-and-write).
      this.listAdd(t, refresh ? live.map((s) => [now + ttl.ttlMs, (s as [number, unknown])[1]]) : live, true);
    }
    return values;
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.cached(d.name, () => {
      const t = this.table(d.name, 'list', d.ttl, serializerOf(d));
      const ser = serializerOf<T>(d);
      const uid = this.options.operatorUid;
      const wrap = (v: T): Stored => {
        const c = copyIn(ser, v, uid, d.name);
        return t.ttl === undefined ? c : [this.clock.now() + t.ttl.ttlMs, c];
      };
      return {
        get: () => this.readList(t) as T[],
        add: (v: T) => this.listAdd(t, [wrap(v)], false),
        addAll: (vs: readonly T[]) => this.listAdd(t, vs.map(wrap), false),
        // all checked before the list changes
        update: (vs: readonly T[]) => this.listAdd(t, vs.map(wrap), true),
        clear: () => this.listAdd(t, [], true),
      };
    });
  }

  // ---- map state (cached: map-cache.ts) -----------------------------------------------------

  /** The current key's cached map, created (knowing nothing yet) on a miss. */
  private mapEntry(t: StateTable): CachedPoint {
    const e = this.cachedPoint(t);
    if (e !== undefined) return e;
    // A small map is loaded whole at once (one range scan): then user keys it does not have (a
    // window's next pane, a join's next timestamp) are answered without reading LMDB.
    const cm = new CachedMap(false);
    const prefix = this.currentPrefix(t.name);
    let small = 0;
    for (const _ of this.db.getKeys({ ...prefixRange(prefix), limit: SMALL_MAP + 1 } as never)) small++;
    this.readWork += small;
    if (small <= SMALL_MAP) cm.complete_(this.mapBelow(t));
    const n = this.cache.insert(t, this.id, this.keyGroup, this.key, cm, false, 1 + cm.known.size);
    t.last = n;
    t.lastEpoch = this.epoch;
    return n;
  }

  /** A user key's value as the layers and LMDB hold it (DELETED when absent), TTL not applied. */
  private mapStoredBelow(t: StateTable, uk: StateKey, ukId: KeyId): Stored | typeof DELETED {
    for (let i = t.layers.length - 1; i >= 0; i--) {
      const m = t.layers[i]!.maps.get(this.id);
      if (m === undefined) continue;
      this.readWork++;
      const e = m.puts.get(ukId);
      if (e !== undefined) return e.stored;
      if (m.cleared) return DELETED;
    }
    this.readWork++;
    const stored = this.db.get(pushKey(this.currentPrefix(t.name), uk));
    return stored === undefined ? DELETED : stored;
  }

  /** The current key's whole map as the layers and LMDB hold it, in user-key order. */
  private mapBelow(t: StateTable): [KeyId, StateKey, Stored][] {
    const prefix = this.currentPrefix(t.name);
    const at = prefix.length;
    const found: [KeyId, StateKey, Stored][] = [];
    for (const { key, value } of this.db.getRange(prefixRange(prefix))) {
      const uk = readKey(key as unknown[], at)[0];
      found.push([keyId(uk), uk, value]);
    }
    this.readWork += found.length;
    if (!t.layers.some((l) => l.maps.has(this.id))) return found;
    // Replay the buffered layers over LMDB's entries, then order by user key.
    const merged = new Map<KeyId, [KeyId, StateKey, Stored]>();
    for (const e of found) merged.set(e[0], e);
    for (const layer of t.layers) {
      const m = layer.maps.get(this.id);
      if (m === undefined) continue;
      if (m.cleared) merged.clear();
      this.readWork += m.puts.size;
      for (const [id, e] of m.puts) {
        if (e.stored === DELETED) merged.delete(id);
        else merged.set(id, [id, e.uk, e.stored]);
      }
    }
    return [...merged.values()].sort((x, y) => compareKeys(x[1], y[1]));
  }

  /** Writes a user key of the current key's map (DELETED removes it). */
  private mapWrite(t: StateTable, uk: StateKey, stored: Stored | typeof DELETED): void {
    const e = this.mapEntry(t);
    const cm = e.stored as CachedMap;
    cm.write(keyId(uk), uk, stored);
    this.mapChanged(e, cm);
  }

  private mapChanged(e: CachedPoint, cm: CachedMap): void {
    if (!e.dirty) this.cache.markDirty(e);
    this.cache.reweigh(e, 1 + cm.known.size);
    this.tick();
  }

  /** Unwraps a stored map value (TTL), or undefined if expired (then removes it). */
  private liveMapValue(t: StateTable, uk: StateKey, stored: Stored): unknown {
    const ttl = t.ttl;
    if (ttl === undefined) return stored;
    const w = stored as [number, unknown];
    const now = this.clock.now();
    if (w[0] <= now) {
      this.mapWrite(t, uk, DELETED);
      return undefined;
    }
    if (ttl.update === 'on-read-and-write') this.mapWrite(t, uk, [now + ttl.ttlMs, w[1]]);
    return w[1];
  }

  private mapGet(t: StateTable, uk: StateKey): unknown {
    const e = this.mapEntry(t);
    const cm = e.stored as CachedMap;
    const ukId = keyId(uk);
    let k = cm.known.get(ukId);
    if (k === undefined) {
      if (cm.complete) return undefined;
      cm.learn(ukId, uk, this.mapStoredBelow(t, uk, ukId));
      k = cm.known.get(ukId)!;
      this.cache.reweigh(e, 1 + cm.known.size);
    }
    const stored = k.stored;
    if (stored === DELETED) return undefined;
    const v = this.liveMapValue(t, uk, stored);
    // The cached object is the state's own: hand out a copy.
    return v === undefined ? undefined : t.serializer.copy(v);
  }

  /** The current key's cached map, complete and in user-key order. */
  private completeMap(t: StateTable): CachedMap {
    const e = this.mapEntry(t);
    const cm = e.stored as CachedMap;
    if (!cm.complete) {
      cm.complete_(this.mapBelow(t));
      this.cache.reweigh(e, 1 + cm.known.size);
    }
    cm.sort();
    return cm;
  }

  /** Live entries of the current key's map, in user-key order. */
  private *mapEntries(t: StateTable): IterableIterator<[StateKey, unknown]> {
    const cm = this.completeMap(t);
    const entries: [StateKey, Stored][] = [];
    for (const e of cm.known.values()) if (e.stored !== DELETED) entries.push([e.uk, e.stored]);
    const ser = t.serializer;
    for (const [uk, s] of entries) {
      const v = this.liveMapValue(t, uk, s);
      if (v !== undefined) yield [uk, ser.copy(v)];
    }
  }

  /**
   * Called per record by operators that keep a map per key (a window's accumulators), so it must
   * not cost the size of the map: a present user key the cache knows answers at once (merging and
   * sorting the whole map here made Nexmark q5 on LMDB quadratic, 2k events/s at p1).
   */
  private mapIsEmpty(t: StateTable): boolean {
    const e = this.mapEntry(t);
    let cm = e.stored as CachedMap;
    if (cm.present > 0 && t.ttl === undefined) return false;
    if (!cm.complete) cm = this.completeMap(t);
    if (cm.present === 0) return true;
    if (t.ttl === undefined) return false;
    const present: KnownEntry[] = [];
    for (const k of cm.known.values()) if (k.stored !== DELETED) present.push(k);
    for (const k of present) if (this.liveMapValue(t, k.uk, k.stored) !== undefined) return false;
    return true;
  }

  getMapState<UK extends StateKey, UV>(d: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.cached(d.name, () => {
      const t = this.table(d.name, 'map', d.ttl, serializerOf(d));
      const self = this;
      const ser = serializerOf<UV>(d);
      const uid = this.options.operatorUid;
      return {
        get: (k: UK) => this.mapGet(t, k) as UV | undefined,
        put: (k: UK, v: UV) => {
          const c = copyIn(ser, v, uid, d.name);
          this.mapWrite(t, k, t.ttl === undefined ? c : [this.clock.now() + t.ttl.ttlMs, c]);
        },
        remove: (k: UK) => this.mapWrite(t, k, DELETED),
        contains: (k: UK) => this.mapGet(t, k) !== undefined,
        entries: () => this.mapEntries(t) as IterableIterator<[UK, UV]>,
        keys: function* () {
          for (const [k] of self.mapEntries(t)) yield k as UK;
        },
        isEmpty: () => this.mapIsEmpty(t),
        clear: () => {
          const e = this.mapEntry(t);
          const cm = e.stored as CachedMap;
          cm.clear();
          this.mapChanged(e, cm);
        },
      };
    });
  }

  // ---- TTL sweep -------------------------------------------------------------------------------

  /**
   * Looks at up to `budget` entries of TTL states (going on where the last call stopped) and queues
   * deletes of the expired ones without buffered writes into the next batch (ttl-sweep.ts). Runs
   * with every batch; returns how many deletes it queued.
   */
  sweepExpired(budget: number): number {
    if (this.ttlTables.length === 0) return 0;
    const deletes = this.sweeper.sweep(this.ttlTables, this.clock.now(), budget);
    for (const d of deletes) this.sweepDeletes.push(d);
    return deletes.length;
  }

  // ---- all keys, timers ------------------------------------------------------------------------

  *keys(stateName: string): Iterable<[StateKey, number]> {
    this.flush();
    const t = this.tables.get(stateName);
    const pointTtl = t !== undefined && t.ttl !== undefined && t.kind !== 'list' && t.kind !== 'map';
    const now = this.clock.now();
    for (let kg = this.keyGroupRange.start; kg <= this.keyGroupRange.end; kg++) {
      let last: KeyId | undefined;
      const found: [StateKey, number][] = [];
      for (const { key, value } of this.db.getRange(prefixRange([kg, stateName]))) {
        if (pointTtl && (value as [number])[0] <= now) continue;
        const k = readKey(key as unknown[], 2)[0];
        const id = keyId(k);
        if (id === last) continue;
        last = id;
        found.push([k, kg]);
      }
      yield* found;
    }
  }

  writeTimer(id: string, key: KeyPart[], present: boolean): void {
    let tl = this.timerLayers[this.timerLayers.length - 1];
    if (tl === undefined || tl.gen !== this.gen) {
      tl = { gen: this.gen, writes: new Map() };
      this.timerLayers.push(tl);
    }
    const w = tl.writes.get(id);
    if (w !== undefined) {
      w.present = present;
      return;
    }
    tl.writes.set(id, { key, present });
    this.noteWrite();
  }

  hasTimer(id: string, key: KeyPart[]): boolean {
    for (let i = this.timerLayers.length - 1; i >= 0; i--) {
      const w = this.timerLayers[i]!.writes.get(id);
      if (w !== undefined) return w.present;
    }
    this.readWork++;
    return this.db.get(key) !== undefined;
  }

  *scanTimers(keyGroup: number, domain: TimeDomain, from: number): Iterator<Timer> {
    this.flush();
    const prefix: KeyPart[] = [keyGroup, TIMERS, domainCode(domain)];
    const { end } = prefixRange(prefix);
    const start = from === -Infinity ? prefixRange(prefix).start : encodeKeyBytes([...prefix, from]);
    for (const key of this.db.getKeys({ start, end } as never) as Iterable<unknown[]>) {
      const [k, next] = readKey(key, 4);
      yield { time: key[3] as number, key: k, keyGroup, namespace: key[next] as string };
    }
  }

  // ---- snapshot and restore ----------------------------------------------------------------

  async snapshot(checkpointId: number, scope: CheckpointScope = 'checkpoint'): Promise<KeyedStateHandle> {
    const storage = this.options.storage;
    if (!storage) throw new Error(`state backend of operator '${this.options.operatorUid}' has no checkpoint storage: pass 'storage' to createKeyedStateBackend`);
    const base = {
      type: 'weir.keyed-state' as const,
      version: 1 as const,
      backend: 'lmdb' as const,
      operatorUid: this.options.operatorUid,
      subtask: this.options.subtask,
      checkpointId,
      maxParallelism: this.maxParallelism,
      keyGroupRange: { ...this.keyGroupRange },
      nextListSeq: this.nextSeq,
    };
    if (this.gen === 1 && this.pending === 0 && this.cache.size <= this.maxDirty && this.noCachedCollections() && this.timers.unsavedCount() === 0) {
      // Nothing was ever sent to LMDB and nothing is buffered: the cache is the whole state.
      const snap = snapshotCache(this.tables.values(), this.keyGroupRange, this.clock.now(), (v) => this.encoder.encode(v));
      this.cacheSnapshots++;
      return writeKeyedSnapshotChunks(storage, base, snap.chunks, snap.blocks, scope);
    }
    // The writer thread applies batches in order and opens the snapshot's read transaction after
    // the last batch sent here: the view is fixed now, and nothing waits for it. Dirty cached
    // values are encoded into that batch here, so later writes to them cannot reach the snapshot.
    this.writeBackAll();
    this.sendBatch();
    const ttlNames = [...this.tables.values()].filter((t) => t.ttl !== undefined).map((t) => t.name);
    const stream = this.writer.snapshot({ ...this.keyGroupRange }, ttlNames, this.clock.now());
    return writeKeyedSnapshotChunks(storage, base, stream.chunks, stream.blocks, scope);
  }

  private noCachedCollections(): boolean {
    for (const t of this.tables.values()) if ((t.kind === 'map' || t.kind === 'list') && t.cache.size > 0) return false;
    return true;
  }

  /** Loads the owned key groups of `handles` (from any backend and parallelism). */
  async restore(handles: readonly KeyedStateHandle[]): Promise<void> {
    const storage = this.options.storage;
    if (handles.length === 0) return;
    if (!storage) throw new Error(`restore of operator '${this.options.operatorUid}' needs checkpoint storage: pass 'storage' to createKeyedStateBackend`);
    this.flush();
    for (const h of handles) this.nextSeq = Math.max(this.nextSeq, h.nextListSeq);
    // The writer thread puts the blocks (lmdb-js batches them natively); at most a few in flight.
    await readOwnedBlocks(storage, handles, this.keyGroupRange, this.maxParallelism, (_kg, bytes) => {
      this.gen = this.writer.sendEntries(bytes) + 1;
      if (this.gen - 1 - this.seenCommitted > MAX_IN_FLIGHT) {
        this.writer.waitFor(this.gen - 1 - MAX_IN_FLIGHT);
        this.collectCommitted();
      }
    });
    this.flush();
    this.cache.clear();
    this.epoch++;
    this.timers.rebuild();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.writer.close();
    await this.env.close();
    await rm(this.options.path, { recursive: true, force: true });
  }
}
