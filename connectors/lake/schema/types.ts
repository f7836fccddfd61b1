/**
 * Paimon data types: the JSON/SQL spelling used in schema files, and the JS value each type takes
 * in Weir rows.
 *
 * JS values: boolean; tinyint/smallint/int -> number; bigint -> bigint; float/double -> number;
 * decimal -> string (plain decimal notation, e.g. "-12.30"); char/varchar/string -> string;
 * binary/varbinary/bytes -> Uint8Array; date -> number (days since 1970-01-01); time -> number
 * (millis of day); timestamp(p) / timestamp_ltz(p) -> bigint nanoseconds since the epoch (the writer
 * also takes a number of milliseconds or a Date); array -> JS array; map -> Map; row -> object keyed
 * by field name.
 */
import { LakeFormatError } from '../errors.ts';

export type AtomicTypeRoot =
  | 'BOOLEAN' | 'TINYINT' | 'SMALLINT' | 'INT' | 'BIGINT' | 'FLOAT' | 'DOUBLE'
  | 'DECIMAL' | 'CHAR' | 'VARCHAR' | 'BINARY' | 'VARBINARY' | 'DATE' | 'TIME'
  | 'TIMESTAMP' | 'TIMESTAMP_LTZ';

export interface AtomicType {
  root: AtomicTypeRoot;
  nullable: boolean;
  /** decimal precision, char/varchar/binary/varbinary length, time/timestamp precision */
  length?: number;
  scale?: number;
}
export interface ArrayType { root: 'ARRAY'; nullable: boolean; element: DataType }
export interface MapType { root: 'MAP'; nullable: boolean; key: DataType; value: DataType }
export interface RowType { root: 'ROW'; nullable: boolean; fields: DataField[] }
export type DataType = AtomicType | ArrayType | MapType | RowType;

export interface DataField {
  id: number;
  name: string;
  type: DataType;
  description?: string;
}

export const MAX_LENGTH = 2147483647;

/** JSON form of a type as it appears in a schema file: a SQL string, or an object for nested types. */
export type TypeJson = string | { type: string; element?: TypeJson; key?: TypeJson; value?: TypeJson; fields?: FieldJson[] };
export interface FieldJson { id: number; name: string; type: TypeJson; description?: string }

// ---------- constructors ----------

const atomic = (root: AtomicTypeRoot, length?: number, scale?: number, nullable = true): AtomicType =>
  length === undefined ? { root, nullable } : scale === undefined ? { root, nullable, length } : { root, nullable, length, scale };

export const T = {
  boolean: () => atomic('BOOLEAN'),
  tinyint: () => atomic('TINYINT'),
  smallint: () => atomic('SMALLINT'),
  int: () => atomic('INT'),
  bigint: () => atomic('BIGINT'),
  float: () => atomic('FLOAT'),
  double: () => atomic('DOUBLE'),
  decimal: (precision: number, scale: number) => atomic('DECIMAL', precision, scale),
  char: (length: number) => atomic('CHAR', length),
  varchar: (length: number) => atomic('VARCHAR', length),
  string: () => atomic('VARCHAR', MAX_LENGTH),
  binary: (length: number) => atomic('BINARY', length),
  varbinary: (length: number) => atomic('VARBINARY', length),
  bytes: () => atomic('VARBINARY', MAX_LENGTH),
  date: () => atomic('DATE'),
  time: (precision = 0) => atomic('TIME', precision),
  timestamp: (precision = 6) => atomic('TIMESTAMP', precision),
  timestampLtz: (precision = 6) => atomic('TIMESTAMP_LTZ', precision),
  array: (element: DataType): ArrayType => ({ root: 'ARRAY', nullable: true, element }),
  map: (key: DataType, value: DataType): MapType => ({ root: 'MAP', nullable: true, key, value }),
  row: (fields: DataField[]): RowType => ({ root: 'ROW', nullable: true, fields }),
  notNull: <D extends DataType>(t: D): D => ({ ...t, nullable: false }),
};

// ---------- serialization ----------

function atomicSql(t: AtomicType): string {
  switch (t.root) {
    case 'DECIMAL': return `DECIMAL(${t.length}, ${t.scale})`;
    case 'CHAR': return `CHAR(${t.length})`;
    case 'VARCHAR': return t.length === MAX_LENGTH ? 'STRING' : `VARCHAR(${t.length})`;
    case 'BINARY': return `BINARY(${t.length})`;
    case 'VARBINARY': return t.length === MAX_LENGTH ? 'BYTES' : `VARBINARY(${t.length})`;
    case 'TIME': return `TIME(${t.length})`;
    case 'TIMESTAMP': return `TIMESTAMP(${t.length})`;
    case 'TIMESTAMP_LTZ': return `TIMESTAMP(${t.length}) WITH LOCAL TIME ZONE`;
    default: return t.root;
  }
}

