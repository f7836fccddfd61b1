import type { Change } from '../../../operators/changelog.ts';

/** Applies a changelog to a table keyed by `key` (what an upsert sink does). */
export function applyChangelog<T>(changes: readonly Change<T>[], key: (row: T) => string): Map<string, T> {
  const table = new Map<string, T>();
  for (const c of changes) {
    if (c.kind === '+I' || c.kind === '+U') table.set(key(c.row), c.row);
    else table.delete(key(c.row));
  }
  return table;
}
