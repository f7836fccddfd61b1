/**
 * The local phase of a group aggregate with local pre-aggregation (Flink's mini-batch
 * local-global aggregation): runs with its input, before the exchange, and folds each input batch
 * per key into one partial `{ key, rows, acc }` (rows added minus retracted, their accumulator from
 * createAccumulator with add and retract), emitted at the end of the batch with the time of the
 * key's last row. The keyed phase (MergingGroupAggregateOperator) merges partials. The batch is the
 * mini-batch: nothing is held between batches, so the phase has no state and adds no latency.
 */
import { userFunctionError } from '../../runtime/errors.ts';
import { keyId, type KeyId } from '../../state/key-codec.ts';
import type { StateKey } from '../../state/key-groups.ts';
import type { Change } from '../changelog.ts';
import type { Operator, OperatorContext, Output } from '../operator.ts';
import type { ChangelogAggregateFunction, GroupPartial } from './group-aggregate.ts';

export class LocalGroupAggregateOperator<K extends StateKey, IN, ACC, OUT> implements Operator<Change<IN>, GroupPartial<K, ACC>> {
  private out!: Output<GroupPartial<K, ACC>>;
  private readonly pending = new Map<KeyId, [partial: GroupPartial<K, ACC>, time: number]>();

  constructor(
    readonly name: string,
    private readonly keyOf: (change: Change<IN>) => K,
    private readonly fn: ChangelogAggregateFunction<K, IN, ACC, OUT>,
  ) {}

  open(ctx: OperatorContext<GroupPartial<K, ACC>>): void {
    this.out = ctx.output;
  }

  processBatch(values: readonly Change<IN>[], times: ArrayLike<number>): void {
    const { fn, pending } = this;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const change = values[i]!;
        const key = this.keyOf(change);
        const id = keyId(key);
        let e = pending.get(id);
        if (e === undefined) pending.set(id, (e = [{ key, rows: 0, acc: fn.createAccumulator() }, times[i]!]));
        else e[1] = times[i]!;
        const p = e[0];
        if (change.kind === '+I' || change.kind === '+U') {
          p.rows++;
          p.acc = fn.add(change.row, p.acc);
        } else {
          p.rows--;
          p.acc = fn.retract(change.row, p.acc);
        }
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
    for (const [p, t] of pending.values()) this.out.emit(p, t);
    pending.clear();
  }
}
