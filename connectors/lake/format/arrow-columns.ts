/**
 * Paimon types <-> Arrow columns. Columns are built straight into typed arrays with makeData (the
 * Arrow builders cost about 10x more, see FACTS.md); reads go chunk by chunk over the raw buffers.
 *
 * Timestamps: precision <= 3 as milliseconds, <= 6 microseconds, else nanoseconds; LTZ columns
 * carry the UTC zone (Parquet isAdjustedToUTC). Decimals as Decimal128.
 */
import * as arrow from 'apache-arrow';
import type { DataType, DataField } from '../schema/types.ts';
import { decimalToUnscaled, floorDiv, toEpochNanos, unscaledToDecimal } from '../schema/values.ts';

const utf8 = new TextEncoder();
const textDecoder = new TextDecoder();

export const FIELD_ID_KEY = 'PARQUET:field_id';

function timeUnitFor(precision: number): arrow.TimeUnit {
  return precision <= 3 ? arrow.TimeUnit.MILLISECOND : precision <= 6 ? arrow.TimeUnit.MICROSECOND : arrow.TimeUnit.NANOSECOND;
}

const NANOS_PER_UNIT: Record<number, bigint> = {
  [arrow.TimeUnit.SECOND]: 1_000_000_000n,
  [arrow.TimeUnit.MILLISECOND]: 1_000_000n,
  [arrow.TimeUnit.MICROSECOND]: 1_000n,
  [arrow.TimeUnit.NANOSECOND]: 1n,
};

export function arrowType(t: DataType): arrow.DataType {
  switch (t.root) {
    case 'BOOLEAN': return new arrow.Bool();
    case 'TINYINT': return new arrow.Int8();
    case 'SMALLINT': return new arrow.Int16();
    case 'INT': return new arrow.Int32();
    case 'BIGINT': return new arrow.Int64();
    case 'FLOAT': return new arrow.Float32();
    case 'DOUBLE': return new arrow.Float64();
    case 'DECIMAL': return new arrow.Decimal(t.scale ?? 0, t.length ?? 10, 128);
    case 'CHAR': case 'VARCHAR': return new arrow.Utf8();
    case 'BINARY': case 'VARBINARY': return new arrow.Binary();
    case 'DATE': return new arrow.DateDay();
    case 'TIME': return new arrow.TimeMillisecond();
    case 'TIMESTAMP': return new arrow.Timestamp(timeUnitFor(t.length ?? 6));
    case 'TIMESTAMP_LTZ': return new arrow.Timestamp(timeUnitFor(t.length ?? 6), 'UTC');
    case 'ARRAY': return new arrow.List(new arrow.Field('element', arrowType(t.element), t.element.nullable));
    case 'MAP': {
      const entries = new arrow.Struct([
        new arrow.Field('key', arrowType(t.key), false),
        new arrow.Field('value', arrowType(t.value), t.value.nullable),
      ] as arrow.Field[]);
      return new arrow.Map_(new arrow.Field('entries', entries, false) as arrow.Field<arrow.Struct<{ key: arrow.DataType; value: arrow.DataType }>>);
    }
    case 'ROW': return new arrow.Struct(t.fields.map((f) => arrowField(f)));
  }
}

export function arrowField(f: DataField, name = f.name, id = f.id): arrow.Field {
  return new arrow.Field(name, arrowType(f.type), f.type.nullable, new Map([[FIELD_ID_KEY, String(id)]]));
}

function nullBitmap(values: ArrayLike<unknown>): { bitmap: Uint8Array | undefined; nullCount: number } {
  const n = values.length;
  let nullCount = 0;
  for (let i = 0; i < n; i++) if (values[i] === null || values[i] === undefined) nullCount++;
  if (nullCount === 0) return { bitmap: undefined, nullCount };
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
  return { bitmap, nullCount };
}

