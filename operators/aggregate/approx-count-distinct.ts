/**
 * Approximate count distinct with a HyperLogLog sketch (./hyperloglog.ts) in keyed state: a fixed
 * 2^precision bytes per key however many values. Two forms:
 *  - `ApproxCountDistinctOperator`: a running estimate per key (ValueState 'hll' holds the sketch),
 *    emitted as a changelog of `{ key, count }` when the rounded estimate changes; the sketch is
 *    written back only when a register grows.
 *  - `hllAggregate(valueOf)`: an AggregateFunction for windows (`.window(...).aggregate(...)`); it
 *    merges, so it works on sliding panes and sessions (e.g. a day's DAU fired every minute).
 */
import type { StateSerializer } from '../../state/value-serializer.ts';
import { userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { AggregateFunction } from '../../state/descriptors.ts';
import type { ValueState } from '../../state/handles.ts';
import { keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import type { Change } from '../changelog.ts';
import type { Operator, OperatorContext } from '../operator.ts';
import type { CountDistinctOptions, DistinctCount } from './count-distinct.ts';
import { createSketch, DEFAULT_HLL_PRECISION, sketchAdd, sketchEstimate, sketchMerge } from './hyperloglog.ts';

export interface ApproxCountDistinctOptions extends CountDistinctOptions {
  /** log2 of the number of registers (4..16, default 12: 4 KiB, about 1.6 % standard error). */
  precision?: number;
}

/**
 * The sketch never leaves this operator, which copies it before changing it and writes back the
 * copy: no copy in or out is needed (the default would copy 4 KiB twice more per record).
 */
const ownedSketch: StateSerializer<Uint8Array> = {
  copy: (s) => s,
  check: (s) => {
    if (!(s instanceof Uint8Array)) throw new TypeError('a HyperLogLog sketch must be a Uint8Array');
  },
};

export class ApproxCountDistinctOperator<K extends StateKey, T, V extends StateKey> implements Operator<T, Change<DistinctCount<K>>> {
  private backend!: KeyedStateBackend;
  private ctx!: OperatorContext<Change<DistinctCount<K>>>;
  private sketch!: ValueState<Uint8Array>;
  private last!: ValueState<number>;
  private readonly precision: number;

  constructor(
    readonly name: string,
    private readonly keyOf: (value: T) => K,
    private readonly valueOf: (value: T) => V,
    private readonly options: ApproxCountDistinctOptions = {},
  ) {
    this.precision = options.precision ?? DEFAULT_HLL_PRECISION;
    createSketch(this.precision);
  }

  open(ctx: OperatorContext<Change<DistinctCount<K>>>): void {
    if (!ctx.keyedState) throw new Error(`operator '${this.name}' must follow keyBy`);
    this.ctx = ctx;
    this.backend = ctx.keyedState;
    const ttl = this.options.stateTtlMs ? { ttl: { ttlMs: this.options.stateTtlMs } } : {};
    this.sketch = this.backend.getValueState<Uint8Array>({ kind: 'value', name: 'hll', serializer: ownedSketch, ...ttl });
    this.last = this.backend.getValueState<number>({ kind: 'value', name: 'hll-count', ...ttl });
  }

  processBatch(values: readonly T[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { backend, keyOf, valueOf } = this;
    const out = this.ctx.output;
    const maxParallelism = backend.maxParallelism;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const record = values[i]!;
        const key = keyOf(record);
        if (keyGroups !== undefined) backend.setCurrentKey(key, keyGroups[i]!, keyHashes?.[i]);
        else backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        const stored = this.sketch.value();
        // The stored sketch is the state's own (ownedSketch: no copy out): copy it before changing it.
        const sketch = stored === undefined ? createSketch(this.precision) : new Uint8Array(stored);
        if (!sketchAdd(sketch, valueOf(record))) continue;
        this.sketch.update(sketch);
        const count = Math.round(sketchEstimate(sketch));
        const before = this.last.value();
        if (before === count) continue;
        this.last.update(count);
        const ts = times[i]!;
        if (before === undefined) out.emit({ kind: '+I', row: { key, count } }, ts);
        else {
          out.emit({ kind: '-U', row: { key, count: before } }, ts);
          out.emit({ kind: '+U', row: { key, count } }, ts);
        }
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }
}

/** Approximate distinct count of `valueOf` as a (mergeable) window aggregate; the result is the rounded estimate. */
export function hllAggregate<T>(valueOf: (value: T) => StateKey, precision = DEFAULT_HLL_PRECISION): AggregateFunction<T, Uint8Array, number> {
  createSketch(precision);
  return {
    createAccumulator: () => createSketch(precision),
    add: (value, acc) => {
      const sketch = new Uint8Array(acc);
      sketchAdd(sketch, valueOf(value));
      return sketch;
    },
    merge: (a, b) => sketchMerge(a, b),
    getResult: (acc) => Math.round(sketchEstimate(acc)),
  };
}
