/**
 * Data files: rows of one bucket in Parquet, plus the DataFileMeta that describes them in manifests.
 *
 * Primary-key files hold `_KEY_<k>` for each primary-key field that is not a partition field (field
 * id 1073741823 + id), `_SEQUENCE_NUMBER` (bigint), `_VALUE_KIND` (tinyint: 0 +I, 1 -U, 2 +U, 3 -D),
 * then every table field. Append files hold the table fields only.
 */
import type * as arrow from 'apache-arrow';
import * as A from 'apache-arrow';
import type { TableSchema } from '../schema/schema.ts';
import type { DataField, DataType } from '../schema/types.ts';
import { T } from '../schema/types.ts';
import { arrowField, buildColumn, readColumn } from './arrow-columns.ts';
import { readParquetBytes, writeParquetBytes } from './parquet.ts';
import { computeStats } from './stats.ts';
import { encodeSerializedRow } from './binary-row.ts';
import type { DataFileMeta } from './manifest.ts';
import { LakeFormatError } from '../errors.ts';
import { castFor } from '../schema/casts.ts';

export const KEY_FIELD_ID_START = 1073741823;
export const SEQUENCE_NUMBER_FIELD_ID = 2147483646;
export const VALUE_KIND_FIELD_ID = 2147483645;
export const KEY_PREFIX = '_KEY_';

/** Rows of one file in columnar-friendly arrays: row values, sequence numbers, row kinds. */
export interface RecordBatchRows {
  rows: unknown[][];
  seqs: number[];
  kinds: number[];
}

export interface DataFileShape {
  schema: TableSchema;
  /** indexes (into schema.fields) of the key fields stored as _KEY_ columns; empty for append tables */
  keyIndexes: number[];
  primaryKey: boolean;
}

export interface WriteFileOptions {
  fileName: string;
  level: number;
  /** 0 APPEND (a writer), 1 COMPACT */
  fileSource: number;
  compression: string;
}

/** Encodes rows (already sorted by key for primary-key tables) into Parquet and describes the file. */
export function encodeDataFile(shape: DataFileShape, batch: RecordBatchRows, opts: WriteFileOptions): { bytes: Uint8Array; meta: DataFileMeta } {
  const { schema, keyIndexes } = shape;
  const n = batch.rows.length;
  const fields = schema.fields;
  const valueColumns: unknown[][] = fields.map(() => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const r = batch.rows[i]!;
    for (let c = 0; c < fields.length; c++) valueColumns[c]![i] = r[c] ?? null;
  }
  const arrowFields: arrow.Field[] = [];
  const data: arrow.Data[] = [];
  const keyTypes: DataType[] = keyIndexes.map((k) => fields[k]!.type);
  const keyColumns = keyIndexes.map((k) => valueColumns[k]!);
  let minSeq = 0;
  let maxSeq = 0;
  let deletes = 0;
  if (shape.primaryKey) {
    keyIndexes.forEach((k, j) => {
      const f = fields[k]!;
      arrowFields.push(arrowField(f, `${KEY_PREFIX}${f.name}`, KEY_FIELD_ID_START + f.id));
      data.push(buildColumn(f.type, keyColumns[j]!));
    });
    const seq = new BigInt64Array(n);
    const kind = new Int8Array(n);
    minSeq = Number.MAX_SAFE_INTEGER;
    maxSeq = -1;
    for (let i = 0; i < n; i++) {
      const s = batch.seqs[i]!;
      seq[i] = BigInt(s);
      if (s < minSeq) minSeq = s;
      if (s > maxSeq) maxSeq = s;
      const k = batch.kinds[i]!;
      kind[i] = k;
      if (k === 1 || k === 3) deletes++;
    }
    arrowFields.push(new A.Field('_SEQUENCE_NUMBER', new A.Int64(), false, new Map([['PARQUET:field_id', String(SEQUENCE_NUMBER_FIELD_ID)]])));
    data.push(A.makeData({ type: new A.Int64(), length: n, nullCount: 0, data: seq }));
    arrowFields.push(new A.Field('_VALUE_KIND', new A.Int8(), false, new Map([['PARQUET:field_id', String(VALUE_KIND_FIELD_ID)]])));
    data.push(A.makeData({ type: new A.Int8(), length: n, nullCount: 0, data: kind }));
  } else if (n > 0) {
    minSeq = batch.seqs[0]!;
    maxSeq = batch.seqs[n - 1]!;
  }
  fields.forEach((f, c) => {
    arrowFields.push(arrowField(f));
    data.push(buildColumn(f.type, valueColumns[c]!));
  });
  const bytes = writeParquetBytes(arrowFields, data, opts.compression);
  const firstKey = shape.primaryKey && n > 0 ? keyIndexes.map((k) => batch.rows[0]![k]) : [];
  const lastKey = shape.primaryKey && n > 0 ? keyIndexes.map((k) => batch.rows[n - 1]![k]) : [];
  const keyRowTypes = shape.primaryKey ? keyTypes : [];
  const meta: DataFileMeta = {
    fileName: opts.fileName,
    fileSize: bytes.length,
    rowCount: n,
    minKey: Buffer.from(encodeSerializedRow(keyRowTypes, firstKey)).toString('base64'),
    maxKey: Buffer.from(encodeSerializedRow(keyRowTypes, lastKey)).toString('base64'),
    keyStats: computeStats(keyRowTypes, shape.primaryKey ? keyColumns : []),
    valueStats: computeStats(fields.map((f) => f.type), valueColumns),
    minSequenceNumber: minSeq,
    maxSequenceNumber: maxSeq,
    schemaId: schema.id,
    level: opts.level,
    extraFiles: [],
    creationTime: Date.now(),
    deleteRowCount: deletes,
    embeddedIndex: null,
    fileSource: opts.fileSource,
    valueStatsCols: null,
    externalPath: null,
    firstRowId: null,
  };
  return { bytes, meta };
}

