/**
 * Schema changes in a lake sink's input (from a CDC source): a record `{ kind: 'schema',
 * lakeSchemaChanges }` among the rows. The router that receives it alters the table (the lake's
 * own SchemaManager.alter, schema/schema.ts) and re-reads it, then sends a marker to every writer;
 * a writer that gets the marker writes what it buffered under the old schema (files keep their
 * schema id; readers evolve them to the latest schema) and re-opens the table, so the rows after
 * the change are written with the new columns. Changes are applied idempotently: after a restore
 * the record comes again, and a change the table already has is skipped.
 */
import type { SchemaChange, TableSchema } from '../schema/schema.ts';
import { ConfigError } from '../errors.ts';
import type { BucketedRow } from './records.ts';

/** A schema change for the lake sink, in order with the rows. */
export interface LakeSchemaChange {
  kind: 'schema';
  lakeSchemaChanges: SchemaChange[];
  /** Go on without a change the table cannot take (e.g. a type change) instead of failing. */
  tolerateFailure?: boolean;
}

/** `__kind` of the marker a router sends each writer after a schema change. */
export const SCHEMA_MARKER_KIND = 255;

export function isLakeSchemaChange(v: unknown): v is LakeSchemaChange {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'schema' && Array.isArray((v as { lakeSchemaChanges?: unknown }).lakeSchemaChanges);
}

/** The changes `schema` does not have yet (a repeated record after a restore changes nothing). */
export function pendingChanges(schema: TableSchema, changes: readonly SchemaChange[]): SchemaChange[] {
  const names = new Set(schema.fields.map((f) => f.name));
  const out: SchemaChange[] = [];
  for (const c of changes) {
    if (c.kind === 'addColumn' && names.has(c.name)) continue;
    if (c.kind === 'dropColumn' && !names.has(c.name)) continue;
    if (c.kind === 'renameColumn' && (!names.has(c.from) || names.has(c.to))) continue;
    out.push(c);
    if (c.kind === 'addColumn') names.add(c.name);
    if (c.kind === 'dropColumn') names.delete(c.name);
    if (c.kind === 'renameColumn') {
      names.delete(c.from);
      names.add(c.to);
    }
  }
  return out;
}

/**
 * One marker per writer (bucket w goes to writer w, see the sink's keyBy), naming the schema the
 * rows after it are built for. A writer opens the table at that schema, not the latest: the router
 * may have altered the table again before the writer gets to the marker, and rows built for one
 * schema read with another lose the values of renamed fields.
 */
export function schemaMarkers(writers: number, schemaId: number): BucketedRow[] {
  return Array.from({ length: writers }, (_, w) => ({ __bucket: w, __kind: SCHEMA_MARKER_KIND, [SCHEMA_MARKER_ID]: schemaId }));
}

/** The field of a schema marker that holds its schema id. */
export const SCHEMA_MARKER_ID = '__schema';

export function checkApplicable(path: string, change: LakeSchemaChange, error: unknown): void {
  if (change.tolerateFailure) return;
  throw new ConfigError('schema', `the lake table ${path} cannot take the schema change ${JSON.stringify(change.lakeSchemaChanges)}: ${(error as Error).message}; use schemaChanges 'try_evolve' or 'lenient' at the source to go on without it`);
}
