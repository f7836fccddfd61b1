/**
 * Flink CDC's table patterns (`tables: app_db.\.*, shop.order_[0-9]+`): a comma-separated list of
 * `db.table` regular expressions where the first unescaped `.` separates database and table and
 * `\.` stands for the regex `.` (any character), as in Flink CDC's MySQL pipeline connector.
 */
export interface TablePattern {
  /** The pattern as written. */
  text: string;
  database: RegExp;
  table: RegExp;
}

/** Splits a pattern list at commas outside brackets and braces (`[a,b]`, `{1,3}` stay whole). */
function splitList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') { cur += c + (text[i + 1] ?? ''); i++; continue; }
    if (c === '[' || c === '{' || c === '(') depth++;
    if ((c === ']' || c === '}' || c === ')') && depth > 0) depth--;
    if (c === ',' && depth === 0) { out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function regexPart(part: string): RegExp {
  return new RegExp(`^(?:${part.replace(/\\\./g, '.')})$`);
}

/** Parses one pattern; throws a plain Error with the reason (the caller adds line and key). */
export function parseTablePattern(text: string): TablePattern {
  let sep = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') { i++; continue; }
    if (text[i] === '.') { sep = i; break; }
  }
  if (sep <= 0 || sep === text.length - 1) throw new Error(`'${text}' is not db.table (write e.g. app_db.orders or app_db.\\.* for every table of app_db)`);
  try {
    return { text, database: regexPart(text.slice(0, sep)), table: regexPart(text.slice(sep + 1)) };
  } catch (e) {
    throw new Error(`'${text}' is not a valid regular expression: ${(e as Error).message}`);
  }
}

export function parseTablePatterns(text: string): TablePattern[] {
  const parts = splitList(text);
  if (parts.length === 0) throw new Error('names no table');
  return parts.map(parseTablePattern);
}

export function matchesTable(patterns: readonly TablePattern[], table: string): boolean {
  const dot = table.indexOf('.');
  const db = table.slice(0, dot);
  const t = table.slice(dot + 1);
  return patterns.some((p) => p.database.test(db) && p.table.test(t));
}

/** Whether a database can hold matching tables (to pick the databases the CDC source reads). */
export function matchesDatabase(patterns: readonly TablePattern[], db: string): boolean {
  return patterns.some((p) => p.database.test(db));
}