/** Builds one Arrow column from JS values of a Paimon type. */
export function buildColumn(t: DataType, values: ArrayLike<unknown>): arrow.Data {
  const length = values.length;
  const { bitmap, nullCount } = nullBitmap(values);
  const type = arrowType(t);
  const base = { type, length, nullCount, ...(bitmap ? { nullBitmap: bitmap } : {}) };
  const numeric = <A extends { [i: number]: number }>(arr: A): A => {
    for (let i = 0; i < length; i++) { const v = values[i]; if (v !== null && v !== undefined) arr[i] = v as number; }
    return arr;
  };
  switch (t.root) {
    case 'BOOLEAN': {
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (values[i] === true) bits[i >> 3]! |= 1 << (i & 7);
      return arrow.makeData({ ...base, type: type as arrow.Bool, data: bits });
    }
    case 'TINYINT': return arrow.makeData({ ...base, type: type as arrow.Int8, data: numeric(new Int8Array(length)) });
    case 'SMALLINT': return arrow.makeData({ ...base, type: type as arrow.Int16, data: numeric(new Int16Array(length)) });
    case 'INT': return arrow.makeData({ ...base, type: type as arrow.Int32, data: numeric(new Int32Array(length)) });
    case 'DATE': return arrow.makeData({ ...base, type: type as arrow.DateDay, data: numeric(new Int32Array(length)) });
    case 'TIME': return arrow.makeData({ ...base, type: type as arrow.TimeMillisecond, data: numeric(new Int32Array(length)) });
    case 'FLOAT': return arrow.makeData({ ...base, type: type as arrow.Float32, data: numeric(new Float32Array(length)) });
    case 'DOUBLE': return arrow.makeData({ ...base, type: type as arrow.Float64, data: numeric(new Float64Array(length)) });
    case 'BIGINT': {
      const arr = new BigInt64Array(length);
      for (let i = 0; i < length; i++) { const v = values[i]; if (v !== null && v !== undefined) arr[i] = typeof v === 'bigint' ? v : BigInt(v as number); }
      return arrow.makeData({ ...base, type: type as arrow.Int64, data: arr });
    }
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
      const per = NANOS_PER_UNIT[timeUnitFor(t.length ?? 6)]!;
      const arr = new BigInt64Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) arr[i] = per === 1n ? toEpochNanos(v) : floorDiv(toEpochNanos(v), per);
      }
      return arrow.makeData({ ...base, type: type as arrow.Timestamp, data: arr as unknown as Int32Array });
    }
    case 'DECIMAL': {
      const words = new Uint32Array(length * 4);
      const scale = t.scale ?? 0;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        let u = BigInt.asUintN(128, decimalToUnscaled(v, scale));
        for (let w = 0; w < 4; w++) { words[i * 4 + w] = Number(u & 0xffffffffn); u >>= 32n; }
      }
      return arrow.makeData({ ...base, type: type as arrow.Decimal, data: words });
    }
    case 'CHAR': case 'VARCHAR': case 'BINARY': case 'VARBINARY': {
      const isText = t.root === 'CHAR' || t.root === 'VARCHAR';
      const offsets = new Int32Array(length + 1);
      let cap = 0;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) cap += isText ? (v as string).length * 3 : (v as Uint8Array).length;
      }
      let data = new Uint8Array(cap);
      let pos = 0;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) {
          if (isText) pos += utf8.encodeInto(v as string, data.subarray(pos)).written;
          else { data.set(v as Uint8Array, pos); pos += (v as Uint8Array).length; }
        }
        offsets[i + 1] = pos;
      }
      data = data.subarray(0, pos);
      return isText
        ? arrow.makeData({ ...base, type: type as arrow.Utf8, valueOffsets: offsets, data })
        : arrow.makeData({ ...base, type: type as arrow.Binary, valueOffsets: offsets, data });
    }
    case 'ARRAY': {
      const offsets = new Int32Array(length + 1);
      const flat: unknown[] = [];
      for (let i = 0; i < length; i++) {
        const v = values[i] as unknown[] | null | undefined;
        if (v) for (const x of v) flat.push(x);
        offsets[i + 1] = flat.length;
      }
      return arrow.makeData({ ...base, type: type as arrow.List, valueOffsets: offsets, child: buildColumn(t.element, flat) });
    }
    case 'MAP': {
      const offsets = new Int32Array(length + 1);
      const keys: unknown[] = [];
      const vals: unknown[] = [];
      for (let i = 0; i < length; i++) {
        const v = values[i] as Map<unknown, unknown> | Record<string, unknown> | null | undefined;
        if (v) for (const [k, x] of v instanceof Map ? v.entries() : Object.entries(v)) { keys.push(k); vals.push(x); }
        offsets[i + 1] = keys.length;
      }
      const mapType = type as arrow.Map_;
      const entries = arrow.makeData({
        type: mapType.children[0]!.type as arrow.Struct, length: keys.length, nullCount: 0,
        children: [buildColumn(t.key, keys), buildColumn(t.value, vals)],
      });
      return arrow.makeData({ ...base, type: mapType, valueOffsets: offsets, child: entries });
    }
    case 'ROW': {
      const children = t.fields.map((f) => buildColumn(f.type, Array.from({ length }, (_, i) => {
        const r = values[i] as Record<string, unknown> | unknown[] | null | undefined;
        if (!r) return null;
        return Array.isArray(r) ? r[t.fields.indexOf(f)] : r[f.name];
      })));
      return arrow.makeData({ ...base, type: type as arrow.Struct, children });
    }
  }
}

