/**
 * Rows to Stream Load bodies. A record is a row (an upsert) or a changelog record `{kind, row}`:
 * +I and +U upsert (`__op` 0), -D deletes (`__op` 1), -U is skipped unless `ignoreUpdateBefore` is
 * false (then it deletes, which is right when an update may change the primary key). The Flink
 * connector does the same (`sink.ignore.update-before`, default true). For Duplicate Key tables
 * (`primaryKeyTable: false`) rows are appended and a -U/-D is a bad record.
 *
 *   json  one JSON array per load (`strip_outer_array: true`), keys named by `columns`
 *   csv   one line per row, fields in `columns` order, tab-separated, `\N` for null; a value that
 *         contains a tab or a newline cannot be sent as CSV (use json)
 */
import type { Change, RowKind } from '../../operators/changelog.ts';
import { BadRecordError, describeRecord } from '../../runtime/errors.ts';

export type LoadFormat = 'json' | 'csv';

export interface EncoderOptions {
  format: LoadFormat;
  columns: readonly string[];
  primaryKeyTable: boolean;
  partialUpdate: boolean;
  ignoreUpdateBefore: boolean;
}

const KINDS: ReadonlySet<string> = new Set<RowKind>(['+I', '-U', '+U', '-D']);

export function isChange(value: unknown): value is Change<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { kind?: unknown; row?: unknown };
  return typeof v.kind === 'string' && KINDS.has(v.kind) && typeof v.row === 'object' && v.row !== null && Object.keys(value).length === 2;
}

/** The columns of a record when the sink was not told them: the row's own keys, in order. */
export function columnsOf(record: unknown): string[] {
  const row = isChange(record) ? record.row : record;
  if (typeof row !== 'object' || row === null) throw new BadRecordError(`StarRocks sink: a record must be an object (a row) or a changelog record {kind, row}; got ${describeRecord(record)}`, describeRecord(record));
  return Object.keys(row).filter((k) => (row as Record<string, unknown>)[k] !== undefined);
}

export class RowEncoder {
  /** Headers of every load of this encoder (the transaction interface needs the same ones each time). */
  readonly headers: Record<string, string>;
  private readonly withOp: boolean;

  constructor(private readonly o: EncoderOptions) {
    this.withOp = o.primaryKeyTable;
    const columns = [...o.columns, ...(this.withOp ? ['__op'] : [])].join(',');
    this.headers = o.format === 'json' ? { format: 'json', strip_outer_array: 'true', columns } : { format: 'csv', column_separator: '\\t', row_delimiter: '\\n', columns };
    if (o.partialUpdate) this.headers.partial_update = 'true';
  }

  /** The encoded record (without separators), or undefined when it is skipped (-U). */
  encode(record: unknown): string | undefined {
    let row: Record<string, unknown>;
    let op = 0;
    if (isChange(record)) {
      if (record.kind === '-U' && this.o.ignoreUpdateBefore) return undefined;
      op = record.kind === '-D' || record.kind === '-U' ? 1 : 0;
      if (op === 1 && !this.o.primaryKeyTable) {
        throw new BadRecordError(`StarRocks sink: a ${record.kind} record cannot be applied to a Duplicate Key table (primaryKeyTable: false): only Primary Key tables take deletes; send inserts only or use a Primary Key table`, describeRecord(record));
      }
      row = record.row as Record<string, unknown>;
    } else if (typeof record === 'object' && record !== null) row = record as Record<string, unknown>;
    else throw new BadRecordError(`StarRocks sink: a record must be an object (a row) or a changelog record {kind, row}; got ${describeRecord(record)}`, describeRecord(record));
    if (this.o.format === 'json') {
      const out: Record<string, unknown> = {};
      for (const c of this.o.columns) out[c] = jsonValue(row[c]);
      if (this.withOp) out.__op = op;
      return JSON.stringify(out);
    }
    const fields = this.o.columns.map((c) => csvField(row, c));
    if (this.withOp) fields.push(String(op));
    return fields.join('\t');
  }

  /** One load body from encoded records. */
  body(encoded: readonly string[]): string {
    return this.o.format === 'json' ? `[${encoded.join(',')}]` : encoded.map((l) => `${l}\n`).join('');
  }
}

function jsonValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date) return dateTime(v);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

function csvField(row: Record<string, unknown>, column: string): string {
  const v = row[column];
  if (v === null || v === undefined) return '\\N';
  const text = v instanceof Date ? dateTime(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/[\t\n]/.test(text)) {
    throw new BadRecordError(`StarRocks sink: field '${column}' contains a tab or a newline, which CSV loads cannot carry; use format 'json'`, describeRecord(row), column);
  }
  return text;
}

/** StarRocks DATETIME text: 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC. */
function dateTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}
