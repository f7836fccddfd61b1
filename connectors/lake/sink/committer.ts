/**
 * The lake sink's global committer (Sink V2, parallelism 1): the runtime keeps the writers'
 * CommitMessages per checkpoint in its state and, when a checkpoint completes (and again after a
 * restore), calls `commit` with them; they become one snapshot whose commitIdentifier is the
 * checkpoint id, under a commitUser kept in (union) state so that it survives restarts. TableCommit
 * skips identifiers this commitUser committed already, so nothing is committed twice.
 *
 * The snapshot's watermark is the least of the writers' watermarks once every writer has reported
 * one (each writer sends its watermark with its files, or alone when it rose); after a restart it
 * takes a checkpoint for every writer to report again, and until then snapshots keep the last one.
 * After a commit, automatic tags (`tag.automatic-creation`) are created from the new snapshots.
 *
 * A compaction that conflicts (its input files were replaced by another writer) is dropped after
 * the checkpoint's appended files have landed: the data stays right, the compaction's output file
 * becomes an orphan.
 */
import { randomUUID } from 'node:crypto';
import type { OperatorMetricsView } from '../../../operators/operator.ts';
import type { Committer, CommitterContext } from '../../../runtime/sink/contract.ts';
import { CommitConflictError } from '../errors.ts';
import type { SchemaDefinition } from '../schema/schema.ts';
import { TableCommit } from '../table/commit.ts';
import { TagAutoCreation } from '../table/tag-auto-creation.ts';
import { changelogProducer, LookupChangelogProducer } from '../table/changelog.ts';
import { expireSnapshots, type ExpireOptions } from '../table/maintenance.ts';
import type { FileStoreTable } from '../table/table.ts';
import type { CommitMessage } from '../table/writer.ts';
import { openLakeTable, type LakeTableLocation } from './table-access.ts';
import type { LakeCommittable } from './records.ts';

export interface LakeCommitterSettings {
  location: LakeTableLocation;
  schema: SchemaDefinition | undefined;
  commitUser: string | undefined;
  /** Expire snapshots after every this many commits; 0: never. */
  expireEvery: number;
  expire: ExpireOptions;
}

export class LakeCommitter implements Committer<LakeCommittable> {
  private table!: FileStoreTable;
  private tableCommit!: TableCommit;
  private commitsSinceExpire = 0;
  private expiring: Promise<void> | undefined;
  private metrics!: OperatorMetricsView;
  /** Latest watermark per writer subtask, and how many writers there are. */
  private readonly writerWatermarks = new Map<number, number>();
  private writers = 0;
  private tagCreation: TagAutoCreation | null = null;
  private lookup: LookupChangelogProducer | undefined;

  constructor(private readonly settings: LakeCommitterSettings) {}

  async open(ctx: CommitterContext): Promise<void> {
    this.metrics = ctx.metrics;
    this.table = await openLakeTable(this.settings.location, this.settings.schema);
    const users = ctx.operatorState.getUnionListState<string>('lake-commit-user');
    const commitUser = users.get()[0] ?? this.settings.commitUser ?? `weir-${randomUUID()}`;
    users.update([commitUser]);
    this.tableCommit = new TableCommit(this.table, commitUser);
    this.tagCreation = await TagAutoCreation.create(this.table);
    const producer = changelogProducer(this.table.schema.options, this.table.primaryKey);
    if (producer === 'lookup' || producer === 'full-compaction') this.lookup = new LookupChangelogProducer(this.table);
  }

  /** The least watermark over all writers, once every writer reported one. */
  private watermarkOf(committables: readonly LakeCommittable[]): number | undefined {
    for (const c of committables) {
      if (c.writers !== undefined) this.writers = c.writers;
      if (c.watermark !== undefined) this.writerWatermarks.set(c.writer, Math.max(c.watermark, this.writerWatermarks.get(c.writer) ?? -Infinity));
    }
    if (this.writers === 0 || this.writerWatermarks.size < this.writers) return undefined;
    let min = Infinity;
    for (const [writer, wm] of this.writerWatermarks) if (writer < this.writers) min = Math.min(min, wm);
    return Number.isFinite(min) ? min : undefined;
  }

  get commitUser(): string {
    return this.tableCommit.commitUser;
  }

  async commit(committables: readonly LakeCommittable[], checkpointId: number): Promise<void> {
    await this.expiring; // expiration deletes snapshot files that a commit's scan may be reading
    if ((await this.tableCommit.filterCommitted([checkpointId])).length === 0) {
      this.metrics.count('lake-commits-skipped');
      return;
    }
    let messages: CommitMessage[] = [];
    for (const c of committables) for (const m of c.messages) messages.push(m);
    const watermark = this.watermarkOf(committables);
    const lookup = this.lookup ? await this.lookup.produce(messages) : undefined;
    if (lookup) messages = lookup.messages;
    try {
      const ids = await this.tableCommit.commit(checkpointId, messages, watermark === undefined ? {} : { watermark });
      this.metrics.count('lake-snapshots', ids.length);
      lookup?.apply();
      this.lookup?.committed(ids.length > 0 ? ids[ids.length - 1]! : ((await this.table.snapshots.latestId()) ?? null));
    } catch (e) {
      if (!(e instanceof CommitConflictError)) throw e;
      this.metrics.count('lake-compactions-dropped');
    }
    if (this.tagCreation) this.metrics.count('lake-tags-created', (await this.tagCreation.run()).length);
    this.maybeExpire(1);
  }

  /** Expiration runs in the background between commits (the next commit waits for it). */
  private maybeExpire(commits: number): void {
    if (this.settings.expireEvery <= 0) return;
    this.commitsSinceExpire += commits;
    if (this.commitsSinceExpire < this.settings.expireEvery || this.expiring) return;
    this.commitsSinceExpire = 0;
    this.expiring = expireSnapshots(this.table, this.settings.expire)
      .then((ids) => this.metrics.count('lake-snapshots-expired', ids.length))
      .catch(() => this.metrics.count('lake-expire-failures'))
      .finally(() => {
        this.expiring = undefined;
      });
  }

  async close(): Promise<void> {
    await this.expiring;
  }
}
