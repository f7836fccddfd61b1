/** The expected content of the pk-writes job's table, and helpers to read a table back for comparison. */
import { SeededRandom } from 'weir';
import { FileStoreTable, readTable } from 'weir/lake';
import type { SnapshotManager } from '../../../connectors/lake/format/snapshot.ts';
import { operation, type Account } from './jobs/pk-writes.ts';

/** Rows of the table after applying operations 0..count-1 in order, as sorted text. */
export function expectedRows(count: number, keys: number, seed: number, keyOffset = 0): string[] {
  const model = new Map<number, Account>();
  const random = new SeededRandom();
  for (let i = 0; i < count; i++) {
    const op = operation(i, random.reset(seed, i), keys, keyOffset);
    if (op.kind === 'delete') model.delete(op.row.id);
    else model.set(op.row.id, op.row);
  }
  return [...model.values()].map(accountText).sort();
}

/** Rows of the append-only variant: every operation's row once. */
export function expectedAppendRows(count: number, keys: number, seed: number): string[] {
  const random = new SeededRandom();
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(accountText(operation(i, random.reset(seed, i), keys).row));
  return out.sort();
}

export function accountText(a: { id: unknown; version: unknown; balance: unknown; owner: unknown }): string {
  return `${a.id}|${a.version}|${a.balance}|${a.owner}`;
}

export async function tableText(table: FileStoreTable): Promise<string[]> {
  return (await readTable(table)).map((r) => r.join('|')).sort();
}

export interface SnapshotSummary {
  id: number;
  commitUser: string;
  commitIdentifier: number;
  commitKind: string;
}

export async function snapshotSummaries(snapshots: SnapshotManager): Promise<SnapshotSummary[]> {
  const out: SnapshotSummary[] = [];
  for (const id of await snapshots.listIds()) {
    const s = await snapshots.snapshot(id);
    out.push({ id: s.id, commitUser: s.commitUser, commitIdentifier: Number(s.commitIdentifier), commitKind: s.commitKind });
  }
  return out;
}

/** (commitUser, identifier, kind) triples committed more than once: must be none. */
export function duplicateCommits(snapshots: SnapshotSummary[]): string[] {
  const seen = new Map<string, number>();
  for (const s of snapshots) {
    const k = `${s.commitUser}#${s.commitIdentifier}#${s.commitKind}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}
