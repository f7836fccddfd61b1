/**
 * Exact distinct counts. `countDistinct(field)` (at the end) is the window aggregate.
 *
 * CountDistinctOperator: running count of distinct values per key, exact: every value seen is a MapState entry ('seen'),
 * the count a ValueState ('count'). Emits a changelog of `{ key, count }`: +I for the first value,
 * then -U/+U each time a new value raises the count (a repeated value emits nothing).
 *
 * With `stateTtlMs` (processing time), state not written for that long is dropped, entry by entry:
 * meant for groups that stop receiving records (a day's DAU key after the day); pick a TTL longer
 * than a group stays active, or an old value whose entry expired is counted again.
 */
import { userFunctionError } from '../../runtime/errors.ts';
import { describeType } from '../../runtime/plain-data.ts';
import type { AggregateFunction } from '../../state/descriptors.ts';
import type { StateSerializer } from '../../state/value-serializer.ts';
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

  processBatch(values: readonly T[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { backend, seen, count, keyOf, valueOf } = this;
    const out = this.ctx.output;
    const maxParallelism = backend.maxParallelism;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const record = values[i]!;
        const key = keyOf(record);
        if (keyGroups !== undefined) backend.setCurrentKey(key, keyGroups[i]!, keyHashes?.[i]);
        else backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
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

/** What `countDistinct` counts: values compared as a JS Set compares them. */
export type DistinctValue = string | number | bigint | boolean;

/**
 * The accumulator of `countDistinct` never leaves the state: the window operators and
 * AggregatingState hand it only to the aggregate's own add, merge and getResult, and write back
 * what add returns. So it needs no copy in or out, and no walk over its elements on every add
 * (each element is checked once, in add): a window with many distinct values stays O(1) per record.
 */
const distinctSetSerializer: StateSerializer<Set<DistinctValue>> = {
  copy: (s) => s,
  check: (s) => {
    if (!(s instanceof Set)) throw new TypeError(`countDistinct: its accumulator must be a Set, got ${describeType(s)}`);
  },
};

/**
 * Exact count of distinct values (of a field, or of what `valueOf` returns) as an AggregateFunction
 * for windows (`.window(...).aggregate(countDistinct('user'))`) and aggregating state. The
 * accumulator is a Set of the values, kept whole in state (so memory grows with the number of
 * distinct values per key and window; `hllAggregate` estimates in 4 KiB). Mergeable, so it works
 * with sliding and session windows; survives snapshots and restores on either backend.
 */
export function countDistinct<T>(field: (keyof T & string) | ((value: T) => DistinctValue)): AggregateFunction<T, Set<DistinctValue>, number> {
  const valueOf = typeof field === 'function' ? field : (value: T) => value[field] as DistinctValue;
  const name = typeof field === 'function' ? 'the value function' : `field '${field}'`;
  return {
    accumulatorSerializer: distinctSetSerializer,
    createAccumulator: () => new Set<DistinctValue>(),
    add: (value, acc) => {
      const v = valueOf(value);
      const t = typeof v;
      if (t !== 'string' && t !== 'number' && t !== 'bigint' && t !== 'boolean') {
        throw new TypeError(`countDistinct: ${name} gave ${describeType(v)}; count strings, numbers, bigints or booleans (e.g. a key string built from the value)`);
      }
      acc.add(v);
      return acc;
    },
    merge: (a, b) => {
      for (const v of b) a.add(v);
      return a;
    },
    getResult: (acc) => acc.size,
  };
}
