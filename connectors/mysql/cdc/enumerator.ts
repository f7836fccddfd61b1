/**
 * The MySQL CDC enumerator (on the job manager). At the first start it checks the server and plans
 * the work: with startup 'initial' the captured tables' snapshot chunks, otherwise only the binlog
 * start. Chunks go out one at a time to readers that ask (pull: fast readers take more). Readers
 * report each finished chunk with the binlog position of its snapshot; when every chunk is
 * finished, the binlog split is made: it starts at the smallest chunk position and carries every
 * chunk's range and position for the hand-off filter (handoff.ts). It goes to one reader, but only
 * once a checkpoint taken after the last chunk finished has completed (as Flink CDC does): chunk
 * rows and binlog rows of one key come from different readers, on different channels, and only a
 * checkpoint barrier between them makes every downstream operator see the chunk's row first. At
 * parallelism 1 there is one channel, and the split goes out at once.
 *
 * State (in every checkpoint): the unassigned chunks, the finished chunks reported so far, and
 * whether the binlog split was assigned. After a failure mid-snapshot, chunks finished before the
 * checkpoint stay finished (their readers also keep them and report them again), unfinished ones
 * are in their reader's state or still unassigned here: the snapshot continues, it does not restart.
 */
import type { SplitEnumerator, SplitEnumeratorContext } from '../../../runtime/source/contract.ts';
import { minPosition } from './position.ts';
import type { BinlogPosition, BinlogSplit, CdcTableSchema, ChunkFinishedEvent, FinishedChunk, MySqlCdcSplit, SnapshotSplit } from './types.ts';

export interface EnumeratorState {
  /** False until planning finished (then the fields below are set). */
  planned: boolean;
  /** Chunks not yet assigned. */
  pending: SnapshotSplit[];
  /** Every chunk id of the snapshot. */
  chunkIds: string[];
  /** Finished chunks by id (from the readers' reports). */
  finished: Record<string, FinishedChunk>;
  schemas: Record<string, CdcTableSchema>;
  /** The binlog split as made (and whether it went out). */
  binlog: BinlogSplit | null;
  binlogAssigned: boolean;
  /** The checkpoint whose completion lets the binlog split go out (taken after every chunk finished). */
  releaseAtCheckpoint?: number;
}

export function initialEnumeratorState(): EnumeratorState {
  return { planned: false, pending: [], chunkIds: [], finished: {}, schemas: {}, binlog: null, binlogAssigned: false };
}

/** The plan of a fresh start: chunks (startup 'initial') or a binlog split that starts elsewhere. */
export interface Plan {
  schemas: Record<string, CdcTableSchema>;
  chunks: SnapshotSplit[];
  /** Without a snapshot: where the binlog starts. */
  binlog: BinlogSplit | null;
}

export class MySqlCdcEnumerator implements SplitEnumerator<MySqlCdcSplit, EnumeratorState> {
  private readonly state: EnumeratorState;
  private checkpointPassed: boolean;
  /** Readers that asked for a chunk while none was available. */
  private readonly waiting = new Set<number>();

  constructor(
    private readonly ctx: SplitEnumeratorContext<MySqlCdcSplit>,
    state: EnumeratorState,
    private readonly plan: (() => Promise<Plan>) | null,
  ) {
    this.state = structuredClone(state);
    // Restored from the checkpoint that set it: that checkpoint completed.
    this.checkpointPassed = state.releaseAtCheckpoint !== undefined;
  }

  start(): void {
    if (!this.state.planned && this.plan) this.ctx.callAsync(this.plan, (p) => this.planned(p));
  }

  /** Planning done (at the first start only). */
  planned(p: Plan): void {
    this.state.planned = true;
    this.state.schemas = p.schemas;
    this.state.pending = [...p.chunks];
    this.state.chunkIds = p.chunks.map((c) => c.id);
    this.state.binlog = p.binlog;
    for (const r of [...this.waiting]) this.assignChunk(r);
    this.maybeAssignBinlog();
  }

  addReader(subtask: number): void {
    this.assignChunk(subtask);
    this.maybeAssignBinlog();
  }

  handleSplitRequest(subtask: number): void {
    this.assignChunk(subtask);
    this.maybeAssignBinlog();
  }

  addSplitsBack(splits: readonly MySqlCdcSplit[]): void {
    for (const s of splits) {
      if (s.kind === 'binlog') this.state.binlogAssigned = false;
      else if (!s.finishedAt) this.state.pending.unshift(s);
    }
    for (const r of this.ctx.registeredReaders()) this.assignChunk(r);
    this.maybeAssignBinlog();
  }

  handleSourceEvent(_subtask: number, event: unknown): void {
    const e = event as ChunkFinishedEvent;
    if (e?.type !== 'chunk-finished' || this.state.finished[e.id] || this.state.binlog) return;
    const chunk = e.chunk;
    this.state.finished[e.id] = { table: chunk.table, lo: chunk.lo, hi: chunk.hi, at: e.at };
    this.maybeAssignBinlog();
  }

  private assignChunk(subtask: number): void {
    if (!this.ctx.registeredReaders().has(subtask)) return;
    const next = this.state.pending.shift();
    if (next) {
      this.waiting.delete(subtask);
      this.ctx.assignSplits(subtask, [next]);
    } else this.waiting.add(subtask);
  }

  /** Every chunk finished (or there was no snapshot): the binlog split goes to the first registered reader. */
  private maybeAssignBinlog(): void {
    if (!this.state.planned || this.state.binlogAssigned) return;
    if (!this.state.binlog) {
      if (!this.allFinished()) return;
      this.state.binlog = binlogAfterSnapshot(Object.values(this.state.finished), this.state.schemas);
    }
    if (this.ctx.parallelism > 1 && this.state.chunkIds.length > 0 && !this.checkpointPassed) return;
    const readers = [...this.ctx.registeredReaders()].sort((a, b) => a - b);
    if (readers.length === 0) return;
    this.state.binlogAssigned = true;
    this.ctx.assignSplits(readers[0]!, [structuredClone(this.state.binlog)]);
  }

  snapshotState(checkpointId: number): EnumeratorState {
    if (this.allFinished() && !this.state.binlogAssigned && this.state.releaseAtCheckpoint === undefined) this.state.releaseAtCheckpoint = checkpointId;
    return structuredClone(this.state);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    if (this.state.releaseAtCheckpoint !== undefined && checkpointId >= this.state.releaseAtCheckpoint) {
      this.checkpointPassed = true;
      this.maybeAssignBinlog();
    }
  }

  private allFinished(): boolean {
    return this.state.planned && this.state.pending.length === 0 && this.state.chunkIds.every((id) => this.state.finished[id]);
  }
}

/** The binlog split after a snapshot: from the smallest chunk position, with every chunk for the hand-off. */
export function binlogAfterSnapshot(chunks: readonly FinishedChunk[], schemas: Record<string, CdcTableSchema>): BinlogSplit {
  const start: BinlogPosition | null = minPosition(chunks.map((c) => c.at));
  return { id: 'binlog', kind: 'binlog', start, skipRows: 0, chunks: [...chunks], schemas };
}
