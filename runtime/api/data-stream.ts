/**
 * The typed DataStream API. A stream is a set of producers (node and output tag): usually one, more
 * after `union`. Each call adds a node to the graph; record types flow through the generics.
 */
import { buildSinkTopology, type Sink } from './sink.ts';
import { FilterOperator } from '../../operators/filter.ts';
import { FlatMapOperator } from '../../operators/flat-map.ts';
import { KeyedProcessOperator } from '../../operators/keyed-process.ts';
import { MapOperator } from '../../operators/map.ts';
import type { DeadLetter } from '../../operators/dead-letter.ts';
import type { Operator, OutputTag } from '../../operators/operator.ts';
import { CoProcessOperator, ProcessOperator } from '../../operators/process.ts';
import type { StateKey } from '../../state/key-groups.ts';
import { GroupAggregateOperator, MergingGroupAggregateOperator, type ChangelogAggregateFunction, type GroupAggregateOptions, type GroupPartial } from '../../operators/aggregate/group-aggregate.ts';
import { LocalGroupAggregateOperator } from '../../operators/aggregate/local-group-aggregate.ts';
import { ConfigError } from '../errors.ts';
import { CountDistinctOperator, type CountDistinctOptions, type DistinctCount } from '../../operators/aggregate/count-distinct.ts';
import { ApproxCountDistinctOperator, type ApproxCountDistinctOptions } from '../../operators/aggregate/approx-count-distinct.ts';
import { DeduplicateOperator, type DeduplicateOptions } from '../../operators/dedup/deduplicate.ts';
import { TopNOperator, type RankedRow, type TopNOptions } from '../../operators/rank/top-n.ts';
import type { WindowAssigner } from '../../operators/window/assigner.ts';
import { WindowedStream } from './windowed-stream.ts';
import type { Partitioning, StreamGraph, StreamNode } from '../graph/stream-graph.ts';
import type {
  Collector,
  CoProcessFunction,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  ProcessFunction,
} from '../../operators/functions.ts';
import type { Change } from '../../operators/changelog.ts';
import { ChangelogJoinBuilder, JoinBuilder, TemporalJoinBuilder } from './joined-streams.ts';
import { lookupJoin, type LookupJoinOptions } from './lookup-join.ts';
import type { LookupTable } from '../../operators/join/lookup-table.ts';

export interface OperatorOptions {
  /** Shown in metrics, errors and the dashboard. */
  name?: string;
  /** Stable identity of the operator's state across job versions; set it on stateful operators. */
  uid?: string;
  parallelism?: number;
  /** false: never run in one task with its input (default true). */
  chain?: boolean;
  /** Run in other task managers than operators of other groups (Flink's slot sharing group). */
  slotSharingGroup?: string;
}

/** Options of map, filter and flatMap. */
export interface RecordFunctionOptions<T> extends OperatorOptions {
  /**
   * Where records go whose function fails with a non-retriable error (a BadRecordError, or a
   * WeirError marked `{ domain: 'user', retriable: false }`), instead of failing the job; read
   * them with `getSideOutput(tag)`. See operators/dead-letter.ts.
   */
  deadLetter?: OutputTag<DeadLetter<T>>;
}

interface Producer {
  node: StreamNode;
  tag: string | null;
}

interface InputSpec {
  producers: readonly Producer[];
  partitioning: Partitioning;
}

function addOperator(
  graph: StreamGraph,
  defaultName: string,
  options: OperatorOptions,
  keyed: boolean,
  createOperator: () => Operator<unknown, unknown>,
  inputs: readonly InputSpec[],
  kind: 'operator' | 'sink' = 'operator',
): StreamNode {
  const node = graph.addNode({
    kind,
    name: options.name ?? defaultName,
    uid: options.uid,
    parallelism: options.parallelism,
    keyed,
    createOperator,
    chainable: options.chain ?? true,
    slotGroup: options.slotSharingGroup,
  });
  inputs.forEach((input, inputIndex) => {
    for (const p of input.producers) graph.connect(p.node, node, p.tag, input.partitioning, inputIndex as 0 | 1);
  });
  return node;
}

/**
 * Every subtask gets its own copy of a function object (Flink serializes one per subtask): a
 * shallow copy with the same prototype, so fields set in `open` (state handles) are per subtask
 * while configuration given to the constructor is shared.
 */
function perSubtask<F extends object>(fn: F): F {
  return Object.assign(Object.create(Object.getPrototypeOf(fn) as object) as F, fn);
}

