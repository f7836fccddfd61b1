/**
 * DDL statements from the binlog's QUERY events as schema-change events: ALTER TABLE (ADD, DROP,
 * RENAME COLUMN, CHANGE, MODIFY), CREATE TABLE, TRUNCATE and DROP TABLE. Anything else (indexes,
 * options, RENAME TABLE, views) is not a change of the row shape and is passed over. A small
 * tokenizer, not a SQL grammar: it handles what MySQL and MariaDB write into the binlog.
 */
import type { CdcColumn, CdcTableSchema, SchemaChangeEvent } from './types.ts';

export interface ParsedDdl {
  table: string;
  changes: SchemaChangeEvent[];
  /** CREATE TABLE: the new table's shape. */
  created?: CdcTableSchema;
}

/** Splits at top-level commas (not inside parentheses or quotes). */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

function unquote(name: string): string {
  return name.replace(/^`|`$/g, '').replace(/``/g, '`');
}

const NAME = '(`(?:[^`]|``)+`|[A-Za-z0-9_$]+)';
const TABLE = `${NAME}(?:\\s*\\.\\s*${NAME})?`;

function tableName(defaultDb: string, a: string, b: string | undefined): string {
  return b === undefined ? `${defaultDb}.${unquote(a)}` : `${unquote(a)}.${unquote(b)}`;
}

