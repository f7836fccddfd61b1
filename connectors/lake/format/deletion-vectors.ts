/**
 * Deletion vectors (`deletion-vectors.enabled`): per data file, the positions of rows that a later
 * write deleted or replaced, so readers skip them without merging.
 *
 * - The snapshot's `indexManifest` (`manifest/index-manifest-*`, Avro) lists the live index files of
 *   every partition and bucket; entries of type `DELETION_VECTORS` carry, per data file, the range
 *   (offset, length) of its vector in the index file.
 * - An index file (`index/index-*`) is one version byte (1), then per data file: a 4-byte big-endian
 *   length, the vector (4-byte big-endian magic + serialized bitmap; `length` counts both), and a
 *   big-endian CRC32 of the vector.
 * - Magic 1581511376: Paimon's BitmapDeletionVector, a 32-bit RoaringBitmap in the portable
 *   ("Java and Go") serialization, read with the `roaring` package (CRoaring's Node port).
 *   Magic bytes D1 D3 39 64 (1681511377 read little-endian): Bitmap64DeletionVector
 *   (`deletion-vectors.bitmap64`, Iceberg's layout): a little-endian 64-bit count of 32-bit bitmaps,
 *   each prefixed by its little-endian 32-bit high key.
 */
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import type Roaring from 'roaring';
import { LakeFormatError } from '../errors.ts';
import { readAvroContainer, writeAvroContainer } from './avro.ts';

type Bitmap = InstanceType<typeof Roaring.RoaringBitmap32>;

/**
 * roaring's native addon is loaded with the first vector, not with the lake: it takes ~80 ms, which
 * every lake job (and every side-work thread that compacts) would pay, and a thread terminated while
 * Node loads a native addon can abort the whole process.
 */
let roaring: typeof Roaring | undefined;
function bitmaps(): typeof Roaring.RoaringBitmap32 {
  roaring ??= createRequire(import.meta.url)('roaring') as typeof Roaring;
  return roaring.RoaringBitmap32;
}

export const DELETION_VECTORS_INDEX = 'DELETION_VECTORS';
export const BITMAP32_MAGIC = 1581511376;
const BITMAP64_MAGIC_BYTES = Buffer.from([0xd1, 0xd3, 0x39, 0x64]);
const INDEX_FILE_VERSION = 1;

/** Where the deletion vector of one data file is: plain data, so splits carrying it stay JSON. */
export interface DeletionFile {
  /** index file name, under `<table>/index/` */
  indexFile: string;
  offset: number;
  length: number;
  cardinality: number | null;
}

export interface IndexManifestEntry {
  kind: number;
  /** base64 of the serialized partition BinaryRow */
  partition: string;
  bucket: number;
  indexType: string;
  fileName: string;
  fileSize: number;
  rowCount: number;
  /** per data file name: offset and length of its vector (deletion-vector index files only) */
  ranges: Array<{ dataFile: string; offset: number; length: number; cardinality: number | null }> | null;
}

/** A set of deleted row positions of one data file. */
export interface DeletionVector {
  isDeleted(position: number): boolean;
  readonly cardinality: number;
}

class Bitmap32Vector implements DeletionVector {
  constructor(readonly bitmap: Bitmap) {}
  isDeleted(position: number): boolean { return this.bitmap.has(position); }
  get cardinality(): number { return this.bitmap.size; }
}

class Bitmap64Vector implements DeletionVector {
  constructor(private readonly byHighKey: Map<number, Bitmap>) {}
  isDeleted(position: number): boolean {
    const high = Math.floor(position / 0x1_0000_0000);
    return this.byHighKey.get(high)?.has(position >>> 0) ?? false;
  }
  get cardinality(): number {
    let n = 0;
    for (const b of this.byHighKey.values()) n += b.size;
    return n;
  }
}

// ---------- index manifest ----------