// ---------- reading ----------

function isValidAt(d: arrow.Data, i: number): boolean {
  const bm = d.nullBitmap;
  if (!bm || bm.length === 0 || d.nullCount === 0) return true;
  const j = d.offset + i;
  return (bm[j >> 3]! & (1 << (j & 7))) !== 0;
}

/** All values of a column as the JS values of the Paimon type. Appends to `out` and returns it. */
export function readColumn(t: DataType, vector: arrow.Vector, out: unknown[] = []): unknown[] {
  for (const d of vector.data) readData(t, d, out);
  return out;
}

function readData(t: DataType, d: arrow.Data, out: unknown[]): void {
  const n = d.length;
  const at = d.type as arrow.DataType;
  switch (t.root) {
    case 'BOOLEAN': {
      const bits = d.values as Uint8Array;
      for (let i = 0; i < n; i++) {
        const j = d.offset + i;
        out.push(isValidAt(d, i) ? (bits[j >> 3]! & (1 << (j & 7))) !== 0 : null);
      }
      return;
    }
    case 'TINYINT': case 'SMALLINT': case 'INT': case 'DATE': case 'FLOAT': case 'DOUBLE': case 'TIME': {
      if (arrow.DataType.isDate(at) && (at as arrow.Date_).unit === arrow.DateUnit.MILLISECOND) {
        const v = d.values as unknown as BigInt64Array;
        for (let i = 0; i < n; i++) out.push(isValidAt(d, i) ? Number(v[i]! / 86_400_000n) : null);
        return;
      }
      if (arrow.DataType.isTime(at) && (at as arrow.Time).bitWidth === 64) {
        const v = d.values as unknown as BigInt64Array;
        const div = (at as arrow.Time).unit === arrow.TimeUnit.MICROSECOND ? 1000n : 1_000_000n;
        for (let i = 0; i < n; i++) out.push(isValidAt(d, i) ? Number(v[i]! / div) : null);
        return;
      }
      const v = d.values as unknown as ArrayLike<number>;
      const noNulls = d.nullCount === 0;
      for (let i = 0; i < n; i++) out.push(noNulls || isValidAt(d, i) ? v[i]! : null);
      return;
    }
    case 'BIGINT': {
      const v = d.values as unknown as BigInt64Array;
      for (let i = 0; i < n; i++) out.push(isValidAt(d, i) ? v[i]! : null);
      return;
    }
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
      const v = d.values as unknown as BigInt64Array;
      const per = NANOS_PER_UNIT[(at as arrow.Timestamp).unit]!;
      for (let i = 0; i < n; i++) out.push(isValidAt(d, i) ? v[i]! * per : null);
      return;
    }
    case 'DECIMAL': {
      const scale = t.scale ?? 0;
      if (arrow.DataType.isInt(at)) {
        const v = d.values as unknown as ArrayLike<number | bigint>;
        for (let i = 0; i < n; i++) out.push(isValidAt(d, i) ? unscaledToDecimal(BigInt(v[i]!), scale) : null);
        return;
      }
      const words = d.values as unknown as Uint32Array;
      const width = ((at as arrow.Decimal).bitWidth ?? 128) / 32;
      for (let i = 0; i < n; i++) {
        if (!isValidAt(d, i)) { out.push(null); continue; }
        let u = 0n;
        for (let w = width - 1; w >= 0; w--) u = (u << 32n) | BigInt(words[i * width + w]!);
        out.push(unscaledToDecimal(BigInt.asIntN(width * 32, u), scale));
      }
      return;
    }
    case 'CHAR': case 'VARCHAR': case 'BINARY': case 'VARBINARY': {
      const isText = t.root === 'CHAR' || t.root === 'VARCHAR';
      const offsets = d.valueOffsets as unknown as ArrayLike<number | bigint>;
      const bytes = d.values as Uint8Array;
      if (!offsets || arrow.DataType.isFixedSizeBinary(at)) {
        const vec = arrow.makeVector(d);
        for (let i = 0; i < n; i++) out.push(vec.get(i));
        return;
      }
      for (let i = 0; i < n; i++) {
        if (!isValidAt(d, i)) { out.push(null); continue; }
        // sliced Data carries offsets already cut at its start (only the null bitmap is indexed by d.offset)
        const s = Number(offsets[i]!);
        const e = Number(offsets[i + 1]!);
        out.push(isText ? textDecoder.decode(bytes.subarray(s, e)) : bytes.slice(s, e));
      }
      return;
    }
    case 'ARRAY': case 'MAP': case 'ROW': {
      const vec = arrow.makeVector(d);
      for (let i = 0; i < n; i++) out.push(convertNested(t, vec.get(i)));
      return;
    }
  }
}

