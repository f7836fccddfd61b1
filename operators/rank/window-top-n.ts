/**
 * Top-N per key and window, emitted when the window fires: an AggregateFunction whose accumulator
 * is the best N records seen so far, sorted. It merges (so it runs on sliding panes and session
 * windows) and is used through `WindowedStream.topN`, which emits one record per rank.
 */
import type { AggregateFunction } from '../../state/descriptors.ts';

export interface Ranked<T> {
  /** 1 for the best. */
  rank: number;
  row: T;
}

export interface WindowRanked<K, T> extends Ranked<T> {
  key: K;
  windowStart: number;
  windowEnd: number;
}

/** Inserts `row` into the sorted `top` (best first, at most n), returning a new array, or `top` itself when the row does not make it. */
export function insertTopN<T>(top: readonly T[], row: T, n: number, compare: (a: T, b: T) => number): readonly T[] {
  if (top.length >= n && compare(row, top[top.length - 1]!) >= 0) return top;
  // Ties keep the earlier row first.
  let lo = 0;
  let hi = top.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(top[mid]!, row) <= 0) lo = mid + 1;
    else hi = mid;
  }
  const next = top.slice(0, Math.min(top.length, n));
  next.splice(lo, 0, row);
  if (next.length > n) next.length = n;
  return next;
}

/** `compare(a, b) < 0` when a ranks before b (e.g. `(a, b) => b.revenue - a.revenue` for highest first). */
export function topNAggregate<T>(n: number, compare: (a: T, b: T) => number): AggregateFunction<T, T[], T[]> {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`top-N needs a positive whole N, got ${n}`);
  return {
    createAccumulator: () => [],
    add: (row, acc) => insertTopN(acc, row, n, compare) as T[],
    merge: (a, b) => {
      let top: readonly T[] = a;
      for (const row of b) top = insertTopN(top, row, n, compare);
      return top as T[];
    },
    getResult: (acc) => acc,
  };
}
