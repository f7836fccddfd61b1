/**
 * A table schema as Paimon stores it in `schema/schema-N` (JSON, version 3): fields with ids,
 * partition keys, primary keys and table options.
 */
import { ConfigError, LakeFormatError } from '../errors.ts';
import { castFor } from './casts.ts';
import {
  type DataField, type DataType, type FieldJson, fieldFromJson, fieldToJson, highestFieldId,
} from './types.ts';

export interface TableSchema {
  version: number;
  id: number;
  fields: DataField[];
  highestFieldId: number;
  partitionKeys: string[];
  primaryKeys: string[];
  options: Record<string, string>;
  comment?: string;
  timeMillis: number;
}

/** What a caller gives to create a table: field ids are assigned in order from 0 when missing. */
export interface SchemaDefinition {
  fields: Array<{ name: string; type: DataType; id?: number; description?: string }>;
  partitionKeys?: string[];
  primaryKeys?: string[];
  options?: Record<string, string>;
  comment?: string;
}

interface SchemaJson {
  version?: number;
  id: number;
  fields: FieldJson[];
  highestFieldId: number;
  partitionKeys: string[];
  primaryKeys: string[];
  options: Record<string, string>;
  comment?: string | null;
  timeMillis?: number;
}

export function newSchema(def: SchemaDefinition, id = 0): TableSchema {
  let next = 0;
  const fields: DataField[] = def.fields.map((f) => {
    const out: DataField = { id: f.id ?? next, name: f.name, type: f.type };
    if (f.description !== undefined) out.description = f.description;
    next = Math.max(next, out.id + 1);
    return out;
  });
  const primaryKeys = def.primaryKeys ?? [];
  const partitionKeys = def.partitionKeys ?? [];
  const names = new Set(fields.map((f) => f.name));
  if (names.size !== fields.length) throw new ConfigError('fields', 'two fields have the same name; rename one');
  for (const k of [...primaryKeys, ...partitionKeys]) {
    if (!names.has(k)) throw new ConfigError('primaryKeys/partitionKeys', `'${k}' is not a field of the table; fields are ${[...names].join(', ')}`);
  }
  if (primaryKeys.length > 0) {
    for (const p of partitionKeys) {
      if (!primaryKeys.includes(p)) throw new ConfigError('partitionKeys', `partition key '${p}' must be part of the primary key (${primaryKeys.join(', ')}) in a primary-key table`);
    }
    // primary key fields are NOT NULL, as Paimon makes them
    for (const f of fields) if (primaryKeys.includes(f.name)) f.type = { ...f.type, nullable: false };
  }
  const schema: TableSchema = {
    version: 3,
    id,
    fields,
    highestFieldId: highestFieldId(fields),
    partitionKeys,
    primaryKeys,
    options: { ...(def.options ?? {}) },
    timeMillis: Date.now(),
  };
  if (def.comment !== undefined) schema.comment = def.comment;
  return schema;
}

export function schemaToJson(s: TableSchema): string {
  const out: Record<string, unknown> = {
    version: s.version,
    id: s.id,
    fields: s.fields.map(fieldToJson),
    highestFieldId: s.highestFieldId,
    partitionKeys: s.partitionKeys,
    primaryKeys: s.primaryKeys,
    options: s.options,
  };
  if (s.comment !== undefined) out.comment = s.comment;
  out.timeMillis = s.timeMillis;
  return JSON.stringify(out, null, 2);
}

