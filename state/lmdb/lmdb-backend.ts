/**
 * Keyed state in LMDB (lmdb-js): larger than the heap, the default for jobs. Layout in ../layout.ts.
 *
 * This file wires the pieces and owns what spans them (snapshot, restore, all-keys iteration,
 * timer storage):
 * - state-access.ts: the current key and the cache of deserialized entries (point-cache.ts);
 * - point-state.ts, list-state.ts, map-state.ts: the handles of each state kind;
 * - write-buffer.ts: the write-back buffer, batches to the writer thread (lmdb-writer.ts), TTL sweep.
 *
 * Handles are synchronous. Writes go to the cache, then to a write-back buffer per state; every
 * `flushEvery` writes the buffer is encoded into one batch and handed to this backend's LMDB writer
 * thread, which gives it to lmdb-js as async puts and deletes (committed in order, in large native
 * transactions) while processing goes on. Reads look through the cache, the layers, then LMDB. The
 * working environment is opened with noSync: it is scratch space that is never reused after a
 * crash (a restart restores from a checkpoint into a fresh directory). (useWritemap wrote about
 * 1.3x faster but tripped an LMDB assertion in mdb_freelist_save under this two-thread use; it
 * stays off.)
 * Snapshots are taken by the writer thread: the request is queued behind the batches sent before it,
 * so its read transaction is exactly the state at the snapshot() call.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { rm } from '../../runtime/worker-safe-fs.ts';
import { outsideTermination } from '../../runtime/terminate-guard.ts';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ENVIRONMENT_OPTIONS } from './environment.ts';
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
import { serializerOf } from '../descriptors.ts';
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from '../handles.ts';
import { keyId, type KeyId } from '../key-codec.ts';
import type { KeyGroupRange, StateKey } from '../key-groups.ts';
import { TIMERS, domainCode, encodeKeyBytes, prefixRange, readKey, validateStateName, type KeyPart } from '../layout.ts';
import { readOwnedBlocks, writeKeyedSnapshotChunks } from '../snapshot/entry-file.ts';
import type { KeyedStateHandle } from '../snapshot/keyed-state-handle.ts';
import type { TimeDomain, Timer } from '../timers.ts';
import type { StateSerializer } from '../value-serializer.ts';
import { STATE_VALUE_ENCODING } from '../heap/heap-snapshot.ts';
import { LmdbTimerService, type TimerStore } from './lmdb-timers.ts';
import { type Stored, StateTable } from './layers.ts';
import { LmdbWriterClient } from './writer-client.ts';
import { PointCache, defaultCacheEntries, needsWriteBack } from './point-cache.ts';
import { CacheSnapshotter, type CacheSnapshotWork } from './cache-snapshot.ts';
import { StateAccess } from './state-access.ts';
import { WriteBuffer } from './write-buffer.ts';
import { aggregatingState, reducingState, valueState } from './point-state.ts';
import { listState } from './list-state.ts';
import { mapState } from './map-state.ts';

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
  private readonly clock: Clock;
  private readonly tables = new Map<string, StateTable>();
  private readonly handles = new Map<string, unknown>();
  private readonly ttlTables: StateTable[] = [];
  private readonly cache: PointCache<StateTable>;
  private readonly buffer: WriteBuffer;
  private readonly access: StateAccess;
  private disposed = false;
  /** A restore wrote LMDB directly: the states' key filters (key-filter.ts) are off. */
  private restored = false;
  /** Snapshots encoded from the cache alone (cache-snapshot.ts), for tests. */
  cacheSnapshots = 0;
  private readonly cacheSnapshotter = new CacheSnapshotter();

  constructor(private readonly options: LmdbBackendOptions) {
    this.keyGroupRange = options.keyGroupRange;
    this.maxParallelism = options.maxParallelism;
    this.clock = options.clock ?? systemClock;
    // Opening (and closing) runs where a terminate of this thread cannot land: lmdb-js aborts the
    // process when its thread is terminated inside these calls (runtime/terminate-guard.ts).
    const { env, db } = outsideTermination(() => {
      const env = open({ path: options.path, ...ENVIRONMENT_OPTIONS });
      // The same msgpack options as the heap backend (Set, typed arrays kept): either reads the other's snapshots.
      return { env, db: env.openDB<Stored, KeyPart[]>('state', { encoder: { ...STATE_VALUE_ENCODING } } as never) };
    });
    this.env = env;
    this.db = db;
    this.encoder = (this.db as unknown as { encoder: { encode(v: unknown): Uint8Array } }).encoder;
    this.writer = new LmdbWriterClient(options.path);
    this.timers = new LmdbTimerService(this);
    const flushEvery = options.flushEvery ?? 32768;
    this.buffer = new WriteBuffer(this.env, this.db, this.encoder, this.writer, this.tables, this.ttlTables, this.keyGroupRange, this.clock, flushEvery);
    const buffer = this.buffer;
    this.cache = new PointCache<StateTable>(
      options.cacheEntries ?? defaultCacheEntries(),
      (t, e) => buffer.writeBack(t, e, true),
      (t, e) => buffer.evictedSent(t, e),
    );
    // Dirty entries wait in the cache while it is the whole state, and while a write-back from a
    // cache snapshot's bytes goes on (it would copy what the bound would encode).
    this.access = new StateAccess(this.db, this.clock, this.cache, this.buffer, this.ttlTables, () => this.snapshotWriteBacks > 0 || this.cacheIsTheState());
  }

  /**
   * Read work done for state handles, for tests that bound the work per record: LMDB gets, entries
   * read by range scans, and buffered map or list entries replayed over them.
   */
  get readWork(): number {
    return this.access.readWork;
  }

  /** Write batches sent to LMDB so far (restores included), for tests that check what stayed in the cache. */
  /** Keys and values cache snapshots encoded and entries they reused, for tests that bound the work. */
  get cacheSnapshotWork(): CacheSnapshotWork {
    return this.cacheSnapshotter.work;
  }

  /** Entries in the cache (weights: a map or list counts 1 + its elements), for tests. */
  get cachedEntries(): number {
    return this.cache.size;
  }

  get batchesSent(): number {
    return this.buffer.sentBatches();
  }

  /** Write-back work, for tests: point values put into batches without a layer entry, and layer entries made for points. */
  get pointWriteBacks(): { direct: number; layered: number } {
    return { direct: this.buffer.directWrites, layered: this.buffer.layerPoints };
  }

  setCurrentKey(key: StateKey, keyGroup: number, keyHash?: number): void {
    this.access.setCurrentKey(key, keyGroup, keyHash);
  }

  currentKey(): StateKey {
    return this.access.key;
  }

  currentKeyGroup(): number {
    return this.access.keyGroup;
  }

  /** Puts every dirty cached value and timer into the current layer (one batch, however many). */
  private writeBackAll(): void {
    this.access.writeBackAll();
    this.timers.saveAll();
  }

  /** Sends the buffer and waits until LMDB holds every write made so far. */
  flush(): void {
    this.writeBackAll();
    this.buffer.sendAndWait();
  }

  private table(name: string, kind: string, ttl: StateTtlConfig | undefined, serializer: StateSerializer<unknown>): StateTable {
    validateStateName(name);
    let t = this.tables.get(name);
    if (!t) {
      t = new StateTable(name, kind, ttl, serializer);
      if (this.restored) t.lmdbKeys.giveUp();
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

  getValueState<T>(d: ValueStateDescriptor<T>): ValueState<T> {
    return this.cached(d.name, () => valueState(this.access, this.table(d.name, 'value', d.ttl, serializerOf(d)), d, this.options.operatorUid));
  }

  getReducingState<T>(d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.cached(d.name, () => reducingState(this.access, this.table(d.name, 'reducing', d.ttl, serializerOf(d)), d, this.options.operatorUid));
  }

  getAggregatingState<IN, ACC, OUT>(d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.cached(d.name, () => aggregatingState(this.access, this.table(d.name, 'aggregating', d.ttl, serializerOf(d)), d, this.options.operatorUid));
  }

  getListState<T>(d: ListStateDescriptor<T>): ListState<T> {
    return this.cached(d.name, () => listState(this.access, this.table(d.name, 'list', d.ttl, serializerOf(d)), d, this.options.operatorUid));
  }

  getMapState<UK extends StateKey, UV>(d: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.cached(d.name, () => mapState(this.access, this.table(d.name, 'map', d.ttl, serializerOf(d)), d, this.options.operatorUid));
  }

  /** See WriteBuffer.sweepExpired: queues deletes of expired TTL entries; callable when the operator is idle. */
  sweepExpired(budget: number): number {
    return this.buffer.sweepExpired(budget);
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
    this.buffer.writeTimer(id, key, present);
  }

  hasTimer(id: string, key: KeyPart[]): boolean {
    const buffered = this.buffer.bufferedTimer(id);
    if (buffered !== undefined) return buffered;
    this.access.readWork++;
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
      nextListSeq: this.access.nextSeq,
    };
    if (this.cacheIsTheState()) {
      // The write-back from the snapshot's bytes is not part of the snapshot: it starts once they are
      // all handed out and goes on between records. A writer thread failure it meets fails the next
      // write, read or snapshot that needs the writer (its status stays failed).
      const snap = this.cacheSnapshotter.snapshot(this.tables.values(), this.keyGroupRange, this.clock.now(), (v) => this.encoder.encode(v), (gen, entries, chunks, starts) => {
        this.writingBack = this.writeBackSnapshotted(gen, entries, chunks, starts).catch(() => {});
      });
      this.cacheSnapshots++;
      return writeKeyedSnapshotChunks(storage, base, snap.chunks, snap.blocks, scope);
    }
    // The writer thread applies batches in order and opens the snapshot's read transaction after
    // the last batch sent here: the view is fixed now, and nothing waits for it. Dirty cached
    // values are encoded into that batch here, so later writes to them cannot reach the snapshot.
    this.writeBackAll();
    this.buffer.sendBatch();
    const ttlNames = [...this.tables.values()].filter((t) => t.ttl !== undefined).map((t) => t.name);
    const stream = this.writer.snapshot({ ...this.keyGroupRange }, ttlNames, this.clock.now());
    return writeKeyedSnapshotChunks(storage, base, stream.chunks, stream.blocks, scope);
  }

  /**
   * Whether the cache is the whole state and a snapshot is taken from it (cache-snapshot.ts):
   * nothing was ever sent to LMDB, nothing is buffered or written back from a snapshot now, no
   * list or unsaved timer is cached (a cache snapshot holds single values and maps), no cached map
   * holds values that would be encoded at the barrier, and at most `maxDirty` single values would be.
   */
  private cacheIsTheState(): boolean {
    if (this.buffer.sentBatches() !== 0 || this.buffer.pending !== 0 || this.snapshotWriteBacks !== 0) return false;
    if (this.timers.unsavedCount() !== 0) return false;
    let encodedAtBarrier = 0;
    for (const t of this.tables.values()) {
      if (t.kind === 'list' || (t.kind === 'map' && !t.valuesImmutable)) {
        if (t.cache.size > 0) return false;
      } else if (!t.valuesImmutable) encodedAtBarrier += t.cache.size;
    }
    return encodedAtBarrier <= this.access.maxDirty;
  }

  /** Write-backs from a cache snapshot's bytes going on (writeBackSnapshotted). */
  private snapshotWriteBacks = 0;
  private writingBack: Promise<void> = Promise.resolve();

  /** Resolves once the write-back from the last cache snapshot's bytes is done, for tests. */
  snapshotWriteBackDone(): Promise<void> {
    return this.writingBack;
  }

  /**
   * After a cache snapshot of more entries than a snapshot through LMDB may encode at the barrier:
   * the values it wrote that are still the cached ones (dirty, unchanged since the barrier) go to
   * LMDB as the snapshot's bytes, copied, not encoded again, and are clean after. From then on the
   * backend is LMDB's (snapshots through the writer thread, dirty entries bounded): a large state
   * is encoded once, for its first snapshot, instead of at every snapshot from the cache. Runs in
   * slices between records; a value changed or evicted meanwhile is left to the usual write-back.
   * Smaller cache snapshots leave the state in the cache (the next one reuses their bytes).
   */
  private async writeBackSnapshotted(gen: number, entries: number, chunks: readonly Buffer[], starts: readonly number[]): Promise<void> {
    if (entries <= this.access.maxDirty || this.disposed) return;
    this.snapshotWriteBacks++;
    try {
      const buffer = this.buffer;
      const cache = this.cache;
      let n = 0;
      let sliceStart = performance.now();
      for (const t of this.tables.values()) {
        if (t.kind === 'map' || t.kind === 'list' || t.ttl !== undefined) continue;
        for (const e of t.cache.values()) {
          if (!needsWriteBack(e) || e.recordGen !== gen || !Object.is(e.stored, e.recordOf)) continue;
          const c = chunkAt(starts, e.recordAt);
          if (buffer.writeBackFromSnapshot(t, e, chunks[c]!, e.recordAt - starts[c]!)) cache.markClean(e);
          if (++n % 512 === 0 && performance.now() - sliceStart >= WRITE_BACK_SLICE_MS) {
            await yieldToEventLoop();
            if (this.disposed) return;
            sliceStart = performance.now();
          }
        }
      }
      buffer.sendBatch();
    } finally {
      this.snapshotWriteBacks--;
    }
  }

  /** Loads the owned key groups of `handles` (from any backend and parallelism). */
  async restore(handles: readonly KeyedStateHandle[]): Promise<void> {
    const storage = this.options.storage;
    if (handles.length === 0) return;
    if (!storage) throw new Error(`restore of operator '${this.options.operatorUid}' needs checkpoint storage: pass 'storage' to createKeyedStateBackend`);
    this.flush();
    // The restored entries reach LMDB without the write-back buffer: the key filters cannot know them.
    this.restored = true;
    for (const t of this.tables.values()) t.lmdbKeys.giveUp();
    for (const h of handles) this.access.nextSeq = Math.max(this.access.nextSeq, h.nextListSeq);
    // The writer thread puts the blocks (lmdb-js batches them natively); at most a few in flight.
    await readOwnedBlocks(storage, handles, this.keyGroupRange, this.maxParallelism, (_kg, bytes) => this.buffer.sendEntries(bytes));
    this.flush();
    this.cache.clear();
    this.cacheSnapshotter.reset();
    this.access.epoch++;
    this.timers.rebuild();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.writer.close();
    await outsideTermination(() => this.env.close());
    await rm(this.options.path, { recursive: true, force: true });
  }
}

/** Time spent writing back from a snapshot's bytes between yields to the event loop (as cache-snapshot.ts encodes). */
const WRITE_BACK_SLICE_MS = 8;

/** The index of the chunk holding file offset `at` (`starts`: each chunk's first offset, ascending). */
function chunkAt(starts: readonly number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
