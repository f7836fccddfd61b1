/**
 * Running count of distinct values per key, exact: every value seen is a MapState entry ('seen'),
 * the count a ValueState ('count'). Emits a changelog of `{ key, count }`: +I for the first value,
 * then -U/+U each time a new value raises the count (a repeated value emits nothing).
 *
 * With `stateTtlMs` (processing time), state not written for that long is dropped, entry by entry:
 * meant for groups that stop receiving records (a day's DAU key after the day); pick a TTL longer
 * than a group stays active, or an old value whose entry expired is counted again.
 */
import { userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { MapState, ValueState } from '../../state/handles.ts';
import { keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import type { Change } from '../changelog.ts';
import type { Operator, OperatorContext } from '../operator.ts';

export interface DistinctCount<K> {
  key: K;
  count: number;
}

export interface CountDistinctOptions {
  stateTtlMs?: number;
}

export class CountDistinctOperator<K extends StateKey, T, V extends StateKey> implements Operator<T, Change<DistinctCount<K>>> {
  private backend!: KeyedStateBackend;
  private ctx!: OperatorContext<Change<DistinctCount<K>>>;
  private seen!: MapState<V, 1>;
  private count!: ValueState<number>;

  constructor(
    readonly name: string,
    private readonly keyOf: (value: T) => K,
    private readonly valueOf: (value: T) => V,
    private readonly options: CountDistinctOptions = {},
  ) {}

  open(ctx: OperatorContext<Change<DistinctCount<K>>>): void {
    if (!ctx.keyedState) throw new Error(`operator '${this.name}' must follow keyBy`);
    this.ctx = ctx;
    this.backend = ctx.keyedState;
    const ttl = this.options.stateTtlMs ? { ttl: { ttlMs: this.options.stateTtlMs } } : {};
    this.seen = this.backend.getMapState<V, 1>({ kind: 'map', name: 'seen', ...ttl });
    this.count = this.backend.getValueState<number>({ kind: 'value', name: 'count', ...ttl });
  }

  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    const { backend, seen, count, keyOf, valueOf } = this;
    const out = this.ctx.output;
    const maxParallelism = backend.maxParallelism;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const record = values[i]!;
        const key = keyOf(record);
        backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        const v = valueOf(record);
        if (seen.contains(v)) continue;
        seen.put(v, 1);
        const before = count.value() ?? 0;
        count.update(before + 1);
        const ts = times[i]!;
        if (before === 0) out.emit({ kind: '+I', row: { key, count: 1 } }, ts);
        else {
          out.emit({ kind: '-U', row: { key, count: before } }, ts);
          out.emit({ kind: '+U', row: { key, count: before + 1 } }, ts);
        }
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }
}
