/**
 * Manifest files (`manifest/manifest-<uuid>-<n>`: one ManifestEntry per added or deleted data file)
 * and manifest lists (`manifest/manifest-list-<uuid>-<n>`: one ManifestFileMeta per manifest), as
 * Avro with `_VERSION` 2 and the record names Java Paimon uses. Binary rows (partition, keys, stats)
 * travel as base64 strings in the JS objects so commit messages stay plain JSON.
 */
import { type FileIO, joinPath } from '../fs/file-io.ts';
import { LakeFormatError } from '../errors.ts';
import { readAvroContainer, writeAvroContainer } from './avro.ts';

const NS = 'org.apache.paimon.avro.generated';

export interface SimpleStats {
  /** base64 of a serialized BinaryRow */
  minValues: string;
  maxValues: string;
  nullCounts: Array<number | null> | null;
}

export interface DataFileMeta {
  fileName: string;
  fileSize: number;
  rowCount: number;
  minKey: string;
  maxKey: string;
  keyStats: SimpleStats;
  valueStats: SimpleStats;
  minSequenceNumber: number;
  maxSequenceNumber: number;
  schemaId: number;
  level: number;
  extraFiles: string[];
  creationTime: number | null;
  deleteRowCount: number | null;
  embeddedIndex: string | null;
  /** 0 written by a writer (APPEND), 1 written by compaction (COMPACT) */
  fileSource: number | null;
  valueStatsCols: string[] | null;
  externalPath: string | null;
  firstRowId: number | null;
}

export const FILE_KIND_ADD = 0;
export const FILE_KIND_DELETE = 1;

export interface ManifestEntry {
  kind: number;
  partition: string;
  bucket: number;
  totalBuckets: number;
  file: DataFileMeta;
}

export interface ManifestFileMeta {
  fileName: string;
  fileSize: number;
  numAddedFiles: number;
  numDeletedFiles: number;
  partitionStats: SimpleStats;
  schemaId: number;
  minBucket: number | null;
  maxBucket: number | null;
  minLevel: number | null;
  maxLevel: number | null;
}

// ---------- Avro schemas ----------

const statsSchema = (name: string): object => ({
  type: 'record',
  name,
  fields: [
    { name: '_MIN_VALUES', type: 'bytes' },
    { name: '_MAX_VALUES', type: 'bytes' },
    { name: '_NULL_COUNTS', type: ['null', { type: 'array', items: ['null', 'long'] }], default: null },
  ],
});

const opt = (name: string, type: unknown): object => ({ name, type: ['null', type], default: null });

export const MANIFEST_ENTRY_SCHEMA = {
  type: 'record',
  name: 'record',
  namespace: NS,
  fields: [
    { name: '_VERSION', type: 'int' },
    { name: '_KIND', type: 'int' },
    { name: '_PARTITION', type: 'bytes' },
    { name: '_BUCKET', type: 'int' },
    { name: '_TOTAL_BUCKETS', type: 'int' },
    {
      name: '_FILE',
      type: {
        type: 'record',
        name: 'record__FILE',
        fields: [
          { name: '_FILE_NAME', type: 'string' },
          { name: '_FILE_SIZE', type: 'long' },
          { name: '_ROW_COUNT', type: 'long' },
          { name: '_MIN_KEY', type: 'bytes' },
          { name: '_MAX_KEY', type: 'bytes' },
          { name: '_KEY_STATS', type: statsSchema('record__FILE__KEY_STATS') },
          { name: '_VALUE_STATS', type: statsSchema('record__FILE__VALUE_STATS') },
          { name: '_MIN_SEQUENCE_NUMBER', type: 'long' },
          { name: '_MAX_SEQUENCE_NUMBER', type: 'long' },
          { name: '_SCHEMA_ID', type: 'long' },
          { name: '_LEVEL', type: 'int' },
          { name: '_EXTRA_FILES', type: { type: 'array', items: 'string' } },
          opt('_CREATION_TIME', { type: 'long', logicalType: 'timestamp-millis' }),
          opt('_DELETE_ROW_COUNT', 'long'),
          opt('_EMBEDDED_FILE_INDEX', 'bytes'),
          opt('_FILE_SOURCE', 'int'),
          opt('_VALUE_STATS_COLS', { type: 'array', items: 'string' }),
          opt('_EXTERNAL_PATH', 'string'),
          opt('_FIRST_ROW_ID', 'long'),
        ],
      },
    },
  ],
};

