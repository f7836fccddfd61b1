/**
 * A keyed group-by aggregate over a changelog (Flink's GroupAggFunction): +I and +U rows are
 * added to the key's accumulator, -U and -D rows are retracted from it, and the operator emits its
 * own changelog of results: +I for a group's first result, -U (old) then +U (new) when it changes,
 * nothing when it does not, and -D (last result) when the group's rows are all retracted.
 *
 *     orders                                   // DataStream<Change<Order>> from CDC
 *       .keyBy((c) => c.row.shop)
 *       .aggregateChangelog({
 *         createAccumulator: () => ({ sum: 0 }),
 *         add: (o, acc) => ({ sum: acc.sum + o.amount }),
 *         retract: (o, acc) => ({ sum: acc.sum - o.amount }),
 *         getResult: (acc, shop) => ({ shop, revenue: acc.sum }),
 *       });                                    // DataStream<Change<{ shop, revenue }>>
 *
 * State per key (ValueState 'group'): [rows counted, accumulator, last result]. The row count,
 * not the accumulator, decides when a group is empty. A retraction for a key with no rows (e.g.
 * its +I came before the job started) is ignored and counted as 'retractionsOfEmptyGroup'.
 */
import { userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { ValueState } from '../../state/handles.ts';
import { keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import type { StateTtlConfig } from '../../state/descriptors.ts';
import type { Change } from '../changelog.ts';
import type { Operator, OperatorContext, Output } from '../operator.ts';
import { shallowEqual } from './changelog-equality.ts';

export interface ChangelogAggregateFunction<K, IN, ACC, OUT> {
  createAccumulator(): ACC;
  /** May update `acc` in place; the operator writes the returned accumulator back. */
  add(value: IN, acc: ACC): ACC;
  retract(value: IN, acc: ACC): ACC;
  getResult(acc: ACC, key: K): OUT;
  /** When two results are the same (no -U/+U is emitted). Default: shallowEqual. */
  equals?(a: OUT, b: OUT): boolean;
  /**
   * Combines two accumulators (each built from createAccumulator with add and retract), for
   * local pre-aggregation (`localAggregation`): the keyed operator merges partial accumulators.
   */
  merge?(a: ACC, b: ACC): ACC;
}

/**
 * What the local phase of a group aggregate sends (local-group-aggregate.ts): the change of one
 * key over some of its rows: `rows` added minus retracted, and their accumulator.
 */
export interface GroupPartial<K, ACC> {
  key: K;
  rows: number;
  acc: ACC;
}

export interface GroupAggregateOptions {
  /** Drop a group's state this long (ms, processing time) after its last change. */
  stateTtlMs?: number;
  /**
   * Pre-aggregate before the exchange (Flink's mini-batch local-global aggregation, for skewed
   * keys): each input subtask folds each batch of rows per key into one partial, which the keyed
   * operator merges (the function needs `merge`). Final results are the same; intermediate
   * updates are fewer (one per key and input batch instead of one per row), as in Flink.
   */
  localAggregation?: boolean;
}

type Group<ACC, OUT> = [number, ACC, OUT];

/** `R`: what arrives, rows' changes (default) or, in the keyed phase of two, partials (MergingGroupAggregateOperator). */
export class GroupAggregateOperator<K extends StateKey, IN, ACC, OUT, R = Change<IN>> implements Operator<R, Change<OUT>> {
  protected backend!: KeyedStateBackend;
  protected ctx!: OperatorContext<Change<OUT>>;
  protected state!: ValueState<Group<ACC, OUT>>;
  protected readonly equals: (a: OUT, b: OUT) => boolean;

  constructor(
    readonly name: string,
    private readonly keyOf: (change: Change<IN>) => K,
    protected readonly fn: ChangelogAggregateFunction<K, IN, ACC, OUT>,
    private readonly options: GroupAggregateOptions = {},
  ) {
    this.equals = fn.equals ? fn.equals.bind(fn) : shallowEqual;
  }

  open(ctx: OperatorContext<Change<OUT>>): void {
    if (!ctx.keyedState) throw new Error(`operator '${this.name}' must follow keyBy`);
    this.ctx = ctx;
    this.backend = ctx.keyedState;
    const ttl: StateTtlConfig | undefined = this.options.stateTtlMs ? { ttlMs: this.options.stateTtlMs } : undefined;
    this.state = this.backend.getValueState<Group<ACC, OUT>>({ kind: 'value', name: 'group', ...(ttl ? { ttl } : {}) });
  }

  processBatch(values: readonly R[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    this.processRows(values as unknown as readonly Change<IN>[], times, keyGroups, keyHashes);
  }

  /** A non-empty group's new row count and accumulator: stores them and emits -U/+U if the result changed. */
  protected update(key: K, ts: number, rows: number, acc: ACC, previous: OUT): void {
    const result = this.fn.getResult(acc, key);
    this.state.update([rows, acc, result]);
    if (this.equals(previous, result)) return;
    this.ctx.output.emit({ kind: '-U', row: previous }, ts);
    this.ctx.output.emit({ kind: '+U', row: result }, ts);
  }

  private processRows(values: readonly Change<IN>[], times: ArrayLike<number>, keyGroups: ArrayLike<number> | undefined, keyHashes?: ArrayLike<number>): void {
    const { backend, state, fn, keyOf } = this;
    const out: Output<Change<OUT>> = this.ctx.output;
    const maxParallelism = backend.maxParallelism;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const change = values[i]!;
        const key = keyOf(change);
        if (keyGroups !== undefined) backend.setCurrentKey(key, keyGroups[i]!, keyHashes?.[i]);
        else backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        const ts = times[i]!;
        const group = state.value();
        const accumulate = change.kind === '+I' || change.kind === '+U';
        if (group === undefined) {
          if (!accumulate) {
            this.ctx.metrics.count('retractionsOfEmptyGroup');
            continue;
          }
          const acc = fn.add(change.row, fn.createAccumulator());
          const result = fn.getResult(acc, key);
          state.update([1, acc, result]);
          out.emit({ kind: '+I', row: result }, ts);
          continue;
        }
        const [count, acc0, previous] = group;
        const n = accumulate ? count + 1 : count - 1;
        if (n <= 0) {
          state.clear();
          out.emit({ kind: '-D', row: previous }, ts);
          continue;
        }
        this.update(key, ts, n, accumulate ? fn.add(change.row, acc0) : fn.retract(change.row, acc0), previous);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }
}

/**
 * The keyed (second) phase of a group aggregate with local pre-aggregation: merges the partials
 * of local-group-aggregate.ts into the same state, and emits the same changelog, as
 * GroupAggregateOperator does for rows. A partial that would take a group's row count below zero
 * (retractions of rows the job never saw) is counted as 'retractionsOfEmptyGroup'.
 */
export class MergingGroupAggregateOperator<K extends StateKey, IN, ACC, OUT> extends GroupAggregateOperator<K, IN, ACC, OUT, GroupPartial<K, ACC>> {
  private readonly merge: (a: ACC, b: ACC) => ACC;

  constructor(name: string, fn: ChangelogAggregateFunction<K, IN, ACC, OUT>, options: GroupAggregateOptions = {}) {
    super(name, () => undefined as never, fn, options);
    if (!fn.merge) throw new Error(`group aggregate '${name}': local aggregation needs merge(a, b) on the aggregate function`);
    this.merge = fn.merge.bind(fn);
  }

  override processBatch(partials: readonly GroupPartial<K, ACC>[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { backend, state, fn } = this;
    const out: Output<Change<OUT>> = this.ctx.output;
    const maxParallelism = backend.maxParallelism;
    let i = 0;
    try {
      for (; i < partials.length; i++) {
        const p = partials[i]!;
        const key = p.key;
        if (keyGroups !== undefined) backend.setCurrentKey(key, keyGroups[i]!, keyHashes?.[i]);
        else backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        const ts = times[i]!;
        const group = state.value();
        if (group === undefined) {
          if (p.rows <= 0) {
            this.ctx.metrics.count('retractionsOfEmptyGroup');
            continue;
          }
          const result = fn.getResult(p.acc, key);
          state.update([p.rows, p.acc, result]);
          out.emit({ kind: '+I', row: result }, ts);
          continue;
        }
        const [count, acc0, previous] = group;
        const n = count + p.rows;
        if (n <= 0) {
          if (n < 0) this.ctx.metrics.count('retractionsOfEmptyGroup');
          state.clear();
          out.emit({ kind: '-D', row: previous }, ts);
          continue;
        }
        this.update(key, ts, n, this.merge(acc0, p.acc), previous);
      }
    } catch (e) {
      throw userFunctionError(this.name, partials[i], e);
    }
  }
}
