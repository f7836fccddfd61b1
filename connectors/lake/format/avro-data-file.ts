/**
 * Avro data files (`file.format = avro`): an Avro container whose records have one field per column
 * (primary-key files: `_KEY_<k>`, `_SEQUENCE_NUMBER`, `_VALUE_KIND`, then the table fields), as Java
 * Paimon's AvroSchemaConverter writes them. Records are decoded by avsc with 64-bit longs as
 * bigints; logical types (date, time-millis, timestamp-millis/micros, decimal) are converted here
 * from the Paimon type, not by avsc.
 */
import type { TableSchema } from '../schema/schema.ts';
import type { DataField, DataType } from '../schema/types.ts';
import { castFor } from '../schema/casts.ts';
import { bytesToBigint, unscaledToDecimal } from '../schema/values.ts';
import { LakeFormatError } from '../errors.ts';
import { readAvroContainer } from './avro.ts';
import type { RecordBatchRows } from './data-file.ts';

type AvroSchema = string | AvroSchema[] | { type: string | AvroSchema; logicalType?: string; fields?: Array<{ name: string; type: AvroSchema }>; items?: AvroSchema; values?: AvroSchema };

/** The non-null branch of a ["null", T] union. */
function nonNull(s: AvroSchema): AvroSchema {
  if (Array.isArray(s)) return s.find((x) => x !== 'null') ?? 'null';
  return s;
}

function logicalOf(s: AvroSchema): string | undefined {
  const t = nonNull(s);
  if (typeof t === 'object' && !Array.isArray(t)) return t.logicalType ?? (typeof t.type === 'object' ? logicalOf(t.type) : undefined);
  return undefined;
}

/** An Avro value (as avsc decodes it, longs as bigints) -> Weir's JS value of the Paimon type. */
function convert(t: DataType, s: AvroSchema, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  const schema = nonNull(s);
  switch (t.root) {
    case 'BIGINT': return BigInt(v as bigint);
    case 'TINYINT': case 'SMALLINT': case 'INT': case 'DATE': case 'TIME': case 'FLOAT': case 'DOUBLE': return typeof v === 'bigint' ? Number(v) : v;
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
      const logical = logicalOf(schema);
      const n = BigInt(v as bigint);
      return logical?.endsWith('nanos') ? n : logical?.endsWith('micros') ? n * 1000n : n * 1_000_000n;
    }
    case 'DECIMAL': {
      const b = v as Uint8Array;
      return unscaledToDecimal(bytesToBigint(b), t.scale ?? 0);
    }
    case 'CHAR': case 'VARCHAR': return v as string;
    case 'BINARY': case 'VARBINARY': return Uint8Array.from(v as Uint8Array);
    case 'BOOLEAN': return v;
    case 'ARRAY': {
      const items = typeof schema === 'object' && !Array.isArray(schema) ? (schema.items ?? 'null') : 'null';
      return (v as unknown[]).map((x) => convert(t.element, items, x));
    }
    case 'MAP': {
      const out = new Map<unknown, unknown>();
      const obj = typeof schema === 'object' && !Array.isArray(schema) ? schema : undefined;
      if (obj?.type === 'map') {
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) out.set(k, convert(t.value, obj.values ?? 'null', x));
      } else {
        // non-string keys: an array of {key, value} records
        const rec = nonNull(obj?.items ?? 'null');
        const fields = typeof rec === 'object' && !Array.isArray(rec) ? (rec.fields ?? []) : [];
        const ks = fields.find((f) => f.name === 'key')?.type ?? 'null';
        const vs = fields.find((f) => f.name === 'value')?.type ?? 'null';
        for (const e of v as Array<{ key: unknown; value: unknown }>) out.set(convert(t.key, ks, e.key), convert(t.value, vs, e.value));
      }
      return out;
    }
    case 'ROW': {
      const fields = typeof schema === 'object' && !Array.isArray(schema) ? (schema.fields ?? []) : [];
      const r = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      t.fields.forEach((f, i) => {
        const af = fields.find((x) => x.name === f.name) ?? fields[i];
        out[f.name] = af ? convert(f.type, af.type, r[af.name]) : null;
      });
      return out;
    }
  }
}

/** Reads an Avro data file written under `fileSchema` into rows of `target` (fields matched by id, old types cast). */
export function decodeAvroDataFile(bytes: Uint8Array, where: string, fileSchema: TableSchema, target: TableSchema, primaryKey: boolean): RecordBatchRows {
  const { schema, records } = readAvroContainer<Record<string, unknown>>(bytes, where, true);
  const avroFields = (schema as { fields?: Array<{ name: string; type: AvroSchema }> }).fields ?? [];
  const avroType = new Map(avroFields.map((f) => [f.name, f.type]));
  const byId = new Map<number, DataField>(fileSchema.fields.map((f) => [f.id, f]));
  const columns = target.fields.map((f) => {
    const source = byId.get(f.id);
    if (!source) return null;
    const at = avroType.get(source.name);
    if (at === undefined) throw new LakeFormatError(`Avro data file ${where} has no field '${source.name}' though its schema ${fileSchema.id} lists it`);
    return { name: source.name, type: source.type, avro: at, cast: castFor(source.type, f.type, f.name) };
  });
  const n = records.length;
  const rows: unknown[][] = new Array(n);
  const seqs: number[] = [];
  const kinds: number[] = new Array<number>(n).fill(0);
  if (primaryKey && (!avroType.has('_SEQUENCE_NUMBER') || !avroType.has('_VALUE_KIND'))) {
    throw new LakeFormatError(`Avro data file ${where} of a primary-key table lacks _SEQUENCE_NUMBER/_VALUE_KIND`);
  }
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    const row = new Array<unknown>(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c];
      if (!col) { row[c] = null; continue; }
      const v = convert(col.type, col.avro, r[col.name]);
      row[c] = v === null || !col.cast ? v : col.cast(v);
    }
    rows[i] = row;
    if (primaryKey) {
      seqs.push(Number(r._SEQUENCE_NUMBER));
      kinds[i] = Number(r._VALUE_KIND);
    }
  }
  return { rows, seqs, kinds };
}