export const MANIFEST_FILE_META_SCHEMA = {
  type: 'record',
  name: 'record',
  namespace: NS,
  fields: [
    { name: '_VERSION', type: 'int' },
    { name: '_FILE_NAME', type: 'string' },
    { name: '_FILE_SIZE', type: 'long' },
    { name: '_NUM_ADDED_FILES', type: 'long' },
    { name: '_NUM_DELETED_FILES', type: 'long' },
    { name: '_PARTITION_STATS', type: statsSchema('record__PARTITION_STATS') },
    { name: '_SCHEMA_ID', type: 'long' },
    opt('_MIN_BUCKET', 'int'),
    opt('_MAX_BUCKET', 'int'),
    opt('_MIN_LEVEL', 'int'),
    opt('_MAX_LEVEL', 'int'),
  ],
};

// ---------- conversions ----------

const b64 = (b: unknown): string => (b instanceof Uint8Array ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64') : '');
const bin = (s: string): Buffer => Buffer.from(s, 'base64');
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

type AvroRecord = Record<string, unknown>;

function statsToAvro(s: SimpleStats): AvroRecord {
  return { _MIN_VALUES: bin(s.minValues), _MAX_VALUES: bin(s.maxValues), _NULL_COUNTS: s.nullCounts };
}

function statsFromAvro(r: AvroRecord): SimpleStats {
  const nc = r._NULL_COUNTS as Array<number | null> | null | undefined;
  return { minValues: b64(r._MIN_VALUES), maxValues: b64(r._MAX_VALUES), nullCounts: nc ? nc.map(num) : null };
}

function fileToAvro(f: DataFileMeta): AvroRecord {
  return {
    _FILE_NAME: f.fileName,
    _FILE_SIZE: f.fileSize,
    _ROW_COUNT: f.rowCount,
    _MIN_KEY: bin(f.minKey),
    _MAX_KEY: bin(f.maxKey),
    _KEY_STATS: statsToAvro(f.keyStats),
    _VALUE_STATS: statsToAvro(f.valueStats),
    _MIN_SEQUENCE_NUMBER: f.minSequenceNumber,
    _MAX_SEQUENCE_NUMBER: f.maxSequenceNumber,
    _SCHEMA_ID: f.schemaId,
    _LEVEL: f.level,
    _EXTRA_FILES: f.extraFiles,
    _CREATION_TIME: f.creationTime,
    _DELETE_ROW_COUNT: f.deleteRowCount,
    _EMBEDDED_FILE_INDEX: f.embeddedIndex === null ? null : bin(f.embeddedIndex),
    _FILE_SOURCE: f.fileSource,
    _VALUE_STATS_COLS: f.valueStatsCols,
    _EXTERNAL_PATH: f.externalPath,
    _FIRST_ROW_ID: f.firstRowId,
  };
}

function fileFromAvro(r: AvroRecord): DataFileMeta {
  const creation = r._CREATION_TIME;
  return {
    fileName: r._FILE_NAME as string,
    fileSize: Number(r._FILE_SIZE),
    rowCount: Number(r._ROW_COUNT),
    minKey: b64(r._MIN_KEY),
    maxKey: b64(r._MAX_KEY),
    keyStats: statsFromAvro(r._KEY_STATS as AvroRecord),
    valueStats: statsFromAvro(r._VALUE_STATS as AvroRecord),
    minSequenceNumber: Number(r._MIN_SEQUENCE_NUMBER),
    maxSequenceNumber: Number(r._MAX_SEQUENCE_NUMBER),
    schemaId: Number(r._SCHEMA_ID),
    level: Number(r._LEVEL),
    extraFiles: (r._EXTRA_FILES as string[] | undefined) ?? [],
    creationTime: creation instanceof Date ? creation.getTime() : num(creation),
    deleteRowCount: num(r._DELETE_ROW_COUNT),
    embeddedIndex: r._EMBEDDED_FILE_INDEX ? b64(r._EMBEDDED_FILE_INDEX) : null,
    fileSource: num(r._FILE_SOURCE),
    valueStatsCols: (r._VALUE_STATS_COLS as string[] | null | undefined) ?? null,
    externalPath: (r._EXTERNAL_PATH as string | null | undefined) ?? null,
    firstRowId: num(r._FIRST_ROW_ID),
  };
}

export function encodeManifest(entries: ManifestEntry[]): Uint8Array {
  return writeAvroContainer(MANIFEST_ENTRY_SCHEMA, entries.map((e) => ({
    _VERSION: 2, _KIND: e.kind, _PARTITION: bin(e.partition), _BUCKET: e.bucket, _TOTAL_BUCKETS: e.totalBuckets, _FILE: fileToAvro(e.file),
  })));
}

export function decodeManifest(bytes: Uint8Array, where: string): ManifestEntry[] {
  return readAvroContainer<AvroRecord>(bytes, where).records.map((r) => {
    if (Number(r._VERSION) !== 2) throw new LakeFormatError(`${where}: manifest entry version ${String(r._VERSION)} is not supported (2 is)`);
    return {
      kind: Number(r._KIND), partition: b64(r._PARTITION), bucket: Number(r._BUCKET),
      totalBuckets: Number(r._TOTAL_BUCKETS), file: fileFromAvro(r._FILE as AvroRecord),
    };
  });
}

export function encodeManifestList(metas: ManifestFileMeta[]): Uint8Array {
  return writeAvroContainer(MANIFEST_FILE_META_SCHEMA, metas.map((m) => ({
    _VERSION: 2, _FILE_NAME: m.fileName, _FILE_SIZE: m.fileSize, _NUM_ADDED_FILES: m.numAddedFiles,
    _NUM_DELETED_FILES: m.numDeletedFiles, _PARTITION_STATS: statsToAvro(m.partitionStats), _SCHEMA_ID: m.schemaId,
    _MIN_BUCKET: m.minBucket, _MAX_BUCKET: m.maxBucket, _MIN_LEVEL: m.minLevel, _MAX_LEVEL: m.maxLevel,
  })));
}

export function decodeManifestList(bytes: Uint8Array, where: string): ManifestFileMeta[] {
  return readAvroContainer<AvroRecord>(bytes, where).records.map((r) => ({
    fileName: r._FILE_NAME as string,
    fileSize: Number(r._FILE_SIZE),
    numAddedFiles: Number(r._NUM_ADDED_FILES),
    numDeletedFiles: Number(r._NUM_DELETED_FILES),
    partitionStats: statsFromAvro(r._PARTITION_STATS as AvroRecord),
    schemaId: Number(r._SCHEMA_ID),
    minBucket: num(r._MIN_BUCKET),
    maxBucket: num(r._MAX_BUCKET),
    minLevel: num(r._MIN_LEVEL),
    maxLevel: num(r._MAX_LEVEL),
  }));
}

export async function readManifest(io: FileIO, tablePath: string, fileName: string): Promise<ManifestEntry[]> {
  const p = joinPath(tablePath, 'manifest', fileName);
  return decodeManifest(await io.read(p), p);
}

export async function readManifestList(io: FileIO, tablePath: string, fileName: string): Promise<ManifestFileMeta[]> {
  const p = joinPath(tablePath, 'manifest', fileName);
  return decodeManifestList(await io.read(p), p);
}

/** Key identifying a data file within the table, for matching DELETE entries with their ADD. */
export function entryIdentifier(e: ManifestEntry): string {
  return `${e.partition}|${e.bucket}|${e.file.level}|${e.file.fileName}`;
}

/** Applies DELETE entries to ADD entries in order: what is live after these manifests. */
export function mergeEntries(entries: Iterable<ManifestEntry>): ManifestEntry[] {
  const live = new Map<string, ManifestEntry>();
  for (const e of entries) {
    const id = entryIdentifier(e);
    if (e.kind === FILE_KIND_ADD) live.set(id, e);
    else live.delete(id);
  }
  return [...live.values()];
}