const INDEX_MANIFEST_SCHEMA = {
  type: 'record',
  name: 'record',
  namespace: 'org.apache.paimon.avro.generated',
  fields: [
    { name: '_VERSION', type: 'int' },
    { name: '_KIND', type: 'int' },
    { name: '_PARTITION', type: 'bytes' },
    { name: '_BUCKET', type: 'int' },
    { name: '_INDEX_TYPE', type: 'string' },
    { name: '_FILE_NAME', type: 'string' },
    { name: '_FILE_SIZE', type: 'long' },
    { name: '_ROW_COUNT', type: 'long' },
    {
      name: '_DELETIONS_VECTORS_RANGES',
      type: ['null', {
        type: 'array',
        items: ['null', {
          type: 'record',
          name: 'record__DELETIONS_VECTORS_RANGES',
          fields: [
            { name: 'f0', type: 'string' },
            { name: 'f1', type: 'int' },
            { name: 'f2', type: 'int' },
            { name: '_CARDINALITY', type: ['null', 'long'], default: null },
          ],
        }],
      }],
      default: null,
    },
  ],
};

type AvroRecord = Record<string, unknown>;

export function decodeIndexManifest(bytes: Uint8Array, where: string): IndexManifestEntry[] {
  return readAvroContainer<AvroRecord>(bytes, where).records.map((r) => {
    // Java named the field _DELETIONS_VECTORS_RANGES (sic); older writers used _DELETION_VECTORS_RANGES
    const raw = (r._DELETIONS_VECTORS_RANGES ?? r._DELETION_VECTORS_RANGES ?? null) as Array<AvroRecord | null> | null;
    const part = r._PARTITION as Uint8Array;
    return {
      kind: Number(r._KIND),
      partition: Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('base64'),
      bucket: Number(r._BUCKET),
      indexType: String(r._INDEX_TYPE),
      fileName: String(r._FILE_NAME),
      fileSize: Number(r._FILE_SIZE),
      rowCount: Number(r._ROW_COUNT),
      ranges: raw === null ? null : raw.filter((x): x is AvroRecord => x !== null).map((x) => ({
        dataFile: String(x.f0), offset: Number(x.f1), length: Number(x.f2),
        cardinality: x._CARDINALITY === null || x._CARDINALITY === undefined ? null : Number(x._CARDINALITY),
      })),
    };
  });
}

export function encodeIndexManifest(entries: IndexManifestEntry[]): Uint8Array {
  return writeAvroContainer(INDEX_MANIFEST_SCHEMA, entries.map((e) => ({
    _VERSION: 1,
    _KIND: e.kind,
    _PARTITION: Buffer.from(e.partition, 'base64'),
    _BUCKET: e.bucket,
    _INDEX_TYPE: e.indexType,
    _FILE_NAME: e.fileName,
    _FILE_SIZE: e.fileSize,
    _ROW_COUNT: e.rowCount,
    _DELETIONS_VECTORS_RANGES: e.ranges === null ? null : e.ranges.map((x) => ({ f0: x.dataFile, f1: x.offset, f2: x.length, _CARDINALITY: x.cardinality })),
  })));
}

/** Live index entries after applying ADD (0) and DELETE (1) entries in order. */
export function liveIndexEntries(entries: IndexManifestEntry[]): IndexManifestEntry[] {
  const live = new Map<string, IndexManifestEntry>();
  for (const e of entries) {
    const id = `${e.partition}|${e.bucket}|${e.indexType}|${e.fileName}`;
    if (e.kind === 0) live.set(id, e);
    else live.delete(id);
  }
  return [...live.values()];
}

/** Deletion files of the data files of one partition and bucket, by data file name. */
export function deletionFilesOf(entries: IndexManifestEntry[]): Map<string, Map<string, DeletionFile>> {
  const out = new Map<string, Map<string, DeletionFile>>();
  for (const e of entries) {
    if (e.indexType !== DELETION_VECTORS_INDEX || !e.ranges) continue;
    const key = `${e.partition}|${e.bucket}`;
    let m = out.get(key);
    if (!m) { m = new Map(); out.set(key, m); }
    for (const r of e.ranges) m.set(r.dataFile, { indexFile: e.fileName, offset: r.offset, length: r.length, cardinality: r.cardinality });
  }
  return out;
}

// ---------- index files ----------

