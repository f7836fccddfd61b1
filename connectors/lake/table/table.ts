/**
 * One Paimon table on a FileIO: its schema and options, where its files go, which partition and
 * bucket a row belongs to, and which data files a snapshot holds.
 */
import { type FileIO, joinPath } from '../fs/file-io.ts';
import { type CommitLock, NO_LOCK } from '../fs/lock.ts';
import { fileIOFor, defaultCommitLock } from '../fs/index.ts';
import type { S3Options } from '../fs/s3.ts';
import { ConfigError } from '../errors.ts';
import { type TableSchema, bucketKeys, fieldIndex, trimmedPrimaryKeys } from '../schema/schema.ts';
import { SchemaManager } from '../schema/schema-manager.ts';
import type { DataType } from '../schema/types.ts';
import { daysToIsoDate, nanosToIso, normalizeValue } from '../schema/values.ts';
import { BinaryRowWriter, bucketOf, decodeSerializedRow, encodeSerializedRow } from '../format/binary-row.ts';
import { type ManifestEntry, type ManifestFileMeta, mergeEntries, readManifest, readManifestList } from '../format/manifest.ts';
import { type Snapshot, SnapshotManager } from '../format/snapshot.ts';
import { type DataFileShape, type RecordBatchRows, decodeDataFile } from '../format/data-file.ts';
import { type TableOptions, tableOptions } from './options.ts';

export interface OpenTableOptions {
  io?: FileIO;
  lock?: CommitLock;
  s3?: S3Options;
}

export const DEFAULT_PARTITION_NAME = '__DEFAULT_PARTITION__';

export class FileStoreTable {
  readonly options: TableOptions;
  readonly primaryKey: boolean;
  /** trimmed primary key (without partition fields), as stored in _KEY_ columns */
  readonly keyIndexes: number[];
  readonly keyTypes: DataType[];
  readonly partitionIndexes: number[];
  readonly partitionTypes: DataType[];
  readonly bucketKeyIndexes: number[];
  readonly sequenceIndexes: number[];
  readonly snapshots: SnapshotManager;
  readonly schemas: SchemaManager;
  private readonly manifestCache = new Map<string, ManifestEntry[]>();
  private readonly listCache = new Map<string, ManifestFileMeta[]>();

  constructor(readonly io: FileIO, readonly path: string, readonly schema: TableSchema, readonly lock: CommitLock = NO_LOCK) {
    this.options = tableOptions(schema);
    this.primaryKey = schema.primaryKeys.length > 0;
    this.keyIndexes = trimmedPrimaryKeys(schema).map((k) => fieldIndex(schema, k));
    this.keyTypes = this.keyIndexes.map((i) => schema.fields[i]!.type);
    this.partitionIndexes = schema.partitionKeys.map((k) => fieldIndex(schema, k));
    this.partitionTypes = this.partitionIndexes.map((i) => schema.fields[i]!.type);
    this.bucketKeyIndexes = bucketKeys(schema).map((k) => fieldIndex(schema, k));
    this.sequenceIndexes = this.options.sequenceFields.map((k) => fieldIndex(schema, k));
    this.snapshots = new SnapshotManager(io, path);
    this.schemas = new SchemaManager(io, path, lock);
  }

  static async open(path: string, opts: OpenTableOptions = {}): Promise<FileStoreTable> {
    const io = opts.io ?? fileIOFor(path, opts.s3);
    const clean = path.replace(/\/+$/, '');
    const schema = await new SchemaManager(io, clean).latest();
    if (!schema) throw new ConfigError('table', `no Paimon table at ${clean} (no schema/schema-N file); create it with Catalog.createTable`);
    return new FileStoreTable(io, clean, schema, opts.lock ?? defaultCommitLock(io));
  }

  get fileShape(): DataFileShape {
    return { schema: this.schema, keyIndexes: this.keyIndexes, primaryKey: this.primaryKey };
  }

  /** Total buckets written into manifests (-1 for bucket-unaware append tables). */
  get totalBuckets(): number {
    return this.options.bucket;
  }

