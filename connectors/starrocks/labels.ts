/**
 * Transaction labels and the restore decision of the exactly-once StarRocks sink (pure functions,
 * unit-tested). A label names one transaction: prefix, table, subtask, restore epoch and checkpoint:
 *
 *     weir-orders-3-2-41      prefix 'weir', table 'orders', subtask 3, epoch 2, checkpoint 41
 *
 * `checkpoint` is the checkpoint the transaction is meant for: one more than the last barrier the
 * writer passed (the restored checkpoint + 1 after a restore). `epoch` grows with every start of the
 * writer: the restored epoch + 1, moved further past any epoch whose first label StarRocks already
 * knows (an attempt that failed before its first checkpoint completed used it). So a replay after a
 * restore never begins a label that an earlier attempt used, even for the same checkpoint ids.
 *
 * On restore from checkpoint r the committer commits what r's state lists (PREPARED there, so it
 * must become visible), and the writer rolls back what the attempts after r left behind: labels of
 * its (old) subtasks' epochs for checkpoints r+1 .. r+probeDepth that are still PREPARE or PREPARED.
 */

/** StarRocks labels: letters, digits, '-', '_' and ':', at most 128 characters. */
const LABEL_CHARS = /[^A-Za-z0-9_:-]/g;
export const MAX_LABEL_LENGTH = 128;

export interface LabelParts {
  prefix: string;
  table: string;
  subtask: number;
  epoch: number;
  checkpoint: number;
}

export function transactionLabel(p: LabelParts): string {
  return `${sanitize(p.prefix)}-${sanitize(p.table)}-${p.subtask}-${p.epoch}-${p.checkpoint}`;
}

/** Labels of one Stream Load in at-least-once mode: the writer run's random id and the batch's place (checkpoint and position). */
export function flushLabel(prefix: string, table: string, subtask: number, runId: string, batch: string): string {
  return `${sanitize(prefix)}-${sanitize(table)}-${subtask}-${runId}-${sanitize(batch)}`;
}

export function sanitize(part: string): string {
  return part.replace(LABEL_CHARS, '_');
}

/** What a writer subtask keeps in (union) operator state: its epoch. */
export interface EpochEntry {
  subtask: number;
  epoch: number;
}

/** The epoch a restored writer tries first: one past every epoch in the restored state (0 without state). */
export function firstCandidateEpoch(restored: readonly EpochEntry[]): number {
  return restored.reduce((m, e) => Math.max(m, e.epoch), 0) + 1;
}

/**
 * The old subtasks whose leftovers subtask `subtask` of `parallelism` cleans up after a restore, with
 * the epoch each had at the restored checkpoint: itself, and after a rescale down the ones that no
 * longer exist (old subtask o goes to o mod parallelism). Without state: itself at epoch 0.
 */
export function ownedOldSubtasks(restored: readonly EpochEntry[], subtask: number, parallelism: number): EpochEntry[] {
  const owned = restored.filter((e) => e.subtask % parallelism === subtask);
  if (!owned.some((e) => e.subtask === subtask)) owned.push({ subtask, epoch: 0 });
  return owned.sort((a, b) => a.subtask - b.subtask);
}

/** The labels to probe for leftovers: each owned old subtask's epochs up to (not including) the chosen one, checkpoints r+1 .. r+depth. */
export function lingeringCandidates(prefix: string, table: string, owned: readonly EpochEntry[], chosenEpoch: number, restoredCheckpoint: number, depth: number): string[] {
  const labels: string[] = [];
  for (const o of owned) {
    for (let epoch = o.epoch; epoch < chosenEpoch; epoch++) {
      for (let c = restoredCheckpoint + 1; c <= restoredCheckpoint + depth; c++) labels.push(transactionLabel({ prefix, table, subtask: o.subtask, epoch, checkpoint: c }));
    }
  }
  return labels;
}

export type LingeringAction = 'rollback' | 'leave';

/** What to do with a label found after the restored checkpoint: open or prepared transactions are rolled back (their records are replayed); anything else stays. */
export function lingeringAction(state: string): LingeringAction {
  return state === 'PREPARE' || state === 'PREPARED' ? 'rollback' : 'leave';
}

export type CommitOutcome = 'committed' | 'retry' | 'lost';

/**
 * After a commit that did not answer OK, the label's state decides: COMMITTED or VISIBLE means an
 * earlier commit (before a crash or a lost answer) went through; PREPARED or PREPARE means try
 * again; ABORTED or UNKNOWN means the transaction is gone (its prepared_timeout passed, or its
 * label expired) and its rows with it.
 */
export function commitOutcome(labelState: string): CommitOutcome {
  if (labelState === 'COMMITTED' || labelState === 'VISIBLE') return 'committed';
  if (labelState === 'PREPARED' || labelState === 'PREPARE') return 'retry';
  return 'lost';
}
