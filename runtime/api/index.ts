/**
 * `weir`: the public entry. What a job author and a test author need, and the types a connector
 * author implements; nothing of the engine's insides. Connectors with heavy dependencies have their
 * own entries (`weir/lake`, `weir/mysql`), so a job loads only what it uses: this entry stays free of
 * parquet-wasm, Arrow, Avro, mysql2 and the S3 SDK (measured by bench/import-cost.bench.ts).
 *
 *     // jobs/word-count.ts
 *     import { defineJob, datagen, collectSink } from 'weir';
 *     export const counts = collectSink<{ word: string; count: number }>('counts');
 *     export default defineJob(import.meta.url, (env, params: { lines: number }) => {
 *       env.fromSource(datagen({ count: params.lines, generate: (i) => `line ${i % 10}` }))
 *         .flatMap<string>((line, out) => line.split(' ').forEach((w) => out.collect(w)))
 *         .keyBy((word) => word)
 *         .process<{ word: string; count: number }>({ ... })
 *         .sinkTo(counts);
 *     });
 *
 *     // run it
 *     const result = await new MiniCluster({ workers: 2 }).execute(job, { params: { lines: 1000 } });
 *     result.get(counts);
 *
 * Adding an export: only what a user writes or receives. Engine classes (JobManager, StreamTask,
 * writers of the exactly-once protocol) stay internal, so they can change without breaking jobs.
 */

// Jobs and the graph they build.
export { defineJob, type JobDefinition, type JsonValue } from './job.ts';
export { StreamEnv, type SourceOptions } from './environment.ts';
export { DataStream, SingleOutputStream, KeyedStream, ConnectedStreams, KeyedConnectedStreams, type OperatorOptions, type RecordFunctionOptions } from './data-stream.ts';
export type { DeadLetter } from '../../operators/dead-letter.ts';
export { WatermarkStrategy } from '../graph/watermark-strategy.ts';

// User functions.
export type {
  Collector,
  KeySelector,
  ProcessFunction,
  KeyedProcessFunction,
  CoProcessFunction,
  KeyedCoProcessFunction,
  ProcessContext,
  KeyedContext,
  OnTimerContext,
  TimerService,
  RuntimeContext,
  KeyedRuntimeContext,
} from '../../operators/functions.ts';

// Joins.
export {
  JoinBuilder,
  KeyedJoin,
  RegularJoin,
  ChangelogJoinBuilder,
  TemporalJoinBuilder,
  TemporalJoin,
  type EventTimeJoinOptions,
  type RegularJoinOptions,
  type TemporalJoinOptions,
} from './joined-streams.ts';
export type { LookupJoinOptions } from './lookup-join.ts';
export { tumblingWindows, slidingWindows, type JoinWindows, type WindowInfo } from '../../operators/join/window-join.ts';
export type { LateRecord } from '../../operators/join/join-keys.ts';
export type { LookupTable, LookupClient } from '../../operators/join/lookup-table.ts';
export type { LookupCacheOptions } from '../../operators/join/lookup-cache.ts';
export type { LookupRetry } from '../../operators/join/async-lookup-join.ts';

// Changelogs, windows, aggregates.
export { insert, updateBefore, updateAfter, deletion, type Change, type RowKind } from '../../operators/changelog.ts';
export { WindowedStream, type LocalAggregationOptions } from './windowed-stream.ts';
export { tumblingEventTimeWindows, tumblingProcessingTimeWindows } from '../../operators/window/tumbling.ts';
export { slidingEventTimeWindows, slidingProcessingTimeWindows } from '../../operators/window/sliding.ts';
export { eventTimeSessionWindows, processingTimeSessionWindows } from '../../operators/window/session.ts';
export type { WindowAssigner, AlignedWindowAssigner, SessionWindowAssigner } from '../../operators/window/assigner.ts';
export {
  continuousEventTimeTrigger,
  continuousProcessingTimeTrigger,
  type EarlyFiring,
  type FiringKind,
  type ProcessWindowFunction,
  type TimeWindow,
  type WindowContext,
  type WindowResultFunction,
} from '../../operators/window/time-window.ts';
export type { ChangelogAggregateFunction, GroupAggregateOptions } from '../../operators/aggregate/group-aggregate.ts';
export type { DeduplicateOptions } from '../../operators/dedup/deduplicate.ts';
export type { RankedRow, TopNOptions } from '../../operators/rank/top-n.ts';
export { topNAggregate, type Ranked, type WindowRanked } from '../../operators/rank/window-top-n.ts';
export { countDistinct, type CountDistinctOptions, type DistinctCount, type DistinctValue } from '../../operators/aggregate/count-distinct.ts';
export { hllAggregate, type ApproxCountDistinctOptions } from '../../operators/aggregate/approx-count-distinct.ts';