export function schemaFromJson(text: string, where: string): TableSchema {
  let j: SchemaJson;
  try {
    j = JSON.parse(text) as SchemaJson;
  } catch (e) {
    throw new LakeFormatError(`schema file ${where} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const s: TableSchema = {
    version: j.version ?? 1,
    id: j.id,
    fields: j.fields.map(fieldFromJson),
    highestFieldId: j.highestFieldId,
    partitionKeys: j.partitionKeys ?? [],
    primaryKeys: j.primaryKeys ?? [],
    options: j.options ?? {},
    timeMillis: j.timeMillis ?? 0,
  };
  if (j.comment !== undefined && j.comment !== null) s.comment = j.comment;
  return s;
}

export function fieldIndex(s: TableSchema, name: string): number {
  const i = s.fields.findIndex((f) => f.name === name);
  if (i < 0) throw new ConfigError(name, `no field '${name}' in the table; fields are ${s.fields.map((f) => f.name).join(', ')}`);
  return i;
}

/** Primary key without the partition keys: the key stored in data files (`_KEY_*`) and manifests. */
export function trimmedPrimaryKeys(s: TableSchema): string[] {
  return s.primaryKeys.filter((k) => !s.partitionKeys.includes(k));
}

/** Bucket key: option `bucket-key`, else the trimmed primary key, else (append tables) all fields. */
export function bucketKeys(s: TableSchema): string[] {
  const opt = s.options['bucket-key'];
  if (opt) return opt.split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (s.primaryKeys.length > 0) return trimmedPrimaryKeys(s);
  return s.fields.map((f) => f.name).filter((n) => !s.partitionKeys.includes(n));
}

// ---------- schema changes ----------

export type SchemaChange =
  | { kind: 'setOption'; key: string; value: string }
  | { kind: 'removeOption'; key: string }
  | { kind: 'addColumn'; name: string; type: DataType; description?: string }
  | { kind: 'dropColumn'; name: string }
  | { kind: 'renameColumn'; from: string; to: string }
  /** Change a column's type; old files are cast on read (schema/casts.ts), so the cast must exist. */
  | { kind: 'updateColumnType'; name: string; type: DataType }
  | { kind: 'updateComment'; comment: string | undefined };

export function applySchemaChanges(old: TableSchema, changes: SchemaChange[]): TableSchema {
  const s: TableSchema = { ...old, id: old.id + 1, fields: old.fields.map((f) => ({ ...f })), options: { ...old.options }, timeMillis: Date.now() };
  let highest = old.highestFieldId;
  for (const c of changes) {
    switch (c.kind) {
      case 'setOption':
        if (c.key === 'bucket' && old.options.bucket !== undefined && old.options.bucket !== c.value) {
          throw new ConfigError('bucket', 'changing the bucket count needs a rescale of the data; create a new table and copy the data');
        }
        s.options[c.key] = c.value;
        break;
      case 'removeOption':
        delete s.options[c.key];
        break;
      case 'addColumn': {
        if (s.fields.some((f) => f.name === c.name)) throw new ConfigError(c.name, `column '${c.name}' exists already`);
        if (!c.type.nullable) throw new ConfigError(c.name, 'an added column must be nullable (old rows have no value for it)');
        highest += 1;
        const f: DataField = { id: highest, name: c.name, type: c.type };
        if (c.description !== undefined) f.description = c.description;
        s.fields.push(f);
        break;
      }
      case 'dropColumn':
        if (s.primaryKeys.includes(c.name) || s.partitionKeys.includes(c.name)) throw new ConfigError(c.name, 'primary key and partition columns cannot be dropped');
        fieldIndex(s, c.name);
        s.fields = s.fields.filter((f) => f.name !== c.name);
        break;
      case 'renameColumn': {
        if (s.primaryKeys.includes(c.from) || s.partitionKeys.includes(c.from)) throw new ConfigError(c.from, 'primary key and partition columns cannot be renamed');
        const f = s.fields[fieldIndex(s, c.from)]!;
        f.name = c.to;
        break;
      }
      case 'updateColumnType': {
        if (s.primaryKeys.includes(c.name) || s.partitionKeys.includes(c.name)) throw new ConfigError(c.name, 'the type of a primary key or partition column cannot be changed');
        const f = s.fields[fieldIndex(s, c.name)]!;
        castFor(f.type, c.type, c.name); // throws a ConfigError naming the column when Paimon has no such cast
        f.type = c.type;
        break;
      }
      case 'updateComment':
        if (c.comment === undefined) delete s.comment;
        else s.comment = c.comment;
        break;
    }
  }
  s.highestFieldId = Math.max(highest, highestFieldId(s.fields));
  return s;
}
