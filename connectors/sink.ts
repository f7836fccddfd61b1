/**
 * The sink contract. A sink is a factory of writers, one per sink subtask; a writer is an operator
 * with no output. Exactly-once sinks take part in checkpoints as a two-phase commit (see
 * `docs/two-phase-commit.md`): flush and pre-commit in `snapshotState`, commit in
 * `notifyCheckpointComplete`, and recover pending commits on restore.
 *
 * A sink that is more than one operator (Flink's sink with pre-write and post-commit topology: a
 * bucket router, parallel writers, one committer) adds its part of the graph in `expand`, which
 * `sinkTo` calls instead of adding `createWriter`'s operator.
 *
 * The members are function-typed properties, not methods, so that a `Sink<Click>` does not compile
 * where a `Sink<Click | Purchase>` is needed (tsc checks method parameters bivariantly).
 */
import type { Operator } from '../operators/operator.ts';
import type { DataStream, OperatorOptions } from '../runtime/api/data-stream.ts';

export interface SinkTopologyContext {
  /** The parallelism the sink's operators get unless they set their own. */
  readonly parallelism: number;
  readonly maxParallelism: number;
}

/** The stream a sink expands from: its first operator goes after it with `transform`. */
export interface SinkInput<T> {
  transform<R>(name: string, createOperator: () => Operator<T, R>, options?: OperatorOptions): DataStream<R>;
}

export interface Sink<T> {
  readonly name: string;
  readonly createWriter: () => Operator<T, never>;
  /** Adds the sink's operators after `input` (at least one of them a sink node, via `sinkTo`). */
  readonly expand?: (input: SinkInput<T>, context: SinkTopologyContext, options: OperatorOptions) => void;
}