/** Reads the vector at `file` out of the bytes of its index file. */
export function readDeletionVector(indexBytes: Uint8Array, file: DeletionFile, where: string): DeletionVector {
  const buf = Buffer.from(indexBytes.buffer, indexBytes.byteOffset, indexBytes.byteLength);
  if (buf[0] !== INDEX_FILE_VERSION) throw new LakeFormatError(`deletion-vector index file ${where} has version ${buf[0]}; Weir reads version ${INDEX_FILE_VERSION}`);
  const { offset, length } = file;
  if (offset + 4 + length > buf.length) throw new LakeFormatError(`deletion-vector index file ${where} is shorter than the range ${offset}+${length} its manifest names`);
  const size = buf.readInt32BE(offset);
  if (size !== length) throw new LakeFormatError(`deletion vector at ${where}@${offset} has size ${size}, the index manifest says ${length}`);
  const body = buf.subarray(offset + 4, offset + 4 + length);
  if (offset + 8 + length <= buf.length) {
    const crc = buf.readUInt32BE(offset + 4 + length);
    if (crc !== crc32(body)) throw new LakeFormatError(`deletion vector at ${where}@${offset} fails its CRC32 check; the index file is damaged`);
  }
  return decodeDeletionVector(body, where);
}

/** A vector from its bytes (magic + bitmap). */
export function decodeDeletionVector(body: Buffer, where: string): DeletionVector {
  if (body.subarray(0, 4).equals(BITMAP64_MAGIC_BYTES)) return new Bitmap64Vector(decodeBitmap64(body.subarray(4), where));
  const magic = body.readInt32BE(0);
  if (magic !== BITMAP32_MAGIC) throw new LakeFormatError(`deletion vector in ${where} has magic number ${magic}; Weir reads Paimon's bitmap (${BITMAP32_MAGIC}) and 64-bit bitmap vectors`);
  return new Bitmap32Vector(bitmaps().deserialize(body.subarray(4), true));
}

function decodeBitmap64(b: Buffer, where: string): Map<number, Bitmap> {
  const out = new Map<number, Bitmap>();
  const count = Number(b.readBigUInt64LE(0));
  let pos = 8;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > b.length) throw new LakeFormatError(`64-bit deletion vector in ${where} is truncated`);
    const key = b.readUInt32LE(pos);
    pos += 4;
    const bm = bitmaps().deserialize(b.subarray(pos), true);
    pos += bm.getSerializationSizeInBytes(true);
    out.set(key, bm);
  }
  return out;
}

/** Serialized vector (magic + portable bitmap) of these positions, as Java's BitmapDeletionVector. */
export function encodeDeletionVector(positions: Iterable<number>): Buffer {
  const RoaringBitmap32 = bitmaps();
  const bm = new RoaringBitmap32(positions);
  bm.runOptimize();
  const bitmap = bm.serialize(true);
  const body = Buffer.alloc(4 + bitmap.length);
  body.writeInt32BE(BITMAP32_MAGIC, 0);
  body.set(bitmap, 4);
  return body;
}

/** An index file holding these vectors (data file name -> serialized vector), and their ranges. */
export function encodeIndexFile(vectors: Map<string, { body: Buffer; cardinality: number }>): { bytes: Buffer; ranges: NonNullable<IndexManifestEntry['ranges']> } {
  const parts: Buffer[] = [Buffer.from([INDEX_FILE_VERSION])];
  const ranges: NonNullable<IndexManifestEntry['ranges']> = [];
  let offset = 1;
  for (const [dataFile, { body, cardinality }] of vectors) {
    const head = Buffer.alloc(4);
    head.writeInt32BE(body.length, 0);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc32(body), 0);
    parts.push(head, body, tail);
    ranges.push({ dataFile, offset, length: body.length, cardinality });
    offset += 8 + body.length;
  }
  return { bytes: Buffer.concat(parts), ranges };
}

/** Positions deleted by a vector, for merging an old vector into a new one. */
export function deletedPositions(v: DeletionVector): number[] {
  if (v instanceof Bitmap32Vector) return v.bitmap.toArray();
  throw new LakeFormatError('extending a 64-bit deletion vector is not supported by the Weir writer');
}
