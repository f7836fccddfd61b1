/**
 * What `stream.sinkTo(sink)` accepts, and the topology it builds (Flink's Sink V2 with its pre-write
 * and committer topologies):
 *
 *     input -> [pre-write operators] -> writer (parallel) -> committer (per writer, chained)      -> ...
 *                                                         -> global committer (parallelism 1)
 *
 * The writer and committer contracts are in runtime/sink/contract.ts. Operators get uids from the
 * sink's uid (`uid-writer` or `uid`, `uid-committer`, and `uid-global-committer` when both committers exist),
 * so their state survives job versions.
 */
import type { DataStream, OperatorOptions } from './data-stream.ts';
import type { Operator } from '../../operators/operator.ts';
import { DEFAULT_COMMIT_RETRY, type CommitRetryPolicy, type Committer, type SinkWriter, type SinkWriterContext } from '../sink/contract.ts';
import { SinkWriterOperator } from '../sink/writer-operator.ts';
import { CommitterOperator } from '../sink/committer-operator.ts';
import { ConfigError } from '../errors.ts';

export interface SinkTopologyContext {
  /** The parallelism the sink's operators get unless they set their own. */
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** The options given to `sinkTo` (name, uid, parallelism, slot sharing group). */
  readonly options: OperatorOptions;
}

/**
 * The stream a pre-write topology starts from: its first operator goes after it with `transform`
 * (a sink of `T | Change<T>` can then take a stream of `T`).
 */
export interface SinkInput<T> {
  transform<R>(name: string, createOperator: () => Operator<T, R>, options?: OperatorOptions): DataStream<R>;
}

/**
 * A sink of records `T`. `W` is what the writer gets (T unless a pre-write topology changes it), `C`
 * the committables (`never` for a sink without a committer).
 */
export interface Sink<in T, C = never, W = T> {
  readonly name: string;
  /** Operators between the input and the writers (e.g. route rows to buckets and key by bucket). */
  addPreWriteTopology?(input: SinkInput<T>, context: SinkTopologyContext): DataStream<W>;
  /** W is inferred from the pre-write topology only (NoInfer): without one it is T, so the writer must take T. */
  createWriter(ctx: SinkWriterContext): SinkWriter<NoInfer<W>, C> | Promise<SinkWriter<NoInfer<W>, C>>;
  /** A committer beside each writer (same parallelism, chained): commits that writer's committables. */
  createCommitter?(): Committer<C>;
  /** One committer for the whole sink (parallelism 1): commits every writer's committables of a checkpoint together. */
  createGlobalCommitter?(): Committer<C>;
  /** How commits are retried before the job fails (default 5 attempts, 100 ms doubling up to 5 s). */
  readonly commitRetry?: Partial<CommitRetryPolicy>;
  /** The writer's parallelism when the sink fixes it (default the sink's parallelism). */
  readonly writerParallelism?: number;
}

/** How `sinkTo` adds the last node (a node with no output). */
export interface SinkNodeBuilder {
  addSinkNode<X>(stream: DataStream<X>, name: string, createOperator: () => Operator<X, unknown>, options: OperatorOptions): void;
}

export function buildSinkTopology<T, C, W>(input: DataStream<T>, sink: Sink<T, C, W>, options: OperatorOptions, context: SinkTopologyContext, builder: SinkNodeBuilder): void {
  const base = options.name ?? sink.name;
  const uid = options.uid ?? base;
  const retry: CommitRetryPolicy = { ...DEFAULT_COMMIT_RETRY, ...sink.commitRetry };
  if (!(Number.isInteger(retry.attempts) && retry.attempts >= 1)) throw new ConfigError(`sink '${base}'.commitRetry.attempts`, `must be a whole number >= 1, got ${retry.attempts}`);
  const group = options.slotSharingGroup ? { slotSharingGroup: options.slotSharingGroup } : {};
  const written = sink.addPreWriteTopology ? sink.addPreWriteTopology(input, context) : (input as unknown as DataStream<W>);
  const parallelism = sink.writerParallelism ?? options.parallelism;
  const writerOptions: OperatorOptions = { ...options, name: sink.addPreWriteTopology || sink.createCommitter || sink.createGlobalCommitter ? `${base}-writer` : base, uid: sink.addPreWriteTopology ? `${uid}-writer` : uid, ...(parallelism ? { parallelism } : {}) };
  const committer = sink.createCommitter;
  const global = sink.createGlobalCommitter;
  const createWriter = (hasCommitter: boolean) => () => new SinkWriterOperator<W, C>(writerOptions.name!, (ctx) => sink.createWriter(ctx), hasCommitter);
  if (!committer && !global) {
    builder.addSinkNode(written, writerOptions.name!, createWriter(false) as () => Operator<W, unknown>, writerOptions);
    return;
  }
  let committables = written.transform<C>(writerOptions.name!, createWriter(true), writerOptions);
  if (committer) {
    const name = `${base}-committer`;
    const committerOptions: OperatorOptions = { name, uid: `${uid}-committer`, ...(parallelism ? { parallelism } : {}), ...group };
    const create = (): CommitterOperator<C> => new CommitterOperator<C>(name, () => committer.call(sink), retry, global !== undefined);
    if (!global) {
      builder.addSinkNode(committables.forward(), name, create as () => Operator<C, unknown>, committerOptions);
      return;
    }
    committables = committables.forward().transform<C>(name, create, committerOptions);
  }
  // Alone, the global committer is "the committer" (its uid stays the same if a per-writer one is added later, it is not).
  const suffix = committer ? 'global-committer' : 'committer';
  const name = `${base}-${suffix}`;
  const globalOptions: OperatorOptions = { name, uid: `${uid}-${suffix}`, parallelism: 1, ...group };
  builder.addSinkNode(committables.rebalance(), name, (() => new CommitterOperator<C>(name, () => global!.call(sink), retry, false)) as () => Operator<C, unknown>, globalOptions);
}