/** Reads a data file written under `fileSchema` into rows of `target` (columns matched by field id). */
export function decodeDataFile(bytes: Uint8Array, where: string, fileSchema: TableSchema, target: TableSchema, primaryKey: boolean): RecordBatchRows {
  const table = readParquetBytes(bytes, where);
  const n = table.numRows;
  const byId = new Map<number, DataField>(fileSchema.fields.map((f) => [f.id, f]));
  const rows: unknown[][] = new Array(n);
  for (let i = 0; i < n; i++) rows[i] = new Array<unknown>(target.fields.length).fill(null);
  target.fields.forEach((f, c) => {
    const source = byId.get(f.id);
    if (!source) return; // added after this file was written
    const vec = table.getChild(source.name);
    if (!vec) throw new LakeFormatError(`data file ${where} has no column '${source.name}' though its schema ${fileSchema.id} lists it`);
    const values = readColumn(source.type, vec);
    // a column whose type changed since this file was written: Paimon's cast rules (schema/casts.ts)
    const cast = castFor(source.type, f.type, f.name);
    if (cast) for (let i = 0; i < n; i++) rows[i]![c] = values[i] === null ? null : cast(values[i]);
    else for (let i = 0; i < n; i++) rows[i]![c] = values[i];
  });
  let seqs: number[];
  let kinds: number[];
  if (primaryKey) {
    const seqVec = table.getChild('_SEQUENCE_NUMBER');
    const kindVec = table.getChild('_VALUE_KIND');
    if (!seqVec || !kindVec) throw new LakeFormatError(`data file ${where} of a primary-key table lacks _SEQUENCE_NUMBER/_VALUE_KIND`);
    seqs = readColumn(T.bigint(), seqVec).map((v) => Number(v));
    kinds = readColumn(T.tinyint(), kindVec) as number[];
  } else {
    seqs = [];
    kinds = new Array<number>(n).fill(0);
  }
  return { rows, seqs, kinds };
}
