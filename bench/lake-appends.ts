/**
 * For freshness benchmarks: the rows a table's APPEND snapshots added since the last look, each with
 * the time it was seen (the commit made it readable no later than that).
 */
import type { FileStoreTable } from 'weir/lake';
import { FILE_KIND_ADD } from '../connectors/lake/format/manifest.ts';

/** Calls `onRow` for every row the APPEND snapshots after `after` added; returns the latest snapshot id. */
export async function forAppendedRows(table: FileStoreTable, after: number, onRow: (row: unknown[], seenAt: number) => void): Promise<number> {
  const latest = (await table.snapshots.latestId()) ?? 0;
  const seenAt = Date.now();
  for (let id = after + 1; id <= latest; id++) {
    const snap = await table.snapshots.snapshot(id);
    if (snap.commitKind !== 'APPEND') continue;
    for (const e of (await table.deltaEntries(snap)).filter((x) => x.kind === FILE_KIND_ADD)) {
      for (const r of (await table.readDataFile(e)).rows) onRow(r, seenAt);
    }
  }
  return Math.max(after, latest);
}
