/**
 * Regular (unbounded) equi-join of two changelog streams, inner or outer (Flink's
 * `StreamingJoinOperator`). Each side's rows live in keyed state under the join key, with a
 * multiplicity, so a retraction (-U, -D) takes back exactly one earlier +I/+U. Every change on one
 * side is joined with every row of the other side and emitted as a changelog:
 *
 *   - a joined row carries the kind of the change that produced it (+I, +U, -U or -D);
 *   - an outer side with no partner is emitted padded with null (+I); when the first partner
 *     arrives the padded row is taken back (-D) and the joined rows inserted (+I); when the last
 *     partner goes, the joined rows are retracted and the padded row comes back.
 *
 * Applying the output in order (add on +I/+U, remove on -U/-D) always gives the join of the two
 * inputs' current contents. State has an optional time to live (processing time, refreshed on
 * write) so keys that stop changing are forgotten; after that, results for them are no longer
 * retracted (as in Flink with table.exec.state.ttl).
 *
 * Rows are identified by a unique key when one is given, else by their JSON text, so the join
 * function and the identity must be deterministic (same fields in the same order).
 */
import type { KeySelector } from '../functions.ts';
import { BadRecordError, ConfigError, describeRecord, userFunctionError } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import { mapState, valueState } from '../../state/descriptors.ts';
import type { MapState, ValueState } from '../../state/handles.ts';
import type { StateKey } from '../../state/key-groups.ts';
import type { Change, RowKind } from '../changelog.ts';
import type { Operator, OperatorContext, Output } from '../operator.ts';
import { JoinKeys, requireKeyedState } from './join-keys.ts';

export type JoinKind = 'inner' | 'left' | 'right' | 'full';

export interface RegularJoinSpec<L, R, O> {
  kind: JoinKind;
  /** Builds the output row; a null side is missing (outer joins only). Must be deterministic. */
  join(left: L | null, right: R | null): O;
  /** Whether each input carries Change<T> records (true) or plain rows, taken as +I (false). */
  changelog: readonly [boolean, boolean];
  /** Forget a key's rows on a side after this long without a write to them (ms of processing time). */
  stateTtlMs?: number;
  /** Identity of a row on each side (default: its JSON text). */
  uniqueKeys?: readonly [((row: L) => StateKey) | undefined, ((row: R) => StateKey) | undefined];
}

/** A stored row and how many times it is present. */
type Stored<T> = [row: T, count: number];

export class RegularJoinOperator<L, R, O> implements Operator<unknown, Change<O>> {
  private keys!: JoinKeys;
  private out!: Output<Change<O>>;
  private sides!: [MapState<string, Stored<L>>, MapState<string, Stored<R>>];
  private readonly outer: [boolean, boolean];
  private readonly scratch: [unknown[], number[]] = [[], []];
  /**
   * Per side, how many rows (with multiplicity) the key has, kept for a side whose other side is
   * outer (its padding depends on whether this side is empty), so a change does not read all of
   * its own side's rows to count them. Not kept with a state TTL: map entries expire one by one.
   */
  private counts: [ValueState<number> | undefined, ValueState<number> | undefined] = [undefined, undefined];

  constructor(
    readonly name: string,
    private readonly spec: RegularJoinSpec<L, R, O>,
    private readonly keySelectors: readonly KeySelector<unknown>[],
  ) {
    if (!['inner', 'left', 'right', 'full'].includes(spec.kind)) {
      throw new ConfigError('join.kind', `'${String(spec.kind)}' is not a join kind: use inner, left, right or full`);
    }
    if (spec.stateTtlMs !== undefined && !(spec.stateTtlMs > 0)) {
      throw new ConfigError('join.stateTtlMs', `must be > 0 ms (or left out for no expiry), got ${spec.stateTtlMs}`);
    }
    this.outer = [spec.kind === 'left' || spec.kind === 'full', spec.kind === 'right' || spec.kind === 'full'];
  }

  open(ctx: OperatorContext<Change<O>>): void {
    this.out = ctx.output;
    const backend: KeyedStateBackend = requireKeyedState(this.name, ctx as OperatorContext<unknown>);
    this.keys = new JoinKeys(this.name, backend, this.keySelectors);
    const ttl = this.spec.stateTtlMs === undefined ? {} : { ttl: { ttlMs: this.spec.stateTtlMs } };
    this.sides = [
      backend.getMapState(mapState<string, Stored<L>>('join-left', ttl)),
      backend.getMapState(mapState<string, Stored<R>>('join-right', ttl)),
    ];
    if (this.spec.stateTtlMs === undefined) {
      for (const side of [0, 1]) if (this.outer[1 - side]) this.counts[side] = backend.getValueState(valueState<number>(side === 0 ? 'join-left-count' : 'join-right-count'));
    }
  }