export class DataStream<T> {
  /** Phantom field carrying the record type; never set. */
  declare readonly __type?: T;
  constructor(
    protected readonly graph: StreamGraph,
    protected readonly producers: readonly Producer[],
    /** How the next operator's input is partitioned. */
    protected readonly partitioning: Partitioning = { kind: 'auto' },
  ) {}

  protected input(): InputSpec {
    return { producers: this.producers, partitioning: this.partitioning };
  }

  /** A low-level hook: put any operator after this stream. */
  transform<R>(name: string, createOperator: () => Operator<T, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    const node = addOperator(this.graph, name, options, false, createOperator as () => Operator<unknown, unknown>, [this.input()]);
    return new SingleOutputStream<R>(this.graph, node);
  }

  map<R>(fn: (value: T) => R, options: RecordFunctionOptions<T> = {}): SingleOutputStream<R> {
    const name = options.name ?? 'map';
    return this.transform<R>(name, () => new MapOperator<T, R>(name, fn, options.deadLetter), options);
  }

  filter(predicate: (value: T) => boolean, options: RecordFunctionOptions<T> = {}): SingleOutputStream<T> {
    const name = options.name ?? 'filter';
    return this.transform<T>(name, () => new FilterOperator<T>(name, predicate, options.deadLetter), options);
  }

  flatMap<R>(fn: (value: T, out: Collector<R>) => void, options: RecordFunctionOptions<T> = {}): SingleOutputStream<R> {
    const name = options.name ?? 'flatMap';
    return this.transform<R>(name, () => new FlatMapOperator<T, R>(name, fn, options.deadLetter), options);
  }

  process<R>(fn: ProcessFunction<T, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    const name = options.name ?? 'process';
    return this.transform<R>(name, () => new ProcessOperator<T, R>(name, perSubtask(fn)), options);
  }

  keyBy<K extends StateKey>(key: (value: T) => K): KeyedStream<K, T> {
    return new KeyedStream<K, T>(this.graph, this.producers, key);
  }

  /** All records of this stream and the others, in one stream. Nothing is dropped or merged. */
  union(...others: DataStream<T>[]): DataStream<T> {
    return new DataStream<T>(this.graph, [...this.producers, ...others.flatMap((o) => o.producers)], this.partitioning);
  }

  connect<U>(other: DataStream<U>): ConnectedStreams<T, U> {
    return new ConnectedStreams<T, U>(this.graph, this.input(), other.input());
  }

  /** Join with another stream on equal keys: `.where(...).equalTo(...)`, then an interval, a window or a regular join. */
  join<R>(other: DataStream<R>): JoinBuilder<T, R> {
    return new JoinBuilder<T, R>(this, other);
  }

  /** Regular join of two changelog streams (e.g. CDC); the output is a changelog. */
  joinChanges<L, R>(this: DataStream<Change<L>>, other: DataStream<Change<R>>): ChangelogJoinBuilder<L, R> {
    return new ChangelogJoinBuilder<L, R>(this, other);
  }

  /** Event-time temporal join: each record joins the version of a dimension table (fed by its changelog) valid at its time. */
  temporalJoin<D>(dimension: DataStream<Change<D>>): TemporalJoinBuilder<T, D> {
    return new TemporalJoinBuilder<T, D>(this, dimension);
  }

  /** Looks each record up in an external table (async I/O, cache, retries); see `LookupJoinOptions`. */
  lookupJoin<K extends StateKey, D, R>(table: LookupTable<K, D>, options: LookupJoinOptions<T, K, D, R>): SingleOutputStream<R> {
    return lookupJoin(this, table, options);
  }

  /** Spread records round-robin over the next operator's subtasks. */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.graph, this.producers, { kind: 'rebalance' });
  }

  /** Send every record to every subtask of the next operator. */
  broadcast(): DataStream<T> {
    return new DataStream<T>(this.graph, this.producers, { kind: 'broadcast' });
  }

  /** Keep records in the same subtask (the next operator must have the same parallelism). */
  forward(): DataStream<T> {
    return new DataStream<T>(this.graph, this.producers, { kind: 'forward' });
  }

  /** Writes the stream into a sink: its writers and committers (see runtime/api/sink.ts). */
  sinkTo<C, W = T>(sink: Sink<T, C, W>, options: OperatorOptions = {}): void {
    const context = { parallelism: options.parallelism ?? this.graph.defaultParallelism, maxParallelism: this.graph.maxParallelism, options };
    buildSinkTopology(this, sink, options, context, {
      addSinkNode: (stream, name, createOperator, opts) =>
        void addOperator(stream.graph, name, opts, false, createOperator as () => Operator<unknown, unknown>, [stream.input()], 'sink'),
    });
  }
}