function convertNested(t: DataType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (t.root) {
    case 'ARRAY': {
      const vec = v as arrow.Vector;
      return readColumn(t.element, vec);
    }
    case 'MAP': {
      const out = new Map<unknown, unknown>();
      const mv = v as { entries?: () => Iterable<[unknown, unknown]> } & Iterable<[unknown, unknown]>;
      for (const [k, x] of mv) out.set(convertScalar(t.key, k), convertScalar(t.value, x));
      return out;
    }
    case 'ROW': {
      const row = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of t.fields) out[f.name] = convertScalar(f.type, row[f.name]);
      return out;
    }
    default:
      return v;
  }
}

/** A single value as Arrow's get() returns it -> our JS value. */
function convertScalar(t: DataType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (t.root) {
    case 'ARRAY': case 'MAP': case 'ROW': return convertNested(t, v);
    case 'BIGINT': return BigInt(v as bigint);
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return typeof v === 'bigint' ? v : BigInt(Math.round((v as number) * 1e6));
    case 'DATE': return typeof v === 'number' && Math.abs(v) > 1e7 ? Math.floor(v / 86_400_000) : v;
    case 'DECIMAL': {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return String(v);
      const words = v as Uint32Array;
      let u = 0n;
      for (let w = words.length - 1; w >= 0; w--) u = (u << 32n) | BigInt(words[w]!);
      return unscaledToDecimal(BigInt.asIntN(words.length * 32, u), t.scale ?? 0);
    }
    default: return v;
  }
}