export function typeToJson(t: DataType): TypeJson {
  const nn = t.nullable ? '' : ' NOT NULL';
  switch (t.root) {
    case 'ARRAY': return { type: `ARRAY${nn}`, element: typeToJson(t.element) };
    case 'MAP': return { type: `MAP${nn}`, key: typeToJson(t.key), value: typeToJson(t.value) };
    case 'ROW': return { type: `ROW${nn}`, fields: t.fields.map(fieldToJson) };
    default: return atomicSql(t) + nn;
  }
}

export function fieldToJson(f: DataField): FieldJson {
  const out: FieldJson = { id: f.id, name: f.name, type: typeToJson(f.type) };
  if (f.description !== undefined) out.description = f.description;
  return out;
}

export function typeToString(t: DataType): string {
  const nn = t.nullable ? '' : ' NOT NULL';
  switch (t.root) {
    case 'ARRAY': return `ARRAY<${typeToString(t.element)}>${nn}`;
    case 'MAP': return `MAP<${typeToString(t.key)}, ${typeToString(t.value)}>${nn}`;
    case 'ROW': return `ROW<${t.fields.map((f) => `\`${f.name}\` ${typeToString(f.type)}`).join(', ')}>${nn}`;
    default: return atomicSql(t) + nn;
  }
}

// ---------- parsing ----------

export function fieldFromJson(j: FieldJson): DataField {
  const f: DataField = { id: j.id, name: j.name, type: typeFromJson(j.type) };
  if (j.description !== undefined && j.description !== null) f.description = j.description;
  return f;
}

export function typeFromJson(j: TypeJson): DataType {
  if (typeof j === 'string') return parseSqlType(j);
  const [word, nullable] = splitNotNull(j.type);
  switch (word) {
    case 'ARRAY': return { root: 'ARRAY', nullable, element: typeFromJson(need(j.element, j.type)) };
    case 'MULTISET': return { root: 'MAP', nullable, key: typeFromJson(need(j.element, j.type)), value: T.notNull(T.int()) };
    case 'MAP': return { root: 'MAP', nullable, key: typeFromJson(need(j.key, j.type)), value: typeFromJson(need(j.value, j.type)) };
    case 'ROW': return { root: 'ROW', nullable, fields: need(j.fields, j.type).map(fieldFromJson) };
    default: throw new LakeFormatError(`unknown nested type '${j.type}' in schema JSON; supported: ARRAY, MAP, MULTISET, ROW`);
  }
}

function need<V>(v: V | undefined, what: string): V {
  if (v === undefined) throw new LakeFormatError(`type '${what}' in schema JSON misses its element/key/value/fields`);
  return v;
}

function splitNotNull(s: string): [string, boolean] {
  const t = s.trim();
  if (/\s+NOT\s+NULL$/i.test(t)) return [t.replace(/\s+NOT\s+NULL$/i, '').trim().toUpperCase(), false];
  return [t.replace(/\s+NULL$/i, '').trim().toUpperCase(), true];
}

/** Parses an atomic SQL type string as Paimon writes it, e.g. `DECIMAL(23, 5) NOT NULL`, `STRING`. */
export function parseSqlType(text: string): DataType {
  const [s, nullable] = splitNotNull(text);
  const m = /^([A-Z_ ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?(\s+WITH\s+LOCAL\s+TIME\s+ZONE)?$/.exec(s);
  if (!m) {
    if (s.startsWith('ARRAY<') || s.startsWith('MAP<') || s.startsWith('ROW<')) return parseNestedSql(text);
    throw new LakeFormatError(`cannot parse data type '${text}'`);
  }
  const word = m[1]!.trim();
  const a = m[2] === undefined ? undefined : Number(m[2]);
  const b = m[3] === undefined ? undefined : Number(m[3]);
  const ltz = m[4] !== undefined;
  const mk = (root: AtomicTypeRoot, length?: number, scale?: number): AtomicType => atomic(root, length, scale, nullable);
  switch (word) {
    case 'BOOLEAN': return mk('BOOLEAN');
    case 'TINYINT': return mk('TINYINT');
    case 'SMALLINT': return mk('SMALLINT');
    case 'INT': case 'INTEGER': return mk('INT');
    case 'BIGINT': return mk('BIGINT');
    case 'FLOAT': return mk('FLOAT');
    case 'DOUBLE': case 'DOUBLE PRECISION': return mk('DOUBLE');
    case 'DECIMAL': case 'NUMERIC': case 'DEC': return mk('DECIMAL', a ?? 10, b ?? 0);
    case 'CHAR': return mk('CHAR', a ?? 1);
    case 'VARCHAR': return mk('VARCHAR', a ?? 1);
    case 'STRING': return mk('VARCHAR', MAX_LENGTH);
    case 'BINARY': return mk('BINARY', a ?? 1);
    case 'VARBINARY': return mk('VARBINARY', a ?? 1);
    case 'BYTES': return mk('VARBINARY', MAX_LENGTH);
    case 'DATE': return mk('DATE');
    case 'TIME': case 'TIME WITHOUT TIME ZONE': return mk('TIME', a ?? 0);
    case 'TIMESTAMP': case 'TIMESTAMP WITHOUT TIME ZONE': return mk(ltz ? 'TIMESTAMP_LTZ' : 'TIMESTAMP', a ?? 6);
    case 'TIMESTAMP_LTZ': case 'TIMESTAMP WITH LOCAL TIME ZONE': return mk('TIMESTAMP_LTZ', a ?? 6);
    case 'BLOB': throw new LakeFormatError(`the BLOB type ('${text}') is not supported by Weir; read this table with Java Paimon`);
    case 'VARIANT': throw new LakeFormatError(`the VARIANT type ('${text}') is not supported by Weir; read this table with Java Paimon`);
    default: throw new LakeFormatError(`unsupported data type '${text}'`);
  }
}

/** `ARRAY<INT>`, `MAP<STRING, INT>` and `ROW<a INT, b STRING>` as user-facing SQL (field ids from 0). */
function parseNestedSql(text: string): DataType {
  let pos = 0;
  const src = text.trim();
  let nextId = 0;
  const ws = () => { while (pos < src.length && /\s/.test(src[pos]!)) pos++; };
  const parseType = (): DataType => {
    ws();
    const start = pos;
    let depth = 0;
    // read up to the matching end of this type: top-level ',' or '>' ends it
    while (pos < src.length) {
      const c = src[pos]!;
      if (c === '<' || c === '(') depth++;
      else if (c === '>' || c === ')') { if (depth === 0) break; depth--; }
      else if (c === ',' && depth === 0) break;
      pos++;
    }
    const piece = src.slice(start, pos).trim();
    const head = /^(ARRAY|MAP|ROW)\s*</i.exec(piece);
    if (!head) return parseSqlType(piece);
    const inner = piece.slice(head[0].length, piece.lastIndexOf('>'));
    const tail = piece.slice(piece.lastIndexOf('>') + 1);
    const nullable = !/NOT\s+NULL/i.test(tail);
    const parts = splitTopLevel(inner);
    const kind = head[1]!.toUpperCase();
    if (kind === 'ARRAY') return { root: 'ARRAY', nullable, element: parseSqlType(parts[0]!) };
    if (kind === 'MAP') return { root: 'MAP', nullable, key: parseSqlType(parts[0]!), value: parseSqlType(parts[1]!) };
    return {
      root: 'ROW', nullable, fields: parts.map((p) => {
        const fm = /^\s*`?([^`\s]+)`?\s+(.*)$/s.exec(p);
        if (!fm) throw new LakeFormatError(`cannot parse row field '${p}' in '${text}'`);
        return { id: nextId++, name: fm[1]!, type: parseSqlType(fm[2]!) };
      }),
    };
  };
  return parseType();
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === ',' && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out.map((p) => p.trim()).filter((p) => p.length > 0);
}

// ---------- helpers ----------

export function isAtomic(t: DataType): t is AtomicType {
  return t.root !== 'ARRAY' && t.root !== 'MAP' && t.root !== 'ROW';
}

export function decimalIsCompact(precision: number): boolean {
  return precision <= 18;
}

export function timestampIsCompact(precision: number): boolean {
  return precision <= 3;
}

/** Highest field id used by these fields, nested row fields included. */
export function highestFieldId(fields: DataField[]): number {
  let max = -1;
  const visit = (t: DataType): void => {
    if (t.root === 'ROW') for (const f of t.fields) { max = Math.max(max, f.id); visit(f.type); }
    else if (t.root === 'ARRAY') visit(t.element);
    else if (t.root === 'MAP') { visit(t.key); visit(t.value); }
  };
  for (const f of fields) { max = Math.max(max, f.id); visit(f.type); }
  return max;
}
