/**
 * Merge engines of primary-key tables: how the records of one key (in sequence order) become one.
 * Used when reading (merge-on-read), when compacting, and to collapse a write buffer before a flush.
 */
import { ConfigError, BadRecordError } from '../errors.ts';
import type { TableSchema } from '../schema/schema.ts';
import type { DataType } from '../schema/types.ts';
import { comparatorFor, decimalToUnscaled, unscaledToDecimal } from '../schema/values.ts';
import type { TableOptions } from './options.ts';

export const INSERT = 0;
export const UPDATE_BEFORE = 1;
export const UPDATE_AFTER = 2;
export const DELETE = 3;
export type RowKind = 0 | 1 | 2 | 3;

export const ROW_KIND_NAMES = ['+I', '-U', '+U', '-D'] as const;

export function isRetract(kind: number): boolean {
  return kind === UPDATE_BEFORE || kind === DELETE;
}

export interface MergeResult {
  row: unknown[];
  kind: number;
}

/** Folds the records of one key, oldest first. */
export interface MergeFunction {
  reset(): void;
  add(row: unknown[], kind: number): void;
  /** The merged record, or null if nothing remains. Its kind may be a retraction (dedup of a delete). */
  result(): MergeResult | null;
}

class Deduplicate implements MergeFunction {
  private last: MergeResult | null = null;
  reset(): void { this.last = null; }
  add(row: unknown[], kind: number): void { this.last = { row, kind }; }
  result(): MergeResult | null { return this.last; }
}

class FirstRow implements MergeFunction {
  private first: MergeResult | null = null;
  reset(): void { this.first = null; }
  add(row: unknown[], kind: number): void {
    if (isRetract(kind)) return; // first-row keeps the first insert; retractions do not apply
    if (this.first === null) this.first = { row, kind: INSERT };
  }
  result(): MergeResult | null { return this.first; }
}

class PartialUpdate implements MergeFunction {
  private acc: unknown[] | null = null;
  constructor(private readonly arity: number, private readonly ignoreDelete: boolean, private readonly removeOnDelete: boolean) {}
  reset(): void { this.acc = null; }
  add(row: unknown[], kind: number): void {
    if (isRetract(kind)) {
      if (this.ignoreDelete) return;
      if (this.removeOnDelete && kind === DELETE) { this.acc = null; return; }
      throw new BadRecordError(
        "partial-update table got a retraction (-U/-D); set 'ignore-delete' = 'true' to drop them, or 'partial-update.remove-record-on-delete' = 'true'",
        JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      );
    }
    if (this.acc === null) { this.acc = row.slice(); return; }
    for (let i = 0; i < this.arity; i++) if (row[i] !== null && row[i] !== undefined) this.acc[i] = row[i];
  }
  result(): MergeResult | null { return this.acc === null ? null : { row: this.acc, kind: INSERT }; }
}

// ---------- aggregation ----------

type AggFn = (acc: unknown, v: unknown) => unknown;

interface FieldAgg {
  agg: AggFn;
  retract: AggFn | null;
  /** first_value: set once */
  name: string;
}

function numericAdd(t: DataType, sign: 1 | -1): AggFn {
  switch (t.root) {
    case 'BIGINT': return (a, v) => (v === null ? a : a === null ? (sign === 1 ? v : -(v as bigint)) : (a as bigint) + BigInt(sign) * (v as bigint));
    case 'DECIMAL': {
      const s = t.scale ?? 0;
      return (a, v) => (v === null ? a : unscaledToDecimal((a === null ? 0n : decimalToUnscaled(a, s)) + BigInt(sign) * decimalToUnscaled(v, s), s));
    }
    case 'TINYINT': case 'SMALLINT': case 'INT': case 'FLOAT': case 'DOUBLE':
      return (a, v) => (v === null ? a : a === null ? sign * (v as number) : (a as number) + sign * (v as number));
    default: throw new ConfigError('aggregate-function', `sum is not defined for ${t.root}`);
  }
}

