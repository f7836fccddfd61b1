/**
 * The LMDB backend's write-back buffer and its hand-off to the writer thread: per state one layer
 * per batch not yet committed (layers.ts), the timer layers, the TTL sweep's deletes. Every
 * `flushEvery` buffered writes become one batch (encoded here, applied by the writer thread); a sent
 * batch stays readable as a layer until its commit is seen in shared memory, and at most
 * MAX_IN_FLIGHT batches are outstanding (then the processing thread waits for the oldest).
 */
import type { Database, RootDatabase } from 'lmdb';
import type { Clock } from '../backend.ts';
import type { KeyId } from '../key-codec.ts';
import type { KeyGroupRange } from '../key-groups.ts';
import { prefixRange, type KeyPart } from '../layout.ts';
import { DELETED, type Layer, type PendingPoint, type StateTable, type TimerLayer, encodeLayer, encodeTimerLayer } from './layers.ts';
import type { CachedList } from './list-cache.ts';
import type { CachedMap } from './map-cache.ts';
import { entryId, entryKeyGroup, type CachedPoint } from './point-cache.ts';
import { TtlSweeper } from './ttl-sweep.ts';
import { WriteBatchBuilder } from './write-batch.ts';
import type { LmdbWriterClient } from './writer-client.ts';

const MAX_IN_FLIGHT = 2;
/** Entries of TTL states the background sweep looks at per batch sent. */
const SWEEP_PER_BATCH = 2048;

export class WriteBuffer {
  private readonly batch = new WriteBatchBuilder();
  private readonly sweeper: TtlSweeper;
  private sweepDeletes: Uint8Array[] = [];
  private timerLayers: TimerLayer[] = [];
  /** Number of the batch being buffered now (sent batches are 1..gen-1). */
  private gen = 1;
  private seenCommitted = 0;
  /** Writes buffered in the current batch. */
  pending = 0;
  /** Point values written into batches without a layer entry (writeBackCached), and layer entries made for points: for tests counting the work. */
  directWrites = 0;
  layerPoints = 0;

  constructor(
    private readonly env: RootDatabase,
    private readonly db: Database<unknown, KeyPart[]>,
    private readonly encoder: { encode(v: unknown): Uint8Array },
    private readonly writer: LmdbWriterClient,
    private readonly tables: ReadonlyMap<string, StateTable>,
    private readonly ttlTables: readonly StateTable[],
    keyGroupRange: KeyGroupRange,
    private readonly clock: Clock,
    readonly flushEvery: number,
  ) {
    this.sweeper = new TtlSweeper(db, keyGroupRange);
  }

  /** Batches sent to the writer thread so far. */
  sentBatches(): number {
    return this.gen - 1;
  }

  noteWrite(): void {
    if (++this.pending >= this.flushEvery) this.sendBatch();
  }

  /** The current batch's layer of `t`. */
  layer(t: StateTable): Layer {
    const ls = t.layers;
    const last = ls[ls.length - 1];
    if (last !== undefined && last.gen === this.gen) return last;
    const l: Layer = { gen: this.gen, points: new Map(), lists: new Map(), maps: new Map() };
    ls.push(l);
    return l;
  }

  /** Puts a dirty cache entry's value into the current layer (on eviction, snapshot and flush). */
  writeBack(t: StateTable, e: CachedPoint, send: boolean): void {
    const l = this.layer(t);
    const id = entryId(e);
    const kg = entryKeyGroup(e);
    if (e.stored !== DELETED) t.lmdbKeys.add(id);
    if (t.kind === 'map' || t.kind === 'list') {
      const n = t.kind === 'map' ? (e.stored as CachedMap).writeBack(l, id, kg, e.key) : (e.stored as CachedList).writeBack(l, id, kg, e.key);
      this.pending += n;
      if (send && this.pending >= this.flushEvery) this.sendBatch();
      return;
    }
    const p = l.points.get(id);
    if (p !== undefined) {
      p.stored = e.stored;
      return;
    }
    l.points.set(id, { kg, key: e.key, stored: e.stored });
    this.layerPoints++;
    if (send) this.noteWrite();
    else this.pending++;
  }

