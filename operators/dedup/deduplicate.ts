/**
 * Deduplication per key (Flink's Deduplicate). Emits a changelog:
 *  - keep 'first' by arrival: the key's first row as +I, later rows dropped;
 *  - keep 'last' by arrival: +I for the first row, then -U (the replaced row) and +U (the new one);
 *  - by 'event-time': the row with the smallest (first) or largest (last) timestamp wins, so a
 *    row that arrives out of order and wins replaces the kept one with -U/+U. Ties: 'first' keeps
 *    the row it has, 'last' takes the newcomer.
 * State per key (ValueState 'kept': [timestamp, row], or just 1 for keep-first by arrival) with an
 * optional TTL (ms, processing time): after it expires, the key is new again.
 */
import { userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { ValueState } from '../../state/handles.ts';
import { keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import type { Change } from '../changelog.ts';
import type { Operator, OperatorContext } from '../operator.ts';

export interface DeduplicateOptions {
  keep: 'first' | 'last';
  /** Which row is first or last: in order of arrival (default) or of event time. */
  order?: 'arrival' | 'event-time';
  /** Forget a key this long (ms, processing time) after its state was last written. */
  stateTtlMs?: number;
}

export class DeduplicateOperator<K extends StateKey, T> implements Operator<T, Change<T>> {
  private backend!: KeyedStateBackend;
  private ctx!: OperatorContext<Change<T>>;
  private kept!: ValueState<[number, T] | 1>;

  constructor(
    readonly name: string,
    private readonly keyOf: (value: T) => K,
    private readonly options: DeduplicateOptions,
  ) {}

  open(ctx: OperatorContext<Change<T>>): void {
    if (!ctx.keyedState) throw new Error(`operator '${this.name}' must follow keyBy`);
    this.ctx = ctx;
    this.backend = ctx.keyedState;
    const ttl = this.options.stateTtlMs;
    this.kept = this.backend.getValueState({ kind: 'value', name: 'kept', ...(ttl ? { ttl: { ttlMs: ttl } } : {}) });
  }

  processBatch(values: readonly T[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { backend, kept, keyOf } = this;
    const out = this.ctx.output;
    const maxParallelism = backend.maxParallelism;
    const first = this.options.keep === 'first';
    const byTime = this.options.order === 'event-time';
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const row = values[i]!;
        const key = keyOf(row);
        if (keyGroups !== undefined) backend.setCurrentKey(key, keyGroups[i]!, keyHashes?.[i]);
        else backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        const ts = times[i]!;
        const previous = kept.value();
        if (previous === undefined) {
          kept.update(first && !byTime ? 1 : [ts, row]);
          out.emit({ kind: '+I', row }, ts);
          continue;
        }
        if (first && !byTime) continue;
        const [prevTs, prevRow] = previous as [number, T];
        const wins = !byTime || (first ? ts < prevTs : ts >= prevTs);
        if (!wins) continue;
        kept.update([ts, row]);
        out.emit({ kind: '-U', row: prevRow }, ts);
        out.emit({ kind: '+U', row }, ts);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }
}
