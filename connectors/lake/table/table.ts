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
import { decodeAvroDataFile } from '../format/avro-data-file.ts';
import {
  type DeletionFile, type DeletionVector, type IndexManifestEntry, decodeIndexManifest, deletionFilesOf, liveIndexEntries, readDeletionVector,
} from '../format/deletion-vectors.ts';
import { type TableOptions, tableOptions } from './options.ts';

export interface OpenTableOptions {
  io?: FileIO;
  lock?: CommitLock;
  s3?: S3Options;
  /** Read (and write) this branch: its schema and snapshots live under `branch/branch-<name>/`. */
  branch?: string;
}

/** Caches shared by the views of one table at different schemas. */
interface TableCaches {
  manifests: Map<string, ManifestEntry[]>;
  lists: Map<string, ManifestFileMeta[]>;
  indexManifests: Map<string, IndexManifestEntry[]>;
  indexFiles: Map<string, Promise<Uint8Array>>;
}

const newCaches = (): TableCaches => ({ manifests: new Map(), lists: new Map(), indexManifests: new Map(), indexFiles: new Map() });

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
  /** Where schema/ and snapshot/ live: the table path, or `<path>/branch/branch-<name>` for a branch. */
  readonly metaPath: string;
  private readonly caches: TableCaches;

  constructor(
    readonly io: FileIO, readonly path: string, readonly schema: TableSchema, readonly lock: CommitLock = NO_LOCK,
    readonly branch: string | null = null, caches?: TableCaches,
  ) {
    this.options = tableOptions(schema);
    this.primaryKey = schema.primaryKeys.length > 0;
    this.keyIndexes = trimmedPrimaryKeys(schema).map((k) => fieldIndex(schema, k));
    this.keyTypes = this.keyIndexes.map((i) => schema.fields[i]!.type);
    this.partitionIndexes = schema.partitionKeys.map((k) => fieldIndex(schema, k));
    this.partitionTypes = this.partitionIndexes.map((i) => schema.fields[i]!.type);
    this.bucketKeyIndexes = bucketKeys(schema).map((k) => fieldIndex(schema, k));
    this.sequenceIndexes = this.options.sequenceFields.map((k) => fieldIndex(schema, k));
    this.metaPath = branchPath(path, branch);
    this.caches = caches ?? newCaches();
    this.snapshots = new SnapshotManager(io, this.metaPath);
    this.schemas = new SchemaManager(io, this.metaPath, lock);
  }

  static async open(path: string, opts: OpenTableOptions = {}): Promise<FileStoreTable> {
    const io = opts.io ?? fileIOFor(path, opts.s3);
    const clean = path.replace(/\/+$/, '');
    const branch = opts.branch && opts.branch !== 'main' ? opts.branch : null;
    const schema = await new SchemaManager(io, branchPath(clean, branch)).latest();
    if (!schema) {
      throw new ConfigError(branch ? 'branch' : 'table', branch
        ? `table ${clean} has no branch '${branch}' (no branch/branch-${branch}/schema/schema-N file)`
        : `no Paimon table at ${clean} (no schema/schema-N file); create it with Catalog.createTable`);
    }
    return new FileStoreTable(io, clean, schema, opts.lock ?? defaultCommitLock(io), branch);
  }

  /** This table read with another of its schemas (time travel reads a snapshot with its own schema). */
  async atSchema(schemaId: number): Promise<FileStoreTable> {
    if (schemaId === this.schema.id) return this;
    return new FileStoreTable(this.io, this.path, await this.schemas.schema(schemaId), this.lock, this.branch, this.caches);
  }

  /** Another branch of this table (same data and manifest directories). */
  async onBranch(branch: string): Promise<FileStoreTable> {
    const t = await FileStoreTable.open(this.path, { io: this.io, lock: this.lock, branch });
    return new FileStoreTable(t.io, t.path, t.schema, t.lock, t.branch, this.caches);
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
    const hash = this.rowHasher(this.bucketKeyIndexes);
    return (row) => bucketOf(hash(row), n);
  }

  /** Java's BinaryRow hashCode of these fields of a row (a bucket key, a primary key, a partition), reusing one buffer. */
  rowHasher(indexes: readonly number[]): (row: unknown[]) => number {
    const idx = [...indexes];
    const w = new BinaryRowWriter(idx.map((i) => this.schema.fields[i]!.type));
    const key = new Array<unknown>(idx.length);
    return (row) => {
      for (let k = 0; k < idx.length; k++) key[k] = row[idx[k]!];
      w.encode(key);
      return w.hash();
    };
  }

  // ---------- manifests ----------

  async manifestList(name: string): Promise<ManifestFileMeta[]> {
    let hit = this.caches.lists.get(name);
    if (!hit) {
      hit = await readManifestList(this.io, this.path, name);
      this.caches.lists.set(name, hit);
    }
    return hit;
  }

  async manifest(name: string): Promise<ManifestEntry[]> {
    let hit = this.caches.manifests.get(name);
    if (!hit) {
      hit = await readManifest(this.io, this.path, name);
      this.caches.manifests.set(name, hit);
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

  // ---------- deletion vectors ----------

  /** Live index files of a snapshot (none without an index manifest). */
  async indexEntries(s: Snapshot): Promise<IndexManifestEntry[]> {
    const name = s.indexManifest;
    if (!name) return [];
    let hit = this.caches.indexManifests.get(name);
    if (!hit) {
      const p = joinPath(this.path, 'manifest', name);
      hit = liveIndexEntries(decodeIndexManifest(await this.io.read(p), p));
      this.caches.indexManifests.set(name, hit);
    }
    return hit;
  }

  /** Deletion files of a snapshot: `partition|bucket` -> data file name -> where its vector is. */
  async deletionFiles(s: Snapshot): Promise<Map<string, Map<string, DeletionFile>>> {
    return deletionFilesOf(await this.indexEntries(s));
  }

  async deletionVector(f: DeletionFile): Promise<DeletionVector> {
    const p = joinPath(this.path, 'index', f.indexFile);
    let bytes = this.caches.indexFiles.get(p);
    if (!bytes) {
      bytes = this.io.read(p);
      this.caches.indexFiles.set(p, bytes);
      bytes.catch(() => this.caches.indexFiles.delete(p));
    }
    return readDeletionVector(await bytes, f, p);
  }

  // ---------- data files ----------

  /** Where a data file is: its external path (absolute, with or without a `file:` scheme), else under its bucket. */
  dataFileLocation(e: ManifestEntry): string {
    const ext = e.file.externalPath;
    if (!ext) return this.dataFilePath(e.partition, e.bucket, e.file.fileName);
    return externalLocation(ext, this.path);
  }

  /** Rows of a data file in this table's schema (older files cast), without the rows a deletion vector drops. */
  async readDataFile(e: ManifestEntry, deletion?: DeletionVector | null): Promise<RecordBatchRows> {
    const p = this.dataFileLocation(e);
    const fileSchema = e.file.schemaId === this.schema.id ? this.schema : await this.schemas.schema(e.file.schemaId);
    const bytes = await this.io.read(p);
    const batch = /\.avro$/i.test(e.file.fileName)
      ? decodeAvroDataFile(bytes, p, fileSchema, this.schema, this.primaryKey)
      : /\.orc$/i.test(e.file.fileName)
        ? unsupportedOrc(p)
        : decodeDataFile(bytes, p, fileSchema, this.schema, this.primaryKey);
    return deletion && deletion.cardinality > 0 ? dropDeleted(batch, deletion) : batch;
  }
}

function unsupportedOrc(p: string): never {
  throw new ConfigError('file.format', `data file ${p} is ORC, which Weir cannot read (no ORC reader for Node); rewrite the table with 'file.format' = 'parquet' (or avro)`);
}

function branchPath(path: string, branch: string | null): string {
  return branch ? joinPath(path, 'branch', `branch-${branch}`) : path;
}

/**
 * A stored external path as a path for the table's FileIO. Paths with a scheme are absolute:
 * `file:/x`, `file:///x`, `FILE:/x` -> `/x`; `s3://...` stays as it is; a path without a scheme is
 * taken as absolute when it starts with `/`, else relative to the table.
 */
export function externalLocation(stored: string, tablePath: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/.exec(stored);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    if (scheme === 'file') return `/${m[2]!.replace(/^\/+/, '')}`;
    return `${scheme}:${m[2]!}`;
  }
  return stored.startsWith('/') ? stored : joinPath(tablePath, stored);
}

/** The batch without the rows at deleted positions. */
export function dropDeleted(batch: RecordBatchRows, dv: DeletionVector): RecordBatchRows {
  const out: RecordBatchRows = { rows: [], seqs: [], kinds: [] };
  const hasSeqs = batch.seqs.length > 0;
  for (let i = 0; i < batch.rows.length; i++) {
    if (dv.isDeleted(i)) continue;
    out.rows.push(batch.rows[i]!);
    if (hasSeqs) out.seqs.push(batch.seqs[i]!);
    out.kinds.push(batch.kinds[i]!);
  }
  return out;
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
