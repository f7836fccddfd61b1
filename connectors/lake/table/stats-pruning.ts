/**
 * File pruning by statistics: a data file whose min/max/null counts prove that no row can match the
 * filter is not read. Append tables use every column's value stats. Primary-key tables use only the
 * key stats for conditions on key fields: every version of a key is in files whose key range holds
 * it, so skipping a file by key never hides a newer version of a row; skipping by a value column
 * could (an older file's row does not match, a newer file's row of the same key does), so value
 * conditions are applied after the merge. Stats of a file written under another schema, or with a
 * column subset (`valueStatsCols`), are matched by field name and ignored where they do not fit.
 */
import type { ManifestEntry, SimpleStats } from '../format/manifest.ts';
import { decodeSerializedRow } from '../format/binary-row.ts';
import type { DataType } from '../schema/types.ts';
import { comparatorFor, normalizeValue } from '../schema/values.ts';
import { fieldIndex } from '../schema/schema.ts';
import type { Condition } from './read.ts';
import type { FileStoreTable } from './table.ts';

interface ColumnStats {
  min: unknown;
  max: unknown;
  nulls: number | null;
}

/** Per condition: the stats column it tests, or -1 when the stats cannot decide it. */
export class StatsPruner {
  private readonly conditions: Array<{ c: Condition; type: DataType; field: string; cmp: (a: unknown, b: unknown) => number }>;

  constructor(private readonly table: FileStoreTable, filter: Condition[]) {
    const usable = table.primaryKey ? new Set(table.keyIndexes.map((i) => table.schema.fields[i]!.name)) : null;
    this.conditions = filter
      .filter((c) => usable === null || usable.has(c.field))
      .map((c) => {
        const type = table.schema.fields[fieldIndex(table.schema, c.field)]!.type;
        const norm = (x: unknown): unknown => normalizeValue({ ...type, nullable: true }, x, c.field);
        const value = c.op === 'in' ? (c.value as unknown[]).map(norm) : c.value === undefined ? undefined : norm(c.value);
        return { c: { ...c, value }, type, field: c.field, cmp: comparatorFor(type) };
      });
  }

  get active(): boolean {
    return this.conditions.length > 0;
  }

  /** False when the file's stats prove no row matches; true when it may. */
  mayMatch(e: ManifestEntry): boolean {
    if (this.conditions.length === 0) return true;
    const stats = this.statsOf(e);
    if (!stats) return true;
    for (const { c, field, cmp } of this.conditions) {
      const s = stats.get(field);
      if (s && !conditionMayMatch(c, s, cmp, e.file.rowCount)) return false;
    }
    return true;
  }

  /** Stats by field name for the fields this file's stats cover (only when the file has the table's schema). */
  private statsOf(e: ManifestEntry): Map<string, ColumnStats> | null {
    const t = this.table;
    if (e.file.schemaId !== t.schema.id) return null; // older schema: types may have changed
    let names: string[];
    let types: DataType[];
    let stats: SimpleStats;
    if (t.primaryKey) {
      names = t.keyIndexes.map((i) => t.schema.fields[i]!.name);
      types = t.keyTypes;
      stats = e.file.keyStats;
    } else {
      names = e.file.valueStatsCols ?? t.schema.fields.map((f) => f.name);
      const byName = new Map(t.schema.fields.map((f) => [f.name, f.type]));
      if (names.some((n) => !byName.has(n))) return null;
      types = names.map((n) => byName.get(n)!);
      stats = e.file.valueStats;
    }
    let mins: unknown[];
    let maxs: unknown[];
    try {
      mins = decodeSerializedRow(types, Buffer.from(stats.minValues, 'base64'));
      maxs = decodeSerializedRow(types, Buffer.from(stats.maxValues, 'base64'));
    } catch {
      return null; // stats we cannot decode: read the file
    }
    const out = new Map<string, ColumnStats>();
    names.forEach((n, i) => out.set(n, { min: mins[i] ?? null, max: maxs[i] ?? null, nulls: stats.nullCounts?.[i] ?? null }));
    return out;
  }
}

function conditionMayMatch(c: Condition, s: ColumnStats, cmp: (a: unknown, b: unknown) => number, rows: number): boolean {
  const allNull = s.nulls !== null && s.nulls >= rows;
  switch (c.op) {
    case 'isNull': return s.nulls === null || s.nulls > 0;
    case 'isNotNull': return !allNull;
    default: break;
  }
  if (allNull) return false;
  // no bound known (not computed, or a truncated string max that could not be incremented): keep
  const lo = s.min;
  const hi = s.max;
  const geLo = (v: unknown): boolean => lo === null || cmp(v, lo) >= 0;
  const leHi = (v: unknown): boolean => hi === null || cmp(v, hi) <= 0;
  switch (c.op) {
    case '=': return geLo(c.value) && leHi(c.value);
    case 'in': return (c.value as unknown[]).some((v) => geLo(v) && leHi(v));
    case '!=': return !(lo !== null && hi !== null && cmp(lo, hi) === 0 && cmp(lo, c.value) === 0);
    case '<': return lo === null || cmp(lo, c.value) < 0;
    case '<=': return lo === null || cmp(lo, c.value) <= 0;
    case '>': return hi === null || cmp(hi, c.value) > 0;
    case '>=': return hi === null || cmp(hi, c.value) >= 0;
  }
}
