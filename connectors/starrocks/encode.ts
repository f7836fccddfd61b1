/**
 * Folded batches (connectors/olap/changes.ts: one row per key, last change wins, -U dropped) to
 * Stream Load bodies and headers. A Primary Key table gets `__op` per row (0 upsert, 1 delete); a
 * table without a key gets plain rows.
 *
 *   json  one JSON array per load (`strip_outer_array: true`), keys named by `columns`
 *   csv   one line per row, fields in `columns` order, tab-separated, `\N` for null; a value that
 *         contains a tab or a newline cannot be sent as CSV (use json)
 *
 * Values: BIGINT as JSON numbers (digits, no precision lost in the text), TIMESTAMP as
 * 'YYYY-MM-DD HH:MM:SS.mmm' (UTC), DATE as 'YYYY-MM-DD', BLOB as base64, JSON as its text.
 */
import { BadRecordError } from '../../runtime/errors.ts';
import type { FoldedBatch } from '../olap/changes.ts';
import type { OlapTableSchema } from '../olap/schema.ts';

export type LoadFormat = 'json' | 'csv';

/** The load headers of a table schema (the transaction interface needs the same ones for every load of a transaction). */
export function loadHeaders(schema: OlapTableSchema, format: LoadFormat, partialUpdate: boolean): Record<string, string> {
  const columns = [...schema.columns.map((c) => c.name), ...(schema.primaryKey.length > 0 ? ['__op'] : [])].join(',');
  const headers: Record<string, string> = format === 'json' ? { format: 'json', strip_outer_array: 'true', columns } : { format: 'csv', column_separator: '\\t', row_delimiter: '\\n', columns };
  if (partialUpdate) headers.partial_update = 'true';
  return headers;
}

export function encodeBatch(batch: FoldedBatch, format: LoadFormat, sink: string): string {
  const names = batch.schema.columns.map((c) => c.name);
  const withOp = batch.schema.primaryKey.length > 0;
  const parts: string[] = [];
  if (format === 'json') {
    const keys = names.map((n) => `${JSON.stringify(n)}:`);
    for (let r = 0; r < batch.rows.length; r++) {
      const row = batch.rows[r]!;
      let s = '{';
      for (let i = 0; i < row.length; i++) s += `${i > 0 ? ',' : ''}${keys[i]}${jsonValue(row[i])}`;
      if (withOp) s += `,"__op":${batch.deleted[r]}`;
      parts.push(`${s}}`);
    }
    return `[${parts.join(',')}]`;
  }
  for (let r = 0; r < batch.rows.length; r++) {
    const row = batch.rows[r]!;
    const fields = row.map((v, i) => csvField(v, names[i]!, batch.schema.table, sink));
    if (withOp) fields.push(String(batch.deleted[r]));
    parts.push(`${fields.join('\t')}\n`);
  }
  return parts.join('');
}

function text(v: unknown): string {
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return String(v);
}

function jsonValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(typeof v === 'string' ? v : text(v));
}

function csvField(v: unknown, column: string, table: string, sink: string): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : text(v);
  if (s.includes('\t') || s.includes('\n')) {
    throw new BadRecordError(`${sink}: field '${column}' of table '${table}' contains a tab or a newline, which CSV loads cannot carry; use format 'json'`, s.slice(0, 200), column);
  }
  return s;
}
