/**
 * In-place array edits for the window operator's long-lived arrays (scratch lists, held panes,
 * combiners). They keep the array's backing store and its element kind, where `a.length = n` is a
 * runtime call that also drops the store (so the next pushes grow it again), and splice makes an
 * array of what it removes.
 */

/** Empties `a`, keeping its capacity. */
export function clearArray(a: unknown[]): void {
  truncateArray(a, 0);
}

/** Drops the elements of `a` from `length` on, keeping its capacity. */
export function truncateArray(a: unknown[], length: number): void {
  while (a.length > length) a.pop();
}

/** Removes the first `n` elements of `a`. */
export function shiftDown<X>(a: X[], n: number): void {
  const len = a.length;
  for (let i = n; i < len; i++) a[i - n] = a[i]!;
  truncateArray(a, len - n);
}
