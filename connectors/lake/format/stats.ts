/**
 * Column statistics of a data file (min, max, null count per column) as Paimon's SimpleStats:
 * serialized BinaryRows of the min and max values. Strings are truncated to 16 characters
 * (Paimon's default `truncate(16)` stats mode), the max rounded up so it stays an upper bound.
 * Nested columns get null min/max.
 */
import type { DataType } from '../schema/types.ts';
import { isAtomic } from '../schema/types.ts';
import { comparatorFor } from '../schema/values.ts';
import { encodeSerializedRow } from './binary-row.ts';
import type { SimpleStats } from './manifest.ts';

const TRUNCATE = 16;

function truncateMin(s: string): string {
  return s.length <= TRUNCATE ? s : s.slice(0, TRUNCATE);
}

function truncateMax(s: string): string | null {
  if (s.length <= TRUNCATE) return s;
  const cut = s.slice(0, TRUNCATE);
  // increment the last character that can be incremented
  for (let i = cut.length - 1; i >= 0; i--) {
    const c = cut.charCodeAt(i);
    if (c < 0xffff && !(c >= 0xd7ff && c < 0xe000)) return cut.slice(0, i) + String.fromCharCode(c + 1);
  }
  return null;
}

/** Stats of columns given as arrays of values (one array per column). */
export function computeStats(types: DataType[], columns: ArrayLike<unknown>[]): SimpleStats {
  const mins: unknown[] = [];
  const maxs: unknown[] = [];
  const nullCounts: number[] = [];
  for (let c = 0; c < types.length; c++) {
    const t = types[c]!;
    const col = columns[c]!;
    let nulls = 0;
    let min: unknown = null;
    let max: unknown = null;
    if (!isAtomic(t)) {
      for (let i = 0; i < col.length; i++) if (col[i] === null || col[i] === undefined) nulls++;
    } else {
      const cmp = comparatorFor(t);
      const primitive = t.root !== 'DECIMAL' && t.root !== 'CHAR' && t.root !== 'VARCHAR' && t.root !== 'BINARY' && t.root !== 'VARBINARY' && t.root !== 'BOOLEAN';
      if (primitive) {
        let lo: number | bigint | null = null;
        let hi: number | bigint | null = null;
        for (let i = 0; i < col.length; i++) {
          const v = col[i] as number | bigint | null | undefined;
          if (v === null || v === undefined) { nulls++; continue; }
          if (v !== v) continue; // NaN
          if (lo === null || v < lo) lo = v;
          if (hi === null || v > hi) hi = v;
        }
        mins.push(lo);
        maxs.push(hi);
        nullCounts.push(nulls);
        continue;
      }
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        if (v === null || v === undefined) { nulls++; continue; }
        if (typeof v === 'number' && Number.isNaN(v)) continue;
        if (min === null || cmp(v, min) < 0) min = v;
        if (max === null || cmp(v, max) > 0) max = v;
      }
      if (t.root === 'VARCHAR' || t.root === 'CHAR') {
        if (min !== null) min = truncateMin(min as string);
        if (max !== null) max = truncateMax(max as string);
      }
    }
    mins.push(min);
    maxs.push(max);
    nullCounts.push(nulls);
  }
  return {
    minValues: Buffer.from(encodeSerializedRow(types, mins)).toString('base64'),
    maxValues: Buffer.from(encodeSerializedRow(types, maxs)).toString('base64'),
    nullCounts,
  };
}

/** Stats with no columns (what a file with `_VALUE_STATS_COLS = []` carries). */
export function emptyStats(): SimpleStats {
  return { minValues: Buffer.from(encodeSerializedRow([], [])).toString('base64'), maxValues: Buffer.from(encodeSerializedRow([], [])).toString('base64'), nullCounts: [] };
}
