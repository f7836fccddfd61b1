/**
 * The table an OLAP sink writes: its columns (store-neutral types) and primary key, derived from
 * the stream's records or declared. Each store maps the neutral types to its own (DuckDB, ClickHouse,
 * StarRocks).
 *
 * JS values per type (what a record's field holds):
 *
 *     BOOLEAN    boolean
 *     INTEGER    number (32-bit integer)
 *     BIGINT     bigint, or a number that is a safe integer
 *     DOUBLE     number
 *     VARCHAR    string
 *     TIMESTAMP  Date, or a number of milliseconds since the epoch (UTC)
 *     DATE       Date, or a 'YYYY-MM-DD' string
 *     BLOB       Uint8Array
 *     JSON       any plain data, stored as its JSON text (nested objects and arrays)
 *
 * Derivation (Flink's type extraction, at run time: TypeScript types are erased) looks at the first
 * record's field values: boolean, number -> DOUBLE (a TypeScript `number` is a double; declare
 * INTEGER or BIGINT to store integers), bigint, string, Date, Uint8Array. Anything else (an object,
 * an array, null) cannot be derived: the error names the field and says what to declare.
 */
import { BadRecordError, ConfigError, describeRecord } from '../../runtime/errors.ts';

export const COLUMN_TYPES = ['BOOLEAN', 'INTEGER', 'BIGINT', 'DOUBLE', 'VARCHAR', 'TIMESTAMP', 'DATE', 'BLOB', 'JSON'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface OlapColumn {
  name: string;
  type: ColumnType;
  /** Primary-key columns are never nullable. */
  nullable: boolean;
}

export interface OlapTableSchema {
  table: string;
  columns: OlapColumn[];
  /** Column names; empty for an append-only table. */
  primaryKey: string[];
}

/** The column types a field of JS type V may be declared as. */
export type ColumnTypeFor<V> = [NonNullable<V>] extends [boolean]
  ? 'BOOLEAN' | 'JSON'
  : [NonNullable<V>] extends [number]
    ? 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'TIMESTAMP' | 'JSON'
    : [NonNullable<V>] extends [bigint]
      ? 'BIGINT'
      : [NonNullable<V>] extends [string]
        ? 'VARCHAR' | 'DATE' | 'JSON'
        : [NonNullable<V>] extends [Date]
          ? 'TIMESTAMP' | 'DATE'
          : [NonNullable<V>] extends [Uint8Array]
            ? 'BLOB'
            : 'JSON';

/** Declared column types by field name: a field of T may only be declared as a type its values fit. */
export type ColumnsOf<T> = { [K in keyof T & string]?: ColumnTypeFor<T[K]> };

/** What a user says about the table (the rest is derived from the records). */
export interface OlapTableOptions<T> {
  /** Table name in the store. */
  table: string;
  /** Upsert and delete by these fields; without one the table is append-only (a -U/-D change fails). */
  primaryKey?: readonly (keyof T & string)[];
  /**
   * Column types by field. Fields not named here are derived from the first record; name every
   * field (in table order) to create the table before any record arrives.
   */
  columns?: ColumnsOf<T>;
}

/** The table options, checked: a ConfigError names what is wrong. */
export function checkTableOptions<T>(options: OlapTableOptions<T>, sink: string): void {
  if (typeof options.table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.table)) {
    throw new ConfigError(`${sink}.table`, `'${String(options.table)}' is not a table name: use letters, digits and _ (not starting with a digit)`);
  }
  for (const [name, type] of Object.entries(options.columns ?? {})) {
    checkColumnName(name, `${sink}.columns`);
    if (!(COLUMN_TYPES as readonly string[]).includes(type as string)) {
      throw new ConfigError(`${sink}.columns.${name}`, `'${String(type)}' is not a column type; valid: ${COLUMN_TYPES.join(', ')}`);
    }
  }
  for (const k of options.primaryKey ?? []) checkColumnName(k, `${sink}.primaryKey`);
}

function checkColumnName(name: string, setting: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name.startsWith('_weir_')) {
    throw new ConfigError(setting, `'${name}' cannot be a column name: use letters, digits and _ (not starting with a digit or _weir_, which the sink uses)`);
  }
}

