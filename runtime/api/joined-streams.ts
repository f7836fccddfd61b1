/**
 * The join API: builders that end in a keyed two-input operator from `operators/join/`.
 *
 *     // interval join: right.ts in [left.ts - 5s, left.ts + 10s]
 *     gifts.join(views).where((g) => g.room).equalTo((v) => v.room).between(-5000, 10_000).apply((g, v) => ({ ...g, viewer: v.user }));
 *     // window join: pairs in the same 1-minute tumbling window, emitted at the window's end
 *     gifts.join(views).where(...).equalTo(...).window(tumblingWindows(60_000)).apply((g, v, w) => ...);
 *     // regular join with state TTL: a changelog (+I, -D/+I as matches come and go)
 *     orders.join(users).where(...).equalTo(...).leftOuter((o, u) => ({ ...o, name: u?.name ?? null }), { stateTtlMs: 3_600_000 });
 *     // changelog inputs (e.g. CDC)
 *     orderChanges.joinChanges(userChanges).where(...).equalTo(...).inner((o, u) => ...);
 *     // event-time temporal join against a versioned dimension table fed by its CDC
 *     gifts.temporalJoin(roomChanges).where((g) => g.room).equalTo((r) => r.id).apply((g, room) => ..., { kind: 'left' });
 */
import type { Change } from '../../operators/changelog.ts';
import { IntervalJoinOperator, validateInterval } from '../../operators/join/interval-join.ts';
import type { LateRecord } from '../../operators/join/join-keys.ts';
import { RegularJoinOperator, type JoinKind } from '../../operators/join/regular-join.ts';
import { TemporalJoinOperator } from '../../operators/join/temporal-join.ts';
import { WindowJoinOperator, type JoinWindows, type WindowInfo } from '../../operators/join/window-join.ts';
import type { OutputTag } from '../../operators/operator.ts';
import type { StateKey } from '../../state/key-groups.ts';
import type { DataStream, KeyedConnectedStreams, OperatorOptions, SingleOutputStream } from './data-stream.ts';

export interface EventTimeJoinOptions<L, R> extends OperatorOptions {
  /** Records that arrive behind the watermark go here (else they are only counted). */
  lateOutput?: OutputTag<LateRecord<L, R>>;
}

export interface RegularJoinOptions<L, R> extends OperatorOptions {
  /** Forget a side's rows of a key after this long without a write (ms, processing time). Default: never. */
  stateTtlMs?: number;
  /** Identity of a left row (default: its JSON text); with it, state holds one entry per unique key. */
  leftUniqueKey?: (row: L) => StateKey;
  rightUniqueKey?: (row: R) => StateKey;
}

export interface TemporalJoinOptions<F, D> extends OperatorOptions {
  /** inner (default): facts without a valid dimension version are dropped; left: joined with null. */
  kind?: 'inner' | 'left';
  lateOutput?: OutputTag<LateRecord<F, Change<D>>>;
}

/** `left.join(right)`: choose the keys next. */
export class JoinBuilder<L, R> {
  constructor(
    private readonly left: DataStream<L>,
    private readonly right: DataStream<R>,
  ) {}

  where<K extends StateKey>(leftKey: (row: L) => K): { equalTo(rightKey: (row: R) => K): KeyedJoin<K, L, R> } {
    return { equalTo: (rightKey) => new KeyedJoin<K, L, R>(this.left, this.right, leftKey, rightKey, [false, false]) };
  }
}

/** `left.joinChanges(right)` on two changelog streams: only regular joins apply. */
export class ChangelogJoinBuilder<L, R> {
  constructor(
    private readonly left: DataStream<Change<L>>,
    private readonly right: DataStream<Change<R>>,
  ) {}

  where<K extends StateKey>(leftKey: (row: L) => K): { equalTo(rightKey: (row: R) => K): RegularJoin<K, L, R> } {
    return {
      equalTo: (rightKey) =>
        new RegularJoin<K, L, R>(this.left as DataStream<unknown>, this.right as DataStream<unknown>, (c) => leftKey((c as Change<L>).row), (c) => rightKey((c as Change<R>).row), [true, true]),
    };
  }
}

/** Regular (unbounded) joins; the output is a changelog. */
export class RegularJoin<K extends StateKey, L, R> {
  constructor(
    protected readonly left: DataStream<unknown>,
    protected readonly right: DataStream<unknown>,
    protected readonly leftKey: (value: unknown) => K,
    protected readonly rightKey: (value: unknown) => K,
    private readonly changelog: readonly [boolean, boolean],
  ) {}

  inner<O>(join: (left: L, right: R) => O, options: RegularJoinOptions<L, R> = {}): SingleOutputStream<Change<O>> {
    return this.regular('inner', join as (l: L | null, r: R | null) => O, options);
  }

  leftOuter<O>(join: (left: L, right: R | null) => O, options: RegularJoinOptions<L, R> = {}): SingleOutputStream<Change<O>> {
    return this.regular('left', join as (l: L | null, r: R | null) => O, options);
  }

  rightOuter<O>(join: (left: L | null, right: R) => O, options: RegularJoinOptions<L, R> = {}): SingleOutputStream<Change<O>> {
    return this.regular('right', join as (l: L | null, r: R | null) => O, options);
  }

  fullOuter<O>(join: (left: L | null, right: R | null) => O, options: RegularJoinOptions<L, R> = {}): SingleOutputStream<Change<O>> {
    return this.regular('full', join, options);
  }