/** The output of one operator; its side outputs can be taken from it. */
export class SingleOutputStream<T> extends DataStream<T> {
  constructor(graph: StreamGraph, readonly node: StreamNode) {
    super(graph, [{ node, tag: null }]);
  }

  getSideOutput<S>(tag: OutputTag<S>): DataStream<S> {
    return new DataStream<S>(this.graph, [{ node: this.node, tag: tag.id }]);
  }
}

export class KeyedStream<K extends StateKey, T> extends DataStream<T> {
  constructor(graph: StreamGraph, producers: readonly Producer[], readonly key: (value: T) => K) {
    super(graph, producers, { kind: 'hash', key: key as KeySelector<unknown> });
  }

  /** The stream before keyBy (the same producers): for a phase that runs before the exchange (window localAggregation). */
  inputStream(): DataStream<T> {
    return new DataStream<T>(this.graph, this.producers);
  }

  /** A keyed low-level hook: the operator gets keyed state; records arrive partitioned by key. */
  transformKeyed<R>(name: string, createOperator: () => Operator<T, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    const node = addOperator(this.graph, name, options, true, createOperator as () => Operator<unknown, unknown>, [this.input()]);
    return new SingleOutputStream<R>(this.graph, node);
  }

  /**
   * A keyed process function: keyed state and timers, `ctx.key` typed as the `keyBy` key. (Two
   * overloads rather than a union parameter, so that an object literal's parameters are typed.)
   */
  override process<R>(fn: KeyedProcessFunction<K, T, R>, options?: OperatorOptions): SingleOutputStream<R>;
  override process<R>(fn: ProcessFunction<T, R>, options?: OperatorOptions): SingleOutputStream<R>;
  override process<R>(fn: KeyedProcessFunction<K, T, R> | ProcessFunction<T, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    const name = options.name ?? 'process';
    const key = this.key as KeySelector<unknown>;
    return this.transformKeyed<R>(name, () => new KeyedProcessOperator<K, R>(name, perSubtask(fn) as KeyedProcessFunction<K, unknown, R>, [key]), options);
  }

  /** Windows per key: tumbling, sliding or session, in event or processing time (see WindowedStream). */
  window(assigner: WindowAssigner): WindowedStream<K, T> {
    return new WindowedStream<K, T>(this, assigner);
  }

  /**
   * Group-by aggregate over a changelog: +I/+U rows are added, -U/-D rows retracted, and the
   * result per key is emitted as a changelog (+I first, -U old/+U new, -D when the group empties).
   */
  aggregateChangelog<IN, ACC, OUT>(
    this: KeyedStream<K, Change<IN>>,
    fn: ChangelogAggregateFunction<K, IN, ACC, OUT>,
    options: OperatorOptions & GroupAggregateOptions = {},
  ): SingleOutputStream<Change<OUT>> {
    const name = options.name ?? 'group-aggregate';
    const key = this.key;
    if (options.localAggregation) {
      if (!fn.merge) throw new ConfigError('aggregateChangelog.localAggregation', 'needs merge(a, b) on the aggregate function: the keyed phase merges partial accumulators; add merge or leave localAggregation out');
      const localName = `${name}-local`;
      return this.inputStream()
        .transform<GroupPartial<K, ACC>>(localName, () => new LocalGroupAggregateOperator<K, IN, ACC, OUT>(localName, key, fn), { name: localName, ...(options.uid !== undefined ? { uid: `${options.uid}-local` } : {}) })
        .keyBy((p) => p.key)
        .transformKeyed<Change<OUT>>(name, () => new MergingGroupAggregateOperator<K, IN, ACC, OUT>(name, fn, options), options);
    }
    return this.transformKeyed<Change<OUT>>(name, () => new GroupAggregateOperator<K, IN, ACC, OUT>(name, key, fn, options), options);
  }

  /** One row per key: the first or the last (by arrival or event time), as a changelog (keep-last retracts the replaced row). */
  deduplicate(dedup: DeduplicateOptions, options: OperatorOptions = {}): SingleOutputStream<Change<T>> {
    const name = options.name ?? `deduplicate-keep-${dedup.keep}`;
    const key = this.key;
    return this.transformKeyed<Change<T>>(name, () => new DeduplicateOperator<K, T>(name, key, dedup), options);
  }

  /** Continuous top-N per key over a changelog (append-only input: +I rows); emits rank changes as a changelog. */
  topN<IN, RK extends StateKey>(this: KeyedStream<K, Change<IN>>, topN: TopNOptions<IN, RK>, options: OperatorOptions = {}): SingleOutputStream<Change<RankedRow<K, IN>>> {
    const name = options.name ?? `top-${topN.n}`;
    const key = this.key;
    return this.transformKeyed<Change<RankedRow<K, IN>>>(name, () => new TopNOperator<K, IN, RK>(name, key, topN), options);
  }

