/**
 * What every keyed join operator does per record and per timer: set the state backend's current
 * key to the record's join key (validated, with its key group), and route records that arrive
 * behind the watermark to a side output instead of dropping them silently.
 */
import type { KeySelector } from '../functions.ts';
import { BadRecordError, describeRecord } from '../../runtime/errors.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import { isStateKey, keyGroupOf, type StateKey } from '../../state/key-groups.ts';
import type { OperatorContext, OutputTag, Output } from '../operator.ts';

/** A record that arrived behind the watermark, with the input it came from (0 left, 1 right). */
export interface LateRecord<L, R> {
  side: 'left' | 'right';
  value: L | R;
  time: number;
}

export class JoinKeys {
  constructor(
    private readonly operator: string,
    private readonly backend: KeyedStateBackend,
    private readonly selectors: readonly KeySelector<unknown>[],
  ) {}

  /**
   * Sets the current key to the join key of `value` (from input `input`); returns the key.
   * `keyGroup`: the one the keyBy exchange computed for it (Operator.processBatch's keyGroups), if
   * any, and `keyHash` the key's hash it came with (keyHashes), so that the backend hashes nothing.
   */
  set(value: unknown, input: number, keyGroup?: number, keyHash?: number): StateKey {
    const key = this.selectors[input]!(value);
    if (typeof key !== 'string' && typeof key !== 'number' && !isStateKey(key)) {
      throw new BadRecordError(
        `join '${this.operator}': the key selector of input ${input} returned ${describeRecord(key)}, not a string, number, boolean, bigint or tuple of them`,
        describeRecord(value),
      );
    }
    if (keyGroup === undefined) this.backend.setCurrentKey(key, keyGroupOf(key, this.backend.maxParallelism));
    else this.backend.setCurrentKey(key, keyGroup, keyHash);
    return key;
  }
}

export function requireKeyedState(operator: string, ctx: OperatorContext<unknown>): KeyedStateBackend {
  if (!ctx.keyedState) throw new Error(`join '${operator}' is keyed but has no keyed state backend: build it with keyBy or the join API`);
  return ctx.keyedState;
}

/** Event time of a record, or a BadRecordError saying how to give the source one. */
export function requireTime(operator: string, time: number, value: unknown, input: number): number {
  if (time !== time) {
    throw new BadRecordError(
      `join '${operator}' works in event time, but a record of input ${input} has no timestamp: give its source a watermark strategy with a timestamp assigner`,
      describeRecord(value),
    );
  }
  return time;
}

/** Counts late records per side and sends them to the late side output, if there is one. */
export class LateRecords<L, R> {
  private readonly out: Output<LateRecord<L, R>> | undefined;
  constructor(
    private readonly ctx: OperatorContext<unknown>,
    tag: OutputTag<LateRecord<L, R>> | undefined,
  ) {
    this.out = tag ? ctx.sideOutput(tag) : undefined;
  }

  add(value: unknown, time: number, input: number): void {
    const side = input === 0 ? 'left' : 'right';
    this.ctx.metrics.count(`late-records-${side}`);
    this.out?.emit({ side, value: value as L | R, time }, time);
  }
}