  /** A user row (array in field order, or object keyed by field name) in canonical JS values. */
  normalizeRow(row: unknown[] | Record<string, unknown>): unknown[] {
    const fields = this.schema.fields;
    const out = new Array<unknown>(fields.length);
    const isArray = Array.isArray(row);
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const v = isArray ? (row as unknown[])[i] : (row as Record<string, unknown>)[f.name];
      out[i] = normalizeValue(f.type, v, f.name);
    }
    return out;
  }

  // ---------- partitions and buckets ----------

  partitionValues(row: unknown[]): unknown[] {
    return this.partitionIndexes.map((i) => row[i]);
  }

  /** base64 of the serialized partition BinaryRow, as in manifests. */
  partitionBytes(values: unknown[]): string {
    return Buffer.from(encodeSerializedRow(this.partitionTypes, values)).toString('base64');
  }

  decodePartition(b64: string): unknown[] {
    return decodeSerializedRow(this.partitionTypes, Buffer.from(b64, 'base64'));
  }

  /** `f1=10/f2=abc` for these partition values ('' for an unpartitioned table). */
  partitionPath(values: unknown[]): string {
    return this.schema.partitionKeys.map((k, i) => `${escapePathName(k)}=${escapePathName(partitionValueString(this.partitionTypes[i]!, values[i]))}`).join('/');
  }

  bucketDir(partition: string, bucket: number): string {
    return joinPath(this.path, this.partitionPath(this.decodePartition(partition)), `bucket-${bucket}`);
  }

  dataFilePath(partition: string, bucket: number, fileName: string): string {
    return joinPath(this.bucketDir(partition, bucket), fileName);
  }

  /** A function from row to bucket id, reusing one BinaryRow buffer. */
  bucketAssigner(): (row: unknown[]) => number {
    const n = this.options.bucket;
    if (n <= 0) return () => 0;
    const idx = this.bucketKeyIndexes;
    const w = new BinaryRowWriter(idx.map((i) => this.schema.fields[i]!.type));
    const key = new Array<unknown>(idx.length);
    return (row) => {
      for (let k = 0; k < idx.length; k++) key[k] = row[idx[k]!];
      w.encode(key);
      return bucketOf(w.hash(), n);
    };
  }

  // ---------- manifests ----------

  async manifestList(name: string): Promise<ManifestFileMeta[]> {
    let hit = this.listCache.get(name);
    if (!hit) {
      hit = await readManifestList(this.io, this.path, name);
      this.listCache.set(name, hit);
    }
    return hit;
  }

  async manifest(name: string): Promise<ManifestEntry[]> {
    let hit = this.manifestCache.get(name);
    if (!hit) {
      hit = await readManifest(this.io, this.path, name);
      this.manifestCache.set(name, hit);
    }
    return hit;
  }

  /** Manifests of a snapshot: base then delta. */
  async dataManifests(s: Snapshot): Promise<ManifestFileMeta[]> {
    return [...(await this.manifestList(s.baseManifestList)), ...(await this.manifestList(s.deltaManifestList))];
  }

  /** Data files live in this snapshot. */
  async liveEntries(s: Snapshot): Promise<ManifestEntry[]> {
    const all: ManifestEntry[] = [];
    for (const m of await this.dataManifests(s)) for (const e of await this.manifest(m.fileName)) all.push(e);
    return mergeEntries(all);
  }

  /** The ADD and DELETE entries of a snapshot's own change. */
  async deltaEntries(s: Snapshot): Promise<ManifestEntry[]> {
    const all: ManifestEntry[] = [];
    for (const m of await this.manifestList(s.deltaManifestList)) for (const e of await this.manifest(m.fileName)) all.push(e);
    return all;
  }

  /** The changelog files of a snapshot (changelog-producer), empty if it has none. */
  async changelogEntries(s: Snapshot): Promise<ManifestEntry[]> {
    if (!s.changelogManifestList) return [];
    const all: ManifestEntry[] = [];
    for (const m of await this.manifestList(s.changelogManifestList)) for (const e of await this.manifest(m.fileName)) all.push(e);
    return all;
  }

  async readDataFile(e: ManifestEntry): Promise<RecordBatchRows> {
    const p = e.file.externalPath ?? this.dataFilePath(e.partition, e.bucket, e.file.fileName);
    const fileSchema = e.file.schemaId === this.schema.id ? this.schema : await this.schemas.schema(e.file.schemaId);
    return decodeDataFile(await this.io.read(p), p, fileSchema, this.schema, this.primaryKey);
  }
}

/** Partition values as text in paths, as Paimon writes them. */
export function partitionValueString(t: DataType, v: unknown): string {
  if (v === null || v === undefined) return DEFAULT_PARTITION_NAME;
  switch (t.root) {
    case 'DATE': return daysToIsoDate(v as number);
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return nanosToIso(v as bigint).replace('T', ' ');
    case 'BINARY': case 'VARBINARY': return Buffer.from(v as Uint8Array).toString('base64');
    default: return String(v);
  }
}

const ESCAPED = new Set(['"', '#', '%', "'", '*', '/', ':', '=', '?', '\\', '\u007f', '{', '[', ']', '^']);

export function escapePathName(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && (c < 0x20 || ESCAPED.has(ch))) out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}
