/**
 * Dynamic bucket mode (`bucket = -1` on a primary-key table), as Java Paimon's HashBucketAssigner,
 * PartitionIndex and DynamicBucketIndexMaintainer do it:
 *
 * - A key (its hash: the BinaryRow hashCode of the trimmed primary key) is given a bucket the first
 *   time it is written and keeps it: the table's HASH index (format/hash-index.ts) lists, per
 *   partition and bucket, the hashes of the keys the bucket holds.
 * - A new key goes into the first bucket holding fewer than `dynamic-bucket.target-row-num` keys;
 *   when every bucket is full a new one opens, up to `dynamic-bucket.max-buckets` (then new keys
 *   are spread over the existing buckets by hash; Java picks one at random).
 * - With several assigners (the sink's writers), a key belongs to assigner
 *   `(|partitionHash % n| + |keyHash % n|) % n` (Java's BucketAssigner.computeAssigner), and an
 *   assigner opens only buckets b with `b % n == its id`: no two assigners claim a key or open the
 *   same bucket. An assigner loads from the index only the hashes it owns, and counts only its
 *   own buckets.
 * - Each changed bucket gets a new index file (all its hashes) at prepareCommit; it goes with the
 *   data in the APPEND snapshot and replaces the bucket's previous one.
 *
 * Index files written but not yet seen in the latest snapshot are `pending`: a stream writer keeps
 * them in its checkpoint, so that a restored writer, which may read the table before the committer
 * re-committed the restored checkpoint, still sees every assignment of that checkpoint. A bucket's
 * newer index file is a superset of its older ones, so of two files for a bucket the one with more
 * hashes wins.
 */
import { randomUUID } from 'node:crypto';
import { joinPath } from '../fs/file-io.ts';
import { ConfigError, WeirError } from '../errors.ts';
import type { IndexManifestEntry } from '../format/deletion-vectors.ts';
import { HASH_INDEX, decodeHashIndex, encodeHashIndex } from '../format/hash-index.ts';
import type { FileStoreTable } from './table.ts';

/** Java's MAX_DYNAMIC_BUCKETS: bucket ids are shorts in its index. */
export const MAX_DYNAMIC_BUCKETS = 32767;

/** Which of `numAssigners` assigners owns a key (Java's BucketAssigner.computeAssigner, numChannels = numAssigners). */
export function assignerOf(partitionHash: number, keyHash: number, numAssigners: number): number {
  return (Math.abs(partitionHash % numAssigners) + Math.abs(keyHash % numAssigners)) % numAssigners;
}

/** Whether an assigner may open this bucket (Java's BucketAssigner.isMyBucket). */
export function isAssignerBucket(bucket: number, numAssigners: number, assignId: number): boolean {
  return bucket % numAssigners === assignId % numAssigners;
}

/**
 * Hash functions of a dynamic-bucket table over canonical rows: the key hash (trimmed primary key
 * BinaryRow, as Java's index stores it) and the partition hash (partition BinaryRow).
 */
export function dynamicBucketHashers(table: FileStoreTable): { keyHash: (row: unknown[]) => number; partitionHash: (row: unknown[]) => number } {
  return { keyHash: table.rowHasher(table.keyIndexes), partitionHash: table.rowHasher(table.partitionIndexes) };
}

/** int32 -> bucket, open addressing (millions of keys stay compact: 6 bytes a slot). */
class HashToBucket {
  private keys = new Int32Array(1024);
  private values = new Int16Array(1024);
  private used = new Uint8Array(1024);
  size = 0;

  get(hash: number): number {
    const mask = this.keys.length - 1;
    for (let i = mix(hash) & mask; this.used[i]; i = (i + 1) & mask) if (this.keys[i] === hash) return this.values[i]!;
    return -1;
  }

  set(hash: number, bucket: number): void {
    if ((this.size + 1) * 4 > this.keys.length * 3) this.grow();
    const mask = this.keys.length - 1;
    let i = mix(hash) & mask;
    for (; this.used[i]; i = (i + 1) & mask) if (this.keys[i] === hash) { this.values[i] = bucket; return; }
    this.used[i] = 1;
    this.keys[i] = hash;
    this.values[i] = bucket;
    this.size++;
  }