function fieldAgg(name: string, field: string, t: DataType, opts: Record<string, string>): FieldAgg {
  const cmp = comparatorFor(t);
  const ignoreRetract = (opts['ignore-retract'] ?? 'false') === 'true';
  const noRetract = (what: string): AggFn => (a, v) => {
    if (ignoreRetract || v === null) return a;
    throw new BadRecordError(`aggregate function '${what}' of field '${field}' cannot retract (-U/-D); set 'fields.${field}.ignore-retract' = 'true'`, '', field);
  };
  switch (name) {
    case 'sum': return { name, agg: numericAdd(t, 1), retract: ignoreRetract ? (a) => a : numericAdd(t, -1) };
    case 'count': {
      const add = (a: unknown, v: unknown, d: number): unknown => {
        if (v === null) return a;
        if (t.root === 'BIGINT') return (a === null ? 0n : (a as bigint)) + BigInt(d);
        return (a === null ? 0 : (a as number)) + d;
      };
      return { name, agg: (a, v) => add(a, v, 1), retract: ignoreRetract ? (a) => a : (a, v) => add(a, v, -1) };
    }
    case 'max': return { name, agg: (a, v) => (v === null ? a : a === null || cmp(v, a) > 0 ? v : a), retract: noRetract(name) };
    case 'min': return { name, agg: (a, v) => (v === null ? a : a === null || cmp(v, a) < 0 ? v : a), retract: noRetract(name) };
    case 'last_value': return { name, agg: (_a, v) => v, retract: ignoreRetract ? (a) => a : () => null };
    case 'last_non_null_value': return { name, agg: (a, v) => (v === null ? a : v), retract: ignoreRetract ? (a) => a : (a, v) => (v === null ? a : null) };
    case 'first_value': return { name, agg: (a) => a, retract: noRetract(name) };
    case 'first_non_null_value': return { name, agg: (a, v) => (a === null ? v : a), retract: noRetract(name) };
    case 'listagg': {
      const delim = opts['list-agg-delimiter'] ?? ',';
      return { name, agg: (a, v) => (v === null ? a : a === null ? v : `${a as string}${delim}${v as string}`), retract: noRetract(name) };
    }
    case 'bool_and': return { name, agg: (a, v) => (v === null ? a : a === null ? v : (a as boolean) && (v as boolean)), retract: noRetract(name) };
    case 'bool_or': return { name, agg: (a, v) => (v === null ? a : a === null ? v : (a as boolean) || (v as boolean)), retract: noRetract(name) };
    case 'product': return {
      name,
      agg: (a, v) => (v === null ? a : a === null ? v : typeof v === 'bigint' ? (a as bigint) * v : (a as number) * (v as number)),
      retract: noRetract(name),
    };
    default:
      throw new ConfigError(`fields.${field}.aggregate-function`, `'${name}' is not supported; use sum, count, max, min, product, last_value, last_non_null_value, first_value, first_non_null_value, listagg, bool_and or bool_or`);
  }
}

class Aggregation implements MergeFunction {
  private acc: unknown[] | null = null;
  private seen = false;
  constructor(private readonly aggs: Array<FieldAgg | null>, private readonly ignoreDelete: boolean, private readonly removeOnDelete: boolean) {}
  reset(): void { this.acc = null; this.seen = false; }
  add(row: unknown[], kind: number): void {
    if (isRetract(kind) && this.ignoreDelete) return;
    if (kind === DELETE && this.removeOnDelete) { this.acc = null; this.seen = false; return; }
    if (this.acc === null) {
      this.acc = new Array<unknown>(row.length).fill(null);
    }
    const acc = this.acc;
    const retract = isRetract(kind);
    for (let i = 0; i < row.length; i++) {
      const a = this.aggs[i];
      const v = row[i] ?? null;
      if (!a) { acc[i] = v; continue; } // key fields
      if (a.name === 'first_value') {
        if (!retract && !this.seen) acc[i] = v;
        continue;
      }
      acc[i] = retract ? a.retract!(acc[i] ?? null, v) : a.agg(acc[i] ?? null, v);
    }
    if (!retract) this.seen = true;
  }
  result(): MergeResult | null { return this.acc === null ? null : { row: this.acc, kind: INSERT }; }
}

/** The merge function a table's options ask for. */
export function createMergeFunction(schema: TableSchema, options: TableOptions): MergeFunction {
  switch (options.mergeEngine) {
    case 'deduplicate': return new Deduplicate();
    case 'first-row': return new FirstRow();
    case 'partial-update':
      return new PartialUpdate(schema.fields.length, options.ignoreDelete, (schema.options['partial-update.remove-record-on-delete'] ?? 'false') === 'true');
    case 'aggregation': {
      const dflt = schema.options['fields.default-aggregate-function'] ?? 'last_non_null_value';
      const aggs = schema.fields.map((f) => {
        if (schema.primaryKeys.includes(f.name)) return null;
        const opts = options.fieldOptions.get(f.name) ?? {};
        return fieldAgg(opts['aggregate-function'] ?? dflt, f.name, f.type, opts);
      });
      return new Aggregation(aggs, options.ignoreDelete, (schema.options['aggregation.remove-record-on-delete'] ?? 'false') === 'true');
    }
  }
}
