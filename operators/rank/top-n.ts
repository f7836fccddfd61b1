/**
 * Continuous top-N per key over a changelog (Flink's RetractableTopNFunction, with row numbers):
 * every row of the key is kept (MapState 'rows', by `rowKey`), and the current best N (ValueState
 * 'top'). After each change the new top N is compared rank by rank with the old one and the
 * difference is emitted: -U/+U where a rank's row changed, +I where a rank appeared, -D where one
 * disappeared. Append-only input is a changelog of +I rows.
 *
 * A -U immediately followed in the batch by a +U of the same row is treated as one update, so an
 * upstream aggregate's updates do not make the ranking flicker. When a row leaves the top N or
 * gets worse, the top N is recomputed from all rows of the key (a scan of 'rows'); otherwise an
 * update costs one insertion. `compare` should be total (break ties, e.g. by id) for ranks that do
 * not depend on arrival order.
 */
import { userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { MapState, ValueState } from '../../state/handles.ts';
import { keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import { shallowEqual } from '../aggregate/changelog-equality.ts';
import type { Change } from '../changelog.ts';
import type { Operator, OperatorContext, Output } from '../operator.ts';
import { insertTopN } from './window-top-n.ts';

function sameKey(a: StateKey, b: StateKey): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface RankedRow<K, T> {
  key: K;
  rank: number;
  row: T;
}

export interface TopNOptions<T, RK extends StateKey> {
  n: number;
  /** Negative when a ranks before b. */
  compare: (a: T, b: T) => number;
  /** Identity of a row, to find the row a -U or -D takes back. */
  rowKey: (row: T) => RK;
}

export class TopNOperator<K extends StateKey, T, RK extends StateKey> implements Operator<Change<T>, Change<RankedRow<K, T>>> {
  private backend!: KeyedStateBackend;
  private ctx!: OperatorContext<Change<RankedRow<K, T>>>;
  private rows!: MapState<RK, T>;
  private top!: ValueState<T[]>;

  constructor(
    readonly name: string,
    private readonly keyOf: (change: Change<T>) => K,
    private readonly options: TopNOptions<T, RK>,
  ) {
    if (!(Number.isInteger(options.n) && options.n > 0)) throw new RangeError(`top-N needs a positive whole N, got ${options.n}`);
  }

  open(ctx: OperatorContext<Change<RankedRow<K, T>>>): void {
    if (!ctx.keyedState) throw new Error(`operator '${this.name}' must follow keyBy`);
    this.ctx = ctx;
    this.backend = ctx.keyedState;
    this.rows = this.backend.getMapState<RK, T>({ kind: 'map', name: 'rows' });
    this.top = this.backend.getValueState<T[]>({ kind: 'value', name: 'top' });
  }

  processBatch(values: readonly Change<T>[], times: ArrayLike<number>, _input?: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const { backend, keyOf } = this;
    const { rowKey } = this.options;
    const maxParallelism = backend.maxParallelism;
    let i = 0;
    try {
      for (; i < values.length; i++) {
        const change = values[i]!;
        const next = values[i + 1];
        const rk = rowKey(change.row);
        if (change.kind === '-U' && next?.kind === '+U' && sameKey(rowKey(next.row), rk) && sameKey(keyOf(next), keyOf(change))) continue;
        const key = keyOf(change);
        if (keyGroups !== undefined) backend.setCurrentKey(key, keyGroups[i]!, keyHashes?.[i]);
        else backend.setCurrentKey(key, keyGroupOf(key, maxParallelism));
        this.apply(key, change, rk, times[i]!);
      }
    } catch (e) {
      throw userFunctionError(this.name, values[i], e);
    }
  }

  private apply(key: K, change: Change<T>, rk: RK, ts: number): void {
    const { rows, top } = this;
    const { n, compare, rowKey } = this.options;
    const old = top.value() ?? [];
    const at = old.findIndex((r) => sameKey(rowKey(r), rk));
    let updated: readonly T[];
    if (change.kind === '+I' || change.kind === '+U') {
      rows.put(rk, change.row);
      // A top row that got worse may fall behind rows outside the top: only a scan knows.
      if (at >= 0 && compare(change.row, old[at]!) > 0) updated = this.recompute();
      else updated = insertTopN(at >= 0 ? old.filter((_, j) => j !== at) : old, change.row, n, compare);
    } else {
      if (!rows.contains(rk)) return;
      rows.remove(rk);
      updated = at >= 0 ? this.recompute() : old;
    }
    if (updated === old) return;
    this.emitDiff(key, old, updated, ts);
    if (updated.length === 0) top.clear();
    else top.update(updated as T[]);
  }

  private recompute(): readonly T[] {
    const { n, compare } = this.options;
    let best: readonly T[] = [];
    for (const [, row] of this.rows.entries()) best = insertTopN(best, row, n, compare);
    return best;
  }

  private emitDiff(key: K, old: readonly T[], next: readonly T[], ts: number): void {
    const out: Output<Change<RankedRow<K, T>>> = this.ctx.output;
    const { rowKey } = this.options;
    const len = Math.max(old.length, next.length);
    for (let r = 0; r < len; r++) {
      const o = old[r];
      const w = next[r];
      if (o !== undefined && w !== undefined) {
        if (sameKey(rowKey(o), rowKey(w)) && shallowEqual(o, w)) continue;
        out.emit({ kind: '-U', row: { key, rank: r + 1, row: o } }, ts);
        out.emit({ kind: '+U', row: { key, rank: r + 1, row: w } }, ts);
      } else if (w !== undefined) out.emit({ kind: '+I', row: { key, rank: r + 1, row: w } }, ts);
      else if (o !== undefined) out.emit({ kind: '-D', row: { key, rank: r + 1, row: o } }, ts);
    }
  }
}
