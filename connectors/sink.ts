/**
 * The sink contract. A sink is a factory of writers, one per sink subtask; a writer is an operator
 * with no output. Exactly-once sinks take part in checkpoints as a two-phase commit (see
 * `docs/two-phase-commit.md`): flush and pre-commit in `snapshotState`, commit in
 * `notifyCheckpointComplete`, and recover pending commits on restore.
 */
import type { Operator } from '../operators/operator.ts';

export interface Sink<T> {
  readonly name: string;
  createWriter(): Operator<T, never>;
}