/** The type a value derives to, or undefined when it has none. */
export function deriveColumnType(value: unknown): ColumnType | undefined {
  switch (typeof value) {
    case 'boolean':
      return 'BOOLEAN';
    case 'number':
      return 'DOUBLE';
    case 'bigint':
      return 'BIGINT';
    case 'string':
      return 'VARCHAR';
    case 'object':
      if (value instanceof Date) return 'TIMESTAMP';
      if (value instanceof Uint8Array) return 'BLOB';
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The table schema from the options, completed from a record (the first one) when the options do
 * not declare every field. Columns come in the record's field order, declared-only fields after.
 */
export function resolveSchema<T>(options: OlapTableOptions<T>, sample: unknown, sink: string): OlapTableSchema {
  const declared = (options.columns ?? {}) as Record<string, ColumnType>;
  const primaryKey = [...(options.primaryKey ?? [])] as string[];
  const columns: OlapColumn[] = [];
  const seen = new Set<string>();
  const add = (name: string, type: ColumnType): void => {
    seen.add(name);
    columns.push({ name, type, nullable: !primaryKey.includes(name) });
  };
  if (sample !== undefined) {
    if (typeof sample !== 'object' || sample === null || Array.isArray(sample)) {
      throw new BadRecordError(`${sink}: records must be objects with one field per column, got ${describeRecord(sample)}`, describeRecord(sample));
    }
    for (const [name, value] of Object.entries(sample)) {
      if (declared[name]) {
        add(name, declared[name]);
        continue;
      }
      checkColumnName(name, `${sink} field`);
      const type = deriveColumnType(value);
      if (!type) throw unmappableField(sink, options.table, name, value, sample);
      add(name, type);
    }
  }
  for (const [name, type] of Object.entries(declared)) if (!seen.has(name)) add(name, type);
  if (columns.length === 0) throw new ConfigError(`${sink}.columns`, `table '${options.table}' has no columns: declare columns or send records with fields`);
  for (const k of primaryKey) {
    if (!seen.has(k)) throw new ConfigError(`${sink}.primaryKey`, `'${k}' is not a column of table '${options.table}' (columns: ${columns.map((c) => c.name).join(', ')})`);
  }
  return { table: options.table, columns, primaryKey };
}

function unmappableField(sink: string, table: string, name: string, value: unknown, record: unknown): BadRecordError {
  const what = value === null ? 'null' : value === undefined ? 'undefined' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  const fix =
    value === null || value === undefined
      ? `declare its type: columns: { ${name}: 'VARCHAR' } (or the type it holds)`
      : typeof value === 'object'
        ? `declare columns: { ${name}: 'JSON' } to store it as JSON text, or map it to flat fields before the sink`
        : `map it to a boolean, number, bigint, string, Date or Uint8Array before the sink`;
  return new BadRecordError(`${sink}: field '${name}' of table '${table}' holds ${what}, which has no column type: ${fix}`, describeRecord(record), name);
}

/**
 * A function that takes a record's values in column order, checking each against its column type:
 * a value that does not fit is a BadRecordError naming the field. JSON columns get the JSON text,
 * TIMESTAMP numbers become Dates, missing fields null (a missing key field is an error).
 */
export function columnExtractor(schema: OlapTableSchema, sink: string): (record: Record<string, unknown>) => unknown[] {
  const cols = schema.columns;
  return (record) => {
    const out = new Array<unknown>(cols.length);
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!;
      const v = record[c.name];
      if (v === null || v === undefined) {
        if (!c.nullable) throw new BadRecordError(`${sink}: key field '${c.name}' of table '${schema.table}' is ${v === null ? 'null' : 'missing'}`, describeRecord(record), c.name);
        out[i] = null;
        continue;
      }
      out[i] = convert(c, v, record, schema.table, sink);
    }
    return out;
  };
}

function convert(c: OlapColumn, v: unknown, record: unknown, table: string, sink: string): unknown {
  const bad = (expected: string): BadRecordError =>
    new BadRecordError(`${sink}: field '${c.name}' of table '${table}' is a ${c.type} column and takes ${expected}, got ${describeRecord(v, 60)}`, describeRecord(record), c.name);
  switch (c.type) {
    case 'BOOLEAN':
      if (typeof v !== 'boolean') throw bad('a boolean');
      return v;
    case 'INTEGER':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw bad('a 32-bit integer');
      return v;
    case 'BIGINT':
      if (typeof v === 'bigint') return v;
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad('a bigint or a safe integer number');
      return BigInt(v);
    case 'DOUBLE':
      if (typeof v !== 'number') throw bad('a number');
      return v;
    case 'VARCHAR':
      if (typeof v !== 'string') throw bad('a string');
      return v;
    case 'TIMESTAMP':
      if (v instanceof Date) return v;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('a Date or milliseconds since the epoch');
      return new Date(v);
    case 'DATE':
      if (v instanceof Date) return v.toISOString().slice(0, 10);
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw bad("a Date or a 'YYYY-MM-DD' string");
      return v;
    case 'BLOB':
      if (!(v instanceof Uint8Array)) throw bad('a Uint8Array');
      return v;
    case 'JSON':
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  }
}

/** About how many bytes a row of converted values holds (for the write buffer's byte limit). */
export function approximateRowBytes(values: readonly unknown[]): number {
  let n = 16;
  for (const v of values) {
    if (typeof v === 'string') n += 2 * v.length + 8;
    else if (v instanceof Uint8Array) n += v.byteLength + 8;
    else n += 8;
  }
  return n;
}