/** `name type [UNSIGNED] [NULL|NOT NULL] ...` -> a column. */
export function parseColumnDefinition(def: string): CdcColumn & { primaryKey: boolean } {
  const m = new RegExp(`^${NAME}\\s+([A-Za-z]+(?:\\s*\\([^)]*\\))?(?:\\s+(?:unsigned|signed|zerofill))*)`, 'i').exec(def.trim());
  if (!m) throw new Error(`cannot read the column definition '${def}'`);
  const rest = def.slice(m[0].length);
  const type = m[2]!.replace(/\s+/g, ' ').replace(/\s*\(\s*/, '(').replace(/\s*,\s*/g, ',').toLowerCase();
  return { name: unquote(m[1]!), type, nullable: !/\bNOT\s+NULL\b/i.test(rest) && !/\bPRIMARY\s+KEY\b/i.test(rest), primaryKey: /\bPRIMARY\s+KEY\b/i.test(rest) };
}

function stripComments(sql: string): string {
  return sql.replace(/\/\*(?!!)[\s\S]*?\*\//g, ' ').replace(/\/\*!\d*\s*([\s\S]*?)\*\//g, ' $1 ').trim();
}

/** The schema changes of one statement; null if it changes no captured row shape. */
export function parseDdl(sqlIn: string, defaultDb: string): ParsedDdl | null {
  const sql = stripComments(sqlIn).replace(/;\s*$/, '');
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^TRUNCATE\\s+(?:TABLE\\s+)?${TABLE}\\s*$`, 'i').exec(sql))) {
    return { table: tableName(defaultDb, m[1]!, m[2]), changes: [{ type: 'truncate-table' }] };
  }
  if ((m = new RegExp(`^DROP\\s+(?:TEMPORARY\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?${TABLE}`, 'i').exec(sql))) {
    // DROP TABLE a, b is binlogged as one statement; the first table is reported (see README).
    return { table: tableName(defaultDb, m[1]!, m[2]), changes: [{ type: 'drop-table' }] };
  }
  if ((m = new RegExp(`^CREATE\\s+(?:OR\\s+REPLACE\\s+)?TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${TABLE}\\s*\\(`, 'i').exec(sql))) {
    const table = tableName(defaultDb, m[1]!, m[2]);
    const body = sql.slice(m[0].length, sql.lastIndexOf(')'));
    const columns: CdcColumn[] = [];
    let primaryKeys: string[] = [];
    for (const part of splitTopLevel(body)) {
      const pk = /^(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY\s*(?:USING\s+\w+\s*)?\(([^)]*)\)/i.exec(part);
      if (pk) primaryKeys = splitTopLevel(pk[1]!).map((k) => unquote(k.replace(/\(\d+\)$/, '').trim()));
      else if (/^(KEY|INDEX|UNIQUE|CONSTRAINT|FOREIGN|FULLTEXT|SPATIAL|CHECK|PERIOD)\b/i.test(part)) continue;
      else {
        const c = parseColumnDefinition(part);
        if (c.primaryKey) primaryKeys = [c.name];
        columns.push({ name: c.name, type: c.type, nullable: c.nullable });
      }
    }
    for (const c of columns) if (primaryKeys.includes(c.name)) c.nullable = false;
    return { table, changes: [{ type: 'create-table' }], created: { table, columns, primaryKeys } };
  }
  if ((m = new RegExp(`^ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE\\s+${TABLE}\\s+`, 'i').exec(sql))) {
    const table = tableName(defaultDb, m[1]!, m[2]);
    const changes: SchemaChangeEvent[] = [];
    for (const clause of splitTopLevel(sql.slice(m[0].length))) {
      let c: RegExpExecArray | null;
      if ((c = /^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?!INDEX\b|KEY\b|UNIQUE\b|PRIMARY\b|CONSTRAINT\b|FOREIGN\b|FULLTEXT\b|SPATIAL\b|PARTITION\b)([\s\S]+)$/i.exec(clause))) {
        let def = c[1]!.trim();
        if (def.startsWith('(')) continue; // ADD (a int, b int): rare; not handled
        let after: string | undefined;
        let first = false;
        const pos = new RegExp(`\\s+(?:FIRST|AFTER\\s+${NAME})\\s*$`, 'i').exec(def);
        if (pos) {
          if (/FIRST/i.test(pos[0])) first = true;
          else after = unquote(pos[1]!);
          def = def.slice(0, pos.index);
        }
        const col = parseColumnDefinition(def);
        const ev: SchemaChangeEvent = { type: 'add-column', column: { name: col.name, type: col.type, nullable: col.nullable } };
        if (after !== undefined) ev.after = after;
        if (first) ev.first = true;
        changes.push(ev);
      } else if ((c = new RegExp(`^DROP\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?(?!INDEX\\b|KEY\\b|PRIMARY\\b|FOREIGN\\b|CONSTRAINT\\b|PARTITION\\b|CHECK\\b)${NAME}\\s*(?:RESTRICT|CASCADE)?$`, 'i').exec(clause))) {
        changes.push({ type: 'drop-column', column: unquote(c[1]!) });
      } else if ((c = new RegExp(`^RENAME\\s+COLUMN\\s+(?:IF\\s+EXISTS\\s+)?${NAME}\\s+TO\\s+${NAME}$`, 'i').exec(clause))) {
        changes.push({ type: 'rename-column', from: unquote(c[1]!), to: unquote(c[2]!) });
      } else if ((c = new RegExp(`^CHANGE\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${NAME}\\s+([\\s\\S]+)$`, 'i').exec(clause))) {
        const col = parseColumnDefinition(c[2]!.replace(/\s+(?:FIRST|AFTER\s+\S+)\s*$/i, ''));
        const from = unquote(c[1]!);
        if (from !== col.name) changes.push({ type: 'rename-column', from, to: col.name });
        changes.push({ type: 'modify-column', column: { name: col.name, type: col.type, nullable: col.nullable } });
      } else if ((c = /^MODIFY\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?([\s\S]+)$/i.exec(clause))) {
        const col = parseColumnDefinition(c[1]!.replace(/\s+(?:FIRST|AFTER\s+\S+)\s*$/i, ''));
        changes.push({ type: 'modify-column', column: { name: col.name, type: col.type, nullable: col.nullable } });
      }
    }
    return changes.length > 0 ? { table, changes } : null;
  }
  return null;
}

/** The table's shape after one change. */
export function applySchemaChange(s: CdcTableSchema, change: SchemaChangeEvent): CdcTableSchema {
  const columns = [...s.columns];
  switch (change.type) {
    case 'add-column': {
      const at = change.first ? 0 : change.after !== undefined ? columns.findIndex((c) => c.name === change.after) + 1 : columns.length;
      columns.splice(at <= 0 && !change.first ? columns.length : at, 0, change.column);
      return { ...s, columns };
    }
    case 'drop-column':
      return { ...s, columns: columns.filter((c) => c.name !== change.column) };
    case 'rename-column':
      return {
        ...s,
        columns: columns.map((c) => (c.name === change.from ? { ...c, name: change.to } : c)),
        primaryKeys: s.primaryKeys.map((k) => (k === change.from ? change.to : k)),
      };
    case 'modify-column':
      return { ...s, columns: columns.map((c) => (c.name === change.column.name ? change.column : c)) };
    default:
      return s;
  }
}
