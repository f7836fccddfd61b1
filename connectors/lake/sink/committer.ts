/**
 * The lake committer (parallelism 1): collects the writers' CommitMessages per checkpoint in
 * operator state and, when a checkpoint completes, commits them as one snapshot whose
 * commitIdentifier is the checkpoint id, under a commitUser kept in (union) state so that it
 * survives restarts. After a restore it first commits what the restored checkpoint held; TableCommit
 * skips identifiers this commitUser committed already, so nothing is committed twice.
 *
 * A compaction that conflicts (its input files were replaced by another writer) is dropped after
 * the checkpoint's appended files have landed: the data stays right, the compaction's output file
 * becomes an orphan.
 */
import { randomUUID } from 'node:crypto';
import type { Operator, OperatorContext } from '../../../operators/operator.ts';
import type { OperatorListState } from '../../../state/operator-state.ts';
import { CommitConflictError } from '../errors.ts';
import type { SchemaDefinition } from '../schema/schema.ts';
import { TableCommit } from '../table/commit.ts';
import { expireSnapshots, type ExpireOptions } from '../table/maintenance.ts';
import type { FileStoreTable } from '../table/table.ts';
import type { CommitMessage } from '../table/writer.ts';
import { openLakeTable, type LakeTableLocation } from './table-access.ts';
import type { LakeCommittable } from './records.ts';

interface PendingCommit {
  checkpointId: number;
  messages: CommitMessage[];
}

export interface LakeCommitterSettings {
  location: LakeTableLocation;
  schema: SchemaDefinition | undefined;
  commitUser: string | undefined;
  /** Expire snapshots after every this many commits; 0: never. */
  expireEvery: number;
  expire: ExpireOptions;
}

export class LakeCommitterOperator implements Operator<LakeCommittable, never> {
  private table!: FileStoreTable;
  private commit!: TableCommit;
  private pendingState!: OperatorListState<PendingCommit>;
  private pending: PendingCommit[] = [];
  private current: CommitMessage[] = [];
  private commitsSinceExpire = 0;
  private expiring: Promise<void> | undefined;
  private ctx!: OperatorContext<never>;

  constructor(readonly name: string, private readonly settings: LakeCommitterSettings) {}

  async open(ctx: OperatorContext<never>): Promise<void> {
    this.ctx = ctx;
    this.table = await openLakeTable(this.settings.location, this.settings.schema);
    const users = ctx.operatorState.getUnionListState<string>('lake-commit-user');
    const commitUser = users.get()[0] ?? this.settings.commitUser ?? `weir-${randomUUID()}`;
    users.update([commitUser]);
    this.commit = new TableCommit(this.table, commitUser);
    this.pendingState = ctx.operatorState.getListState<PendingCommit>('lake-committer-pending');
    this.pending = this.pendingState.get();
    // what the restored checkpoint collected belongs to a completed checkpoint: commit it now
    await this.commitUpTo(Number.MAX_SAFE_INTEGER);
  }

  get commitUser(): string {
    return this.commit.commitUser;
  }

  processBatch(values: readonly LakeCommittable[]): void {
    for (const v of values) for (const m of v.messages) this.current.push(m);
  }

  snapshotState(checkpointId: number): void {
    if (this.current.length > 0) {
      this.pending.push({ checkpointId, messages: this.current });
      this.current = [];
    }
    this.pendingState.update(this.pending);
  }

  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await this.commitUpTo(checkpointId);
  }

  private async commitUpTo(checkpointId: number): Promise<void> {
    const due = this.pending.filter((p) => p.checkpointId <= checkpointId).sort((a, b) => a.checkpointId - b.checkpointId);
    if (due.length === 0) return;
    await this.expiring; // expiration deletes snapshot files that a commit's scan may be reading
    const open = new Set(await this.commit.filterCommitted(due.map((p) => p.checkpointId)));
    for (const p of due) {
      if (open.has(p.checkpointId)) await this.commitOne(p);
      else this.ctx.metrics.count('lake-commits-skipped');
    }
    this.pending = this.pending.filter((p) => p.checkpointId > checkpointId);
    this.pendingState.update(this.pending);
    this.maybeExpire(due.length);
  }

  private async commitOne(p: PendingCommit): Promise<void> {
    try {
      const ids = await this.commit.commit(p.checkpointId, p.messages);
      this.ctx.metrics.count('lake-snapshots', ids.length);
    } catch (e) {
      if (e instanceof CommitConflictError) {
        this.ctx.metrics.count('lake-compactions-dropped');
        return;
      }
      throw e;
    }
  }

  /** Expiration runs in the background between commits (the next commit waits for it). */
  private maybeExpire(commits: number): void {
    if (this.settings.expireEvery <= 0) return;
    this.commitsSinceExpire += commits;
    if (this.commitsSinceExpire < this.settings.expireEvery || this.expiring) return;
    this.commitsSinceExpire = 0;
    this.expiring = expireSnapshots(this.table, this.settings.expire)
      .then((ids) => this.ctx.metrics.count('lake-snapshots-expired', ids.length))
      .catch(() => this.ctx.metrics.count('lake-expire-failures'))
      .finally(() => {
        this.expiring = undefined;
      });
  }

  async close(): Promise<void> {
    await this.expiring;
  }
}
