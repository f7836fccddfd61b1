/**
 * A streaming lake source with a `consumerId` records its position in the table's
 * `consumer/consumer-<id>` (Java's layout), so that snapshot expiration keeps what it still needs.
 *
 * The position is the least next snapshot over all of the source's buckets, which are spread over
 * the readers. Readers cannot see each other's positions, so each records its own next snapshot of
 * a completed checkpoint in `consumer/weir-progress-<id>-<subtask>` (Java lists only `consumer-*`
 * files and ignores these), then writes the consumer file with the least over all readers' files.
 * Every value in those files was a reader's position at a completed checkpoint, and positions only
 * move forward from a completed checkpoint, so the consumer never claims more than the source read:
 * a restore from that checkpoint finds every snapshot it needs. Stale files of a higher parallelism
 * (before a rescale) are removed by reader 0.
 */
import { joinPath, baseName } from '../fs/file-io.ts';
import { ConsumerManager } from '../table/consumers.ts';
import type { FileStoreTable } from '../table/table.ts';

interface ProgressFile {
  checkpoint: number;
  /** null: the reader had no buckets at that checkpoint. */
  nextSnapshot: number | null;
}

export class ConsumerProgress {
  /** Next snapshot per checkpoint taken and not yet completed. */
  private readonly pending = new Map<number, number | null>();

  constructor(
    private readonly consumerId: string,
    private readonly subtask: number,
    private readonly parallelism: number,
  ) {}

  /** At the barrier: the least next snapshot over this reader's buckets (null if it has none). */
  atCheckpoint(checkpointId: number, nextSnapshot: number | null): void {
    this.pending.set(checkpointId, nextSnapshot);
  }

  private progressPath(table: FileStoreTable, subtask: number): string {
    return joinPath(table.path, 'consumer', `weir-progress-${this.consumerId}-${subtask}`);
  }

  async checkpointCompleted(table: FileStoreTable, checkpointId: number): Promise<void> {
    if (!this.pending.has(checkpointId)) return;
    const next = this.pending.get(checkpointId)!;
    for (const id of this.pending.keys()) if (id <= checkpointId) this.pending.delete(id);
    const mine: ProgressFile = { checkpoint: checkpointId, nextSnapshot: next };
    await table.io.write(this.progressPath(table, this.subtask), JSON.stringify(mine));

    const prefix = `weir-progress-${this.consumerId}-`;
    const files = (await table.io.list(joinPath(table.path, 'consumer'))).filter((f) => baseName(f.path).startsWith(prefix));
    let least: number | null = null;
    const seen = new Set<number>();
    for (const f of files) {
      const subtask = Number(baseName(f.path).slice(prefix.length));
      if (!Number.isInteger(subtask)) continue;
      if (subtask >= this.parallelism) {
        if (this.subtask === 0) await table.io.delete(f.path).catch(() => undefined);
        continue;
      }
      let p: ProgressFile;
      try {
        p = JSON.parse(new TextDecoder().decode(await table.io.read(f.path))) as ProgressFile;
      } catch {
        return; // being rewritten: the next checkpoint writes the consumer
      }
      seen.add(subtask);
      if (p.nextSnapshot !== null) least = least === null ? p.nextSnapshot : Math.min(least, p.nextSnapshot);
    }
    // until every reader has said where it is, the consumer file would claim too much
    if (seen.size < this.parallelism || least === null) return;
    await new ConsumerManager(table.io, table.path).reset(this.consumerId, least);
  }
}
