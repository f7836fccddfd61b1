/**
 * Weir's public API.
 *
 *     // jobs/word-count.ts
 *     import { defineJob, datagen, collectSink } from '../runtime/api/index.ts';
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
 */
export { defineJob, type JobDefinition, type JsonValue } from './job.ts';
export { StreamEnv, type SourceOptions } from './environment.ts';
export { DataStream, SingleOutputStream, KeyedStream, ConnectedStreams, KeyedConnectedStreams, type OperatorOptions } from './data-stream.ts';
export { WatermarkStrategy } from './watermark-strategy.ts';
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
export { mysqlLookupTable, type MySqlLookupOptions } from '../../connectors/mysql/lookup-table.ts';
export type { LookupRetry } from '../../operators/join/async-lookup-join.ts';
export { insert, updateBefore, updateAfter, deletion, type Change, type RowKind } from '../../operators/changelog.ts';
export { WindowedStream } from './windowed-stream.ts';
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
export type { CountDistinctOptions, DistinctCount } from '../../operators/aggregate/count-distinct.ts';
export { hllAggregate, type ApproxCountDistinctOptions } from '../../operators/aggregate/approx-count-distinct.ts';
export type {
  Collector,
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
} from './functions.ts';
export { OutputTag, NO_TIMESTAMP, type Operator, type OperatorContext, type Output } from '../../operators/operator.ts';
export { valueState, listState, mapState, reducingState, aggregatingState, type AggregateFunction } from '../../state/descriptors.ts';
export type { ValueState, ListState, MapState, ReducingState, AggregatingState } from '../../state/handles.ts';
export type { StateKey } from '../../state/key-groups.ts';
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
export { datagen, fromElements, SeededRandom, type DatagenOptions } from '../../connectors/datagen/index.ts';
export { collectSink, CollectSink } from '../../connectors/collect/index.ts';
export { printSink } from '../../connectors/print/index.ts';
export { lakeSink, type LakeSinkOptions } from '../../connectors/lake/sink/index.ts';
export { lakeSource, type LakeSourceOptions, type LakeBatchSourceOptions, type LakeStreamingSourceOptions } from '../../connectors/lake/source/index.ts';
export { MiniCluster } from '../cluster/mini-cluster.ts';
export { JobManager, JobHandle, JobFailedError, JobCanceledError, type ClusterOptions, type SubmitOptions, type SavepointRef, type JobEvents } from '../cluster/job-manager.ts';
export type { CheckpointConfig, CheckpointStorageConfig } from '../checkpoint/config.ts';
export type { CheckpointStats } from '../checkpoint/coordinator.ts';
export type { RestartStrategyConfig } from '../failover/restart-strategy.ts';
export { twoPhaseCommitSink, type TransactionalBackend, type TransactionContext } from '../../connectors/two-phase-commit.ts';
export { JobResult, type JobMetrics, type OperatorMetrics } from '../cluster/job-handle.ts';
export { WeirError, JobValidationError, ConfigError, UserFunctionError, BadRecordError } from '../errors.ts';