  private regular<O>(kind: JoinKind, join: (l: L | null, r: R | null) => O, options: RegularJoinOptions<L, R>): SingleOutputStream<Change<O>> {
    const name = options.name ?? `${kind}-join`;
    const { changelog } = this;
    const spec = {
      kind,
      join,
      changelog,
      ...(options.stateTtlMs === undefined ? {} : { stateTtlMs: options.stateTtlMs }),
      uniqueKeys: [options.leftUniqueKey, options.rightUniqueKey] as const,
    };
    return this.left
      .connect(this.right)
      .keyBy(this.leftKey, this.rightKey)
      .transformKeyed<Change<O>>(name, (keys) => new RegularJoinOperator<L, R, O>(name, spec, keys), options);
  }
}

/** Joins of two insert-only streams on equal keys. */
export class KeyedJoin<K extends StateKey, L, R> extends RegularJoin<K, L, R> {
  constructor(left: DataStream<L>, right: DataStream<R>, leftKey: (row: L) => K, rightKey: (row: R) => K, changelog: readonly [boolean, boolean]) {
    super(left as DataStream<unknown>, right as DataStream<unknown>, leftKey as (v: unknown) => K, rightKey as (v: unknown) => K, changelog);
  }

  /** The inputs with their record types (the base class holds them as unknown, since changelog joins share it). */
  private typed(): KeyedConnectedStreams<K, L, R> {
    return (this.left as DataStream<L>).connect(this.right as DataStream<R>).keyBy(this.leftKey as (row: L) => K, this.rightKey as (row: R) => K);
  }

  /** Interval join: right time - left time in [lowerMs, upperMs]; pairs emitted at the later of the two times. */
  between(lowerMs: number, upperMs: number): { apply<O>(join: (left: L, right: R) => O, options?: EventTimeJoinOptions<L, R>): SingleOutputStream<O> } {
    validateInterval(lowerMs, upperMs);
    return {
      apply: <O>(join: (left: L, right: R) => O, options: EventTimeJoinOptions<L, R> = {}) => {
        const name = options.name ?? 'interval-join';
        const spec = { lowerMs, upperMs, join, ...(options.lateOutput ? { lateOutput: options.lateOutput } : {}) };
        return this.typed()
          .transformKeyed<O>(name, (keys) => new IntervalJoinOperator<L, R, O>(name, spec, keys), options);
      },
    };
  }

  /** Window join: pairs of the same key in the same event-time window, emitted when the window ends. */
  window(windows: JoinWindows): { apply<O>(join: (left: L, right: R, window: WindowInfo) => O, options?: EventTimeJoinOptions<L, R>): SingleOutputStream<O> } {
    return {
      apply: <O>(join: (left: L, right: R, window: WindowInfo) => O, options: EventTimeJoinOptions<L, R> = {}) => {
        const name = options.name ?? 'window-join';
        const spec = { windows, join, ...(options.lateOutput ? { lateOutput: options.lateOutput } : {}) };
        return this.typed()
          .transformKeyed<O>(name, (keys) => new WindowJoinOperator<L, R, O>(name, spec, keys), options);
      },
    };
  }
}

/** `facts.temporalJoin(dimensionChanges)`: choose the keys next. */
export class TemporalJoinBuilder<F, D> {
  constructor(
    private readonly facts: DataStream<F>,
    private readonly dimension: DataStream<Change<D>>,
  ) {}

  where<K extends StateKey>(factKey: (fact: F) => K): { equalTo(dimensionKey: (row: D) => K): TemporalJoin<K, F, D> } {
    return { equalTo: (dimensionKey) => new TemporalJoin<K, F, D>(this.facts, this.dimension, factKey, dimensionKey) };
  }
}

export class TemporalJoin<K extends StateKey, F, D> {
  constructor(
    private readonly facts: DataStream<F>,
    private readonly dimension: DataStream<Change<D>>,
    private readonly factKey: (fact: F) => K,
    private readonly dimensionKey: (row: D) => K,
  ) {}

  /**
   * Joins each fact with the dimension row valid at the fact's time. An inner join (the default)
   * drops facts without one, so `join` always gets a row; a left join (`kind: 'left'`, or a kind
   * not known at compile time) calls it with null instead.
   */
  apply<O>(join: (fact: F, dimension: D) => O, options?: TemporalJoinOptions<F, D> & { kind?: 'inner' }): SingleOutputStream<O>;
  apply<O>(join: (fact: F, dimension: D | null) => O, options?: TemporalJoinOptions<F, D>): SingleOutputStream<O>;
  apply<O>(join: ((fact: F, dimension: D) => O) | ((fact: F, dimension: D | null) => O), options: TemporalJoinOptions<F, D> = {}): SingleOutputStream<O> {
    const name = options.name ?? 'temporal-join';
    // The operator passes null only to a left join (an inner join drops facts without a version).
    const spec = { kind: options.kind ?? 'inner', join: join as (fact: F, dimension: D | null) => O, ...(options.lateOutput ? { lateOutput: options.lateOutput } : {}) };
    const dimensionKey = this.dimensionKey;
    return this.facts
      .connect(this.dimension)
      .keyBy(this.factKey, (c: Change<D>) => dimensionKey(c.row))
      .transformKeyed<O>(name, (keys) => new TemporalJoinOperator<F, D, O>(name, spec, keys), options);
  }
}