  processBatch(values: readonly unknown[], times: ArrayLike<number>, input: number, keyGroups?: ArrayLike<number>, keyHashes?: ArrayLike<number>): void {
    const changelog = this.spec.changelog[input]!;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      let kind: RowKind = '+I';
      let row = v;
      if (changelog) {
        const c = v as Change<unknown>;
        if (c === null || typeof c !== 'object' || typeof c.kind !== 'string') {
          throw new BadRecordError(`join '${this.name}': input ${input} is declared a changelog but a record is not a {kind, row} change`, describeRecord(v));
        }
        kind = c.kind;
        row = c.row;
      }
      // The key selectors are the partitioner's: they take the record as it arrives.
      this.keys.set(v, input, keyGroups?.[i], keyHashes?.[i]);
      this.onChange(kind, row, times[i]!, input);
    }
  }

  private idOf(row: unknown, input: number): string {
    const unique = this.spec.uniqueKeys?.[input] as ((r: unknown) => StateKey) | undefined;
    if (unique) {
      const k = unique(row);
      return typeof k === 'string' ? k : JSON.stringify(k, bigintAsText);
    }
    return JSON.stringify(row, bigintAsText);
  }

  private onChange(kind: RowKind, row: unknown, time: number, input: number): void {
    const mine = this.sides[input] as MapState<string, Stored<unknown>>;
    const other = this.sides[1 - input] as MapState<string, Stored<unknown>>;
    const myOuter = this.outer[input]!;
    const otherOuter = this.outer[1 - input]!;
    const accumulate = kind === '+I' || kind === '+U';

    // The other side's rows (with multiplicity) and my side's total before this change.
    const [otherRows, otherCounts] = this.scratch;
    otherRows.length = 0;
    otherCounts.length = 0;
    for (const [, [r, c]] of other.entries()) {
      otherRows.push(r);
      otherCounts.push(c);
    }
    const count = this.counts[input];
    const mineBefore = count !== undefined ? this.rowCount(mine, count) : otherOuter && otherRows.length > 0 ? sumCounts(mine) : 0;

    const id = this.idOf(row, input);
    const stored = mine.get(id);
    if (accumulate) {
      if (otherRows.length === 0) {
        if (myOuter) this.emit('+I', row, null, input, time);
      } else {
        for (let j = 0; j < otherRows.length; j++) {
          const o = otherRows[j];
          for (let n = otherCounts[j]!; n > 0; n--) {
            if (otherOuter && mineBefore === 0) this.emit('-D', null, o, input, time);
            this.emit(kind, row, o, input, time);
          }
        }
      }
      mine.put(id, [row, stored === undefined ? 1 : stored[1] + 1]);
      count?.update(mineBefore + 1);
      return;
    }
    // A retraction: take back what the row's insertion produced.
    const present = stored !== undefined;
    const mineAfter = mineBefore - (present ? 1 : 0);
    if (otherRows.length === 0) {
      if (myOuter) this.emit('-D', row, null, input, time);
    } else {
      for (let j = 0; j < otherRows.length; j++) {
        const o = otherRows[j];
        for (let n = otherCounts[j]!; n > 0; n--) {
          this.emit(kind, row, o, input, time);
          if (otherOuter && present && mineAfter === 0) this.emit('+I', null, o, input, time);
        }
      }
    }
    if (present) {
      if (stored[1] > 1) mine.put(id, [stored[0], stored[1] - 1]);
      else mine.remove(id);
      if (count !== undefined) {
        if (mineAfter === 0) count.clear();
        else count.update(mineAfter);
      }
    }
  }

  /** The key's row count on a side; counted once from the rows when absent (state from before the count was kept). */
  private rowCount(mine: MapState<string, Stored<unknown>>, count: ValueState<number>): number {
    const n = count.value();
    if (n !== undefined) return n;
    return mine.isEmpty() ? 0 : sumCounts(mine);
  }

  /** `mine` is the row of input `input`; `o` the other side's (either may be null for padding). */
  private emit(kind: RowKind, mine: unknown, o: unknown, input: number, time: number): void {
    const l = (input === 0 ? mine : o) as L | null;
    const r = (input === 0 ? o : mine) as R | null;
    let row: O;
    try {
      row = this.spec.join(l, r);
    } catch (e) {
      throw userFunctionError(this.name, { left: l, right: r }, e);
    }
    this.out.emit({ kind, row }, time);
  }
}

function sumCounts(rows: MapState<string, Stored<unknown>>): number {
  let n = 0;
  for (const [, [, c]] of rows.entries()) n += c;
  return n;
}

function bigintAsText(_key: string, x: unknown): unknown {
  return typeof x === 'bigint' ? `${x}n` : x;
}
