/**
 * Load bodies of the loopback StarRocks test server: CSV and JSON (as Stream Load reads them) into
 * row changes for a table, with the `columns` header (`__op` as a column or `__op='delete'`), partial
 * updates, and rows that do not fit returned as filtered, with why (what ErrorURL serves).
 */
import type { CellValue, ColumnDef, LoadParams, Row, RowOp, TableDef } from './state.ts';

export class LoadError extends Error {
  constructor(
    message: string,
    readonly filtered: string[] = [],
  ) {
    super(message);
  }
}

/** Parses a load body into row changes; rows that do not fit the table are returned as filtered (with why). */
export function parseLoad(def: TableDef, body: string, params: LoadParams): { ops: RowOp[]; filtered: string[] } {
  const columnSpec = params.columns?.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  // `__op='delete'` / `__op='upsert'` in columns: one op for every row; a plain `__op` column: per row
  let fixedOp: RowOp['op'] | undefined;
  const fileColumns: string[] = [];
  for (const c of columnSpec ?? def.columns.map((c) => c.name)) {
    const m = /^`?__op`?\s*=\s*'?(\w+)'?$/.exec(c);
    if (m) {
      fixedOp = m[1] === 'delete' || m[1] === '1' ? 'delete' : 'upsert';
      continue;
    }
    fileColumns.push(c.replace(/`/g, ''));
  }
  const usesOp = fixedOp !== undefined || fileColumns.includes('__op');
  if (usesOp && def.primaryKey.length === 0) throw new LoadError(`only Primary Key tables support the __op column; ${def.db}.${def.table} is a Duplicate Key table`);
  if (params.partialUpdate && def.primaryKey.length === 0) throw new LoadError('partial_update is supported only for Primary Key tables');
  for (const c of fileColumns) if (c !== '__op' && !def.columns.some((d) => d.name === c)) throw new LoadError(`Unknown column '${c}' in table '${def.table}'`);
  const setColumns = fileColumns.filter((c) => c !== '__op');
  if (params.partialUpdate && columnSpec === undefined) throw new LoadError('partial_update needs the columns header to name the columns to update');
  for (const k of def.primaryKey) if (!setColumns.includes(k)) throw new LoadError(`the load must include the primary key column '${k}'`);

  const records: { values: Record<string, unknown>; text: string }[] = [];
  if (params.format === 'json') {
    const text = body.trim();
    let items: unknown[];
    if (params.stripOuterArray) {
      const parsed = JSON.parse(text) as unknown;
      if (!Array.isArray(parsed)) throw new LoadError('strip_outer_array is true but the JSON body is not an array');
      items = parsed;
    } else items = text.length === 0 ? [] : text.split('\n').filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as unknown);
    for (const item of items) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new LoadError('every JSON record must be an object');
      records.push({ values: item as Record<string, unknown>, text: JSON.stringify(item) });
    }
  } else {
    const sep = unescapeDelimiter(params.columnSeparator ?? '\t');
    const delim = unescapeDelimiter(params.rowDelimiter ?? '\n');
    const lines = body.split(delim);
    if (lines.at(-1) === '') lines.pop();
    else if (lines.length > 0) throw new LoadError('every CSV record must end with the row delimiter (the transaction interface requires it)');
    for (const line of lines) {
      const fields = line.split(sep);
      const values: Record<string, unknown> = {};
      fileColumns.forEach((c, i) => (values[c] = fields[i] === '\\N' ? null : fields[i]));
      if (fields.length !== fileColumns.length) values.__columnCount = fields.length;
      records.push({ values, text: line });
    }
  }
  const ops: RowOp[] = [];
  const filtered: string[] = [];
  for (const r of records) {
    if (r.values.__columnCount !== undefined) {
      filtered.push(`Reason: column count mismatch, expect=${fileColumns.length} real=${String(r.values.__columnCount)}. src line: [${r.text}]`);
      continue;
    }
    const row: Row = {};
    let bad: string | undefined;
    for (const c of setColumns) {
      const col = def.columns.find((d) => d.name === c)!;
      const v = convert(col, r.values[c], params.format);
      if (v === BAD) {
        bad = `Reason: the value of column '${c}' is not a ${col.type}. src line: [${r.text}]`;
        break;
      }
      row[c] = v;
    }
    if (bad === undefined) for (const k of def.primaryKey) if (row[k] === null) bad = `Reason: the primary key column '${k}' is NULL. src line: [${r.text}]`;
    if (bad !== undefined) {
      filtered.push(bad);
      continue;
    }
    let op: RowOp['op'] = fixedOp ?? 'upsert';
    if (fixedOp === undefined && fileColumns.includes('__op')) {
      const raw = r.values.__op;
      if (raw === 1 || raw === '1' || raw === 'delete') op = 'delete';
      else if (raw === 0 || raw === '0' || raw === 'upsert' || raw === undefined || raw === null) op = 'upsert';
      else {
        filtered.push(`Reason: __op must be 0 (upsert) or 1 (delete), got ${JSON.stringify(raw)}. src line: [${r.text}]`);
        continue;
      }
    }
    ops.push({ op, row, columns: params.partialUpdate ? setColumns : def.columns.map((c) => c.name) });
  }
  return { ops, filtered };
}

const BAD = Symbol('bad');

function convert(col: ColumnDef, v: unknown, format: 'csv' | 'json'): CellValue | typeof BAD {
  if (v === null || v === undefined) return null;
  switch (col.type) {
    case 'INT':
    case 'BIGINT': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
      return Number.isInteger(n) ? n : BAD;
    }
    case 'DOUBLE': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : BAD;
    }
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === '1' || v === 1) return true;
      if (v === 'false' || v === '0' || v === 0) return false;
      return BAD;
    case 'VARCHAR':
    case 'DATETIME':
      return typeof v === 'string' ? v : format === 'json' ? JSON.stringify(v) : String(v);
  }
}

function unescapeDelimiter(d: string): string {
  const hex = /^\\x([0-9a-fA-F]+)$/.exec(d);
  if (hex) return Buffer.from(hex[1]!, 'hex').toString('utf8');
  return d.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}