  /** Exact running count of distinct `valueOf` per key (MapState), as a changelog of { key, count }. */
  countDistinct<V extends StateKey>(valueOf: (value: T) => V, options: OperatorOptions & CountDistinctOptions = {}): SingleOutputStream<Change<DistinctCount<K>>> {
    const name = options.name ?? 'count-distinct';
    const key = this.key;
    return this.transformKeyed<Change<DistinctCount<K>>>(name, () => new CountDistinctOperator<K, T, V>(name, key, valueOf, options), options);
  }

  /** Approximate running count of distinct `valueOf` per key (HyperLogLog sketch in keyed state), as a changelog of { key, count }. */
  approxCountDistinct<V extends StateKey>(valueOf: (value: T) => V, options: OperatorOptions & ApproxCountDistinctOptions = {}): SingleOutputStream<Change<DistinctCount<K>>> {
    const name = options.name ?? 'approx-count-distinct';
    const key = this.key;
    return this.transformKeyed<Change<DistinctCount<K>>>(name, () => new ApproxCountDistinctOperator<K, T, V>(name, key, valueOf, options), options);
  }

  /** A running reduce per key: emits the new accumulated value for every record. */
  reduce(fn: (accumulated: T, value: T) => T, options: OperatorOptions = {}): SingleOutputStream<T> {
    return this.process<T>(new ReduceFunction<K, T>(fn), { name: 'reduce', ...options });
  }
}

class ReduceFunction<K, T> implements KeyedProcessFunction<K, T, T> {
  private state!: import('../../state/handles.ts').ValueState<T>;
  constructor(private readonly fn: (a: T, b: T) => T) {}
  open(ctx: import('../../operators/functions.ts').KeyedRuntimeContext): void {
    this.state = ctx.getState<T>({ kind: 'value', name: 'reduce' });
  }
  processElement(value: T, _ctx: unknown, out: Collector<T>): void {
    const prev = this.state.value();
    const next = prev === undefined ? value : this.fn(prev, value);
    this.state.update(next);
    out.collect(next);
  }
}

export class ConnectedStreams<A, B> {
  constructor(
    private readonly graph: StreamGraph,
    private readonly first: InputSpec,
    private readonly second: InputSpec,
  ) {}

  process<R>(fn: CoProcessFunction<A, B, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    const name = options.name ?? 'coProcess';
    const node = addOperator(this.graph, name, options, false, () => new CoProcessOperator<A, B, R>(name, perSubtask(fn)) as Operator<unknown, unknown>, [this.first, this.second]);
    return new SingleOutputStream<R>(this.graph, node);
  }

  keyBy<K extends StateKey>(keyA: (value: A) => K, keyB: (value: B) => K): KeyedConnectedStreams<K, A, B> {
    return new KeyedConnectedStreams<K, A, B>(this.graph, this.first.producers, this.second.producers, keyA, keyB);
  }
}

export class KeyedConnectedStreams<K extends StateKey, A, B> {
  constructor(
    private readonly graph: StreamGraph,
    private readonly first: readonly Producer[],
    private readonly second: readonly Producer[],
    private readonly keyA: (value: A) => K,
    private readonly keyB: (value: B) => K,
  ) {}

  /** A keyed two-input low-level hook, for joins. */
  transformKeyed<R>(name: string, createOperator: (keys: [KeySelector<unknown>, KeySelector<unknown>]) => Operator<A | B, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    const keys: [KeySelector<unknown>, KeySelector<unknown>] = [this.keyA as KeySelector<unknown>, this.keyB as KeySelector<unknown>];
    const node = addOperator(this.graph, name, options, true, () => createOperator(keys) as Operator<unknown, unknown>, [
      { producers: this.first, partitioning: { kind: 'hash', key: keys[0] } },
      { producers: this.second, partitioning: { kind: 'hash', key: keys[1] } },
    ]);
    return new SingleOutputStream<R>(this.graph, node);
  }

  process<R>(fn: KeyedCoProcessFunction<K, A, B, R>, options: OperatorOptions = {}): SingleOutputStream<R> {
    const name = options.name ?? 'coProcess';
    return this.transformKeyed<R>(name, (keys) => new KeyedProcessOperator<K, R>(name, perSubtask(fn) as KeyedCoProcessFunction<K, unknown, unknown, R>, keys), options);
  }
}