// State.
export { valueState, listState, mapState, reducingState, aggregatingState } from '../../state/descriptors.ts';
export type {
  AggregateFunction,
  StateTtlConfig,
  ValueStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  AggregatingStateDescriptor,
} from '../../state/descriptors.ts';
export type { ValueState, ListState, MapState, ReducingState, AggregatingState } from '../../state/handles.ts';
export type { StateKey, KeyPrimitive } from '../../state/key-groups.ts';
export type { OperatorListState, OperatorStateStore, OperatorStateMode } from '../../state/operator-state.ts';
export type { KeyedStateBackend } from '../../state/backend.ts';
export { StateValueError, plainDataSerializer, sharedPlainData, type SharedPlainDataOptions, type StateSerializer } from '../../state/index.ts';

// Operators and connectors: the contracts an author implements (docs/connectors.md).
export {
  OutputTag,
  NO_TIMESTAMP,
  type Operator,
  type OperatorContext,
  type Output,
  type ProcessingTimeService,
  type OperatorMetricsView,
  type ClientChannel,
  type SideWork,
} from '../../operators/operator.ts';
export type {
  Source,
  SourceSplit,
  SourceReader,
  SourceReaderContext,
  ReaderOutput,
  SplitOutput,
  PollStatus,
  SplitEnumerator,
  SplitEnumeratorContext,
} from '../source/contract.ts';
export { OwnedSplitEnumerator, type OwnedSplitsState } from '../source/owned-split-enumerator.ts';
export type { Sink, SinkInput, SinkTopologyContext } from './sink.ts';
export type { SinkWriter, SinkWriterContext, Committer, CommitterContext, CommitRetryPolicy } from '../sink/contract.ts';
export { twoPhaseCommitSink, type TransactionalBackend, type TransactionContext } from '../../connectors/two-phase-commit.ts';

// Built-in connectors without dependencies (more: `weir/lake`, `weir/mysql`).
export { datagen, fromElements, SeededRandom, type DatagenOptions } from '../../connectors/datagen/index.ts';
export { collectSink, CollectSink } from '../../connectors/collect/index.ts';
export { printSink } from '../../connectors/print/index.ts';

// Running jobs.
export { MiniCluster, type MiniClusterOptions } from '../cluster/mini-cluster.ts';
export { type ClusterOptions, type SubmitOptions } from '../cluster/job-manager.ts';
export { JobHandle, JobFailedError, JobCanceledError, type SavepointRef, type JobEvents, type RestartPhase } from '../cluster/job-master.ts';
export type { FailoverRecord } from '../failover/failover-history.ts';
export { JobResult, type JobStatus, type JobMetrics, type OperatorMetrics, type CollectTopic } from '../cluster/job-handle.ts';
export type { CheckpointConfig, CheckpointStorageConfig } from '../checkpoint/config.ts';
export type { CheckpointStats } from '../checkpoint/coordinator.ts';
export type { RestartStrategyConfig } from '../failover/restart-strategy.ts';

// Where Weir writes when not told (`$WEIR_HOME`, default ~/.weir).
export { weirHome } from '../weir-home.ts';

// Errors.
export { WeirError, JobValidationError, ConfigError, UserFunctionError, BadRecordError } from '../errors.ts';