  private grow(): void {
    const { keys, values, used } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.values = new Int16Array(keys.length * 2);
    this.used = new Uint8Array(keys.length * 2);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (used[i]) this.set(keys[i]!, values[i]!);
  }
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}

/** The hashes of the keys in one of the assigner's own buckets (what its next index file holds). */
interface OwnBucket {
  hashes: Int32Array;
  count: number;
  modified: boolean;
}

class PartitionIndex {
  readonly hashToBucket = new HashToBucket();
  /** own buckets that may take new keys, in bucket order, with their key counts */
  readonly nonFull = new Map<number, number>();
  readonly own = new Map<number, OwnBucket>();
  accessed = true;
  private upperBoundReached = false;

  constructor(private readonly opts: { targetRowNum: number; maxBuckets: number; numAssigners: number; assignId: number; table: string }) {}

  assign(hash: number): number {
    this.accessed = true;
    const known = this.hashToBucket.get(hash);
    if (known >= 0) return known;
    for (const [bucket, n] of this.nonFull) {
      if (n < this.opts.targetRowNum) {
        this.nonFull.set(bucket, n + 1);
        return this.add(hash, bucket);
      }
      this.nonFull.delete(bucket);
    }
    const { maxBuckets, numAssigners, assignId } = this.opts;
    if (!this.upperBoundReached) {
      const last = (maxBuckets === -1 ? MAX_DYNAMIC_BUCKETS : maxBuckets) - 1;
      for (let b = 0; b <= last; b++) {
        if (isAssignerBucket(b, numAssigners, assignId) && !this.own.has(b)) {
          this.own.set(b, { hashes: new Int32Array(64), count: 0, modified: false });
          this.nonFull.set(b, 1);
          return this.add(hash, b);
        }
      }
      if (maxBuckets === -1) {
        throw new ConfigError('dynamic-bucket.target-row-num', `table ${this.opts.table} needs more than ${MAX_DYNAMIC_BUCKETS} buckets in one partition; raise 'dynamic-bucket.target-row-num' (${this.opts.targetRowNum})`);
      }
      this.upperBoundReached = true;
    }
    const buckets = [...this.own.keys()];
    if (buckets.length === 0) {
      throw new ConfigError('dynamic-bucket.max-buckets', `table ${this.opts.table}: 'dynamic-bucket.max-buckets' (${maxBuckets}) leaves writer ${assignId} of ${numAssigners} no bucket to open; raise it to at least the number of writers`);
    }
    // all buckets full and no more may open: spread by hash (deterministic; Java picks at random)
    return this.add(hash, buckets[Math.abs(hash % buckets.length)]!);
  }

  private add(hash: number, bucket: number): number {
    this.hashToBucket.set(hash, bucket);
    const b = this.own.get(bucket)!;
    if (b.count === b.hashes.length) {
      const next = new Int32Array(Math.max(64, b.hashes.length * 2));
      next.set(b.hashes);
      b.hashes = next;
    }
    b.hashes[b.count++] = hash;
    b.modified = true;
    return bucket;
  }
}

export interface DynamicBucketAssignerOptions {
  /** How many assigners share the table's keys (the sink's writers); default 1. */
  numAssigners?: number;
  /** This assigner's id in 0 .. numAssigners - 1; default 0. */
  assignId?: number;
}

export class DynamicBucketAssigner {
  private readonly partitions = new Map<string, PartitionIndex>();
  /** Index files written (or restored) that the latest snapshot may not hold yet, by `partition|bucket`. */
  private readonly pending = new Map<string, IndexManifestEntry>();
  private readonly filePrefix = `index-${randomUUID()}-`;
  private fileCounter = 0;
  readonly numAssigners: number;
  readonly assignId: number;

  constructor(private readonly table: FileStoreTable, opts: DynamicBucketAssignerOptions = {}) {
    this.numAssigners = opts.numAssigners ?? 1;
    this.assignId = opts.assignId ?? 0;
  }