  /**
   * Writes back a dirty entry that stays cached (tick's oldest dirty entries). A value of a state
   * without TTL is encoded straight into the batch being built, with no layer entry: the cached
   * entry answers every read of its key until it is evicted, and then `evictedSent` puts it into a
   * layer if its batch has not committed yet. Loading a large table (every key new, written back
   * once) then costs no layer Map entry and pending object per key. Deletes, TTL states (the TTL
   * sweep asks the layers what is buffered), maps and lists, and a key the current layer already
   * holds go through the layer as before.
   */
  writeBackCached(t: StateTable, e: CachedPoint): void {
    if (!this.direct(t, e)) {
      this.writeBack(t, e, true);
      return;
    }
    const id = entryId(e);
    const p = this.pendingPoint(t, id);
    if (p !== undefined) {
      p.stored = e.stored;
      return;
    }
    this.batch.putKey2(t.keys.prefix(entryKeyGroup(e)), t.keys.tail(e.key), this.encoder.encode(e.stored));
    this.sentDirect(t, e, id);
  }

  /**
   * writeBackCached with the entry's key and value bytes as a cache snapshot wrote them (`at` in
   * `src`), not encoded again; false (nothing done) where writeBackCached would use a layer.
   */
  writeBackFromSnapshot(t: StateTable, e: CachedPoint, src: Buffer, at: number): boolean {
    if (!this.direct(t, e)) return false;
    const id = entryId(e);
    if (this.pendingPoint(t, id) !== undefined) return false;
    this.batch.putEntry(src, at);
    this.sentDirect(t, e, id);
    return true;
  }

  /** Whether `e`'s value may go into the batch without a layer entry (see writeBackCached). */
  private direct(t: StateTable, e: CachedPoint): boolean {
    return t.kind !== 'map' && t.kind !== 'list' && t.ttl === undefined && e.stored !== DELETED;
  }

  /** The current layer's pending write of the key `id`, if it holds one. */
  private pendingPoint(t: StateTable, id: KeyId): PendingPoint | undefined {
    const ls = t.layers;
    const last = ls[ls.length - 1];
    return last !== undefined && last.gen === this.gen && last.points.size > 0 ? last.points.get(id) : undefined;
  }

  /** After `e`'s value (its key's id `id`) went into the batch without a layer entry. */
  private sentDirect(t: StateTable, e: CachedPoint, id: KeyId): void {
    t.lmdbKeys.add(id);
    e.sentGen = this.gen;
    this.directWrites++;
    this.noteWrite();
  }

  /** A clean cache entry written by writeBackCached is evicted: until its batch commits, a layer holds its value for reads. */
  evictedSent(t: StateTable, e: CachedPoint): void {
    if (e.sentGen <= this.seenCommitted) return;
    this.writeBack(t, e, true);
  }

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

  /** Encodes the current buffer into one batch for the writer thread (with `sweep`, also when it is empty but the TTL sweep finds something). */
  sendBatch(sweep = false): void {
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

  /** Sends pre-encoded snapshot entries (restore), keeping at most MAX_IN_FLIGHT batches outstanding. */
  sendEntries(bytes: Uint8Array): void {
    this.gen = this.writer.sendEntries(bytes) + 1;
    if (this.gen - 1 - this.seenCommitted > MAX_IN_FLIGHT) {
      this.writer.waitFor(this.gen - 1 - MAX_IN_FLIGHT);
      this.collectCommitted();
    }
  }

  /** Sends the buffer and waits until LMDB holds every batch. */
  sendAndWait(): void {
    this.sendBatch();
    if (this.gen - 1 > this.seenCommitted) {
      this.writer.waitFor(this.gen - 1);
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

  /** Whether the buffer holds the timer (true), its deletion (false), or nothing for it (undefined). */
  bufferedTimer(id: string): boolean | undefined {
    for (let i = this.timerLayers.length - 1; i >= 0; i--) {
      const w = this.timerLayers[i]!.writes.get(id);
      if (w !== undefined) return w.present;
    }
    return undefined;
  }
}