  /** Loads a partition's index (latest snapshot, plus pending files) unless it is loaded. */
  async load(partition: string): Promise<void> {
    if (this.partitions.has(partition)) return;
    const t = this.table;
    const o = t.options.dynamicBucket!;
    const index = new PartitionIndex({ ...o, numAssigners: this.numAssigners, assignId: this.assignId, table: t.path });
    const latest = await t.snapshots.latest();
    const files = new Map<number, IndexManifestEntry>();
    for (const e of latest ? await t.indexEntries(latest) : []) if (e.indexType === HASH_INDEX && e.partition === partition) files.set(e.bucket, e);
    for (const e of this.pending.values()) {
      const had = e.partition === partition ? files.get(e.bucket) : undefined;
      if (e.partition === partition && (!had || had.rowCount < e.rowCount)) files.set(e.bucket, e);
    }
    const { partitionHash } = dynamicBucketHashers(t);
    const partHash = partitionHash(partitionRow(t, partition));
    for (const bucket of [...files.keys()].sort((a, b) => a - b)) {
      const e = files.get(bucket)!;
      const p = joinPath(t.path, 'index', e.fileName);
      const hashes = decodeHashIndex(await t.io.read(p), p);
      const own = isAssignerBucket(bucket, this.numAssigners, this.assignId);
      for (const h of hashes) if (assignerOf(partHash, h, this.numAssigners) === this.assignId) index.hashToBucket.set(h, bucket);
      if (own) {
        index.own.set(bucket, { hashes, count: hashes.length, modified: false });
        index.nonFull.set(bucket, hashes.length);
      }
    }
    this.partitions.set(partition, index);
  }

  isLoaded(partition: string): boolean {
    return this.partitions.has(partition);
  }

  /** The bucket of a key (its hash) in a loaded partition. */
  assign(partition: string, keyHash: number): number {
    const index = this.partitions.get(partition);
    if (!index) throw new WeirError(`dynamic-bucket index of partition ${partition} of ${this.table.path} is not loaded (load() first)`);
    return index.assign(keyHash);
  }

  /**
   * Writes an index file for every bucket that took new keys since the last call and returns their
   * entries (ADD, type HASH). Partitions not written since the last call are dropped from memory
   * (their files are in the table or pending, so a later write loads them again).
   */
  async prepareCommit(): Promise<IndexManifestEntry[]> {
    const t = this.table;
    const out: IndexManifestEntry[] = [];
    for (const [partition, index] of this.partitions) {
      for (const [bucket, b] of index.own) {
        if (!b.modified) continue;
        const bytes = encodeHashIndex(b.hashes, b.count);
        const fileName = `${this.filePrefix}${this.fileCounter++}`;
        await t.io.write(joinPath(t.path, 'index', fileName), bytes);
        const entry: IndexManifestEntry = { kind: 0, partition, bucket, indexType: HASH_INDEX, fileName, fileSize: bytes.length, rowCount: b.count, ranges: null };
        b.modified = false;
        this.pending.set(`${partition}|${bucket}`, entry);
        out.push(entry);
      }
      if (!index.accessed) this.partitions.delete(partition);
      index.accessed = false;
    }
    return out;
  }

  /** Pending index files: a stream writer keeps them in its checkpoint. */
  pendingFiles(): IndexManifestEntry[] {
    return [...this.pending.values()];
  }

  /** Restored pending files (from every writer: a file with more hashes than the table's wins at load). */
  seedPending(entries: Iterable<IndexManifestEntry>): void {
    for (const e of entries) {
      const key = `${e.partition}|${e.bucket}`;
      const had = this.pending.get(key);
      if (!had || had.rowCount < e.rowCount) this.pending.set(key, e);
    }
  }

  /** Forgets pending files the latest snapshot holds (or holds a newer file for). */
  async prunePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const latest = await this.table.snapshots.latest();
    if (!latest) return;
    for (const e of await this.table.indexEntries(latest)) {
      if (e.indexType !== HASH_INDEX) continue;
      const key = `${e.partition}|${e.bucket}`;
      const p = this.pending.get(key);
      if (p && p.rowCount <= e.rowCount) this.pending.delete(key);
    }
  }
}

/** A partition (base64 serialized BinaryRow) as a row with its values at the partition fields' positions. */
export function partitionRow(t: FileStoreTable, partition: string): unknown[] {
  const row = new Array<unknown>(t.schema.fields.length).fill(null);
  t.decodePartition(partition).forEach((v, i) => { row[t.partitionIndexes[i]!] = v; });
  return row;
}
