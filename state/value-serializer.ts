/**
 * What a state keeps of the values written to it. Every state descriptor has a serializer
 * (`descriptor.serializer`, default `plainDataSerializer`); both backends call it the same way:
 *
 * - value semantics, as with Flink's RocksDB backend but on the heap backend too: a write keeps
 *   `copy(value)`, a read hands out a copy, so changing a value after writing it, or a value read
 *   from state without writing it back, never changes the state, whatever the backend and whether
 *   or not the LMDB cache still holds the entry. Primitives are not copied (one `typeof`).
 * - the value is checked at the write that brings it in (not at the next snapshot): what would not
 *   survive a snapshot unchanged is rejected with a StateValueError naming the operator, the state,
 *   the type found and its path inside the value.
 * - the accumulator of reducing and aggregating state belongs to the state: `add` hands it to the
 *   user function without a copy and keeps what the function returns after `check` (a walk, no
 *   copy). A large accumulator (a Set of many values) is walked on every add; an aggregate that
 *   knows its accumulator is plain data can give a serializer whose `check` is cheaper (see
 *   operators/aggregate/count-distinct-aggregate.ts).
 *
 * Bytes are always the shared msgpack encoding (state/heap/heap-snapshot.ts `valueCodec`, the
 * LMDB backend's encoder): a serializer decides what may be stored and how it is copied, not the
 * byte format.
 */
import { WeirError } from '../runtime/errors.ts';
import { NotPlainDataError, checkPlainData, checkPlainDataReplacing, copyPlainData } from '../runtime/plain-data.ts';

export interface StateSerializer<T> {
  /** What the state keeps of `value`: a copy that shares nothing mutable with it. Throws if `value` cannot be stored. */
  copy(value: T): T;
  /** Throws if `value` (already the state's own, e.g. an accumulator returned by `add`) cannot be stored. */
  check(value: T): void;
  /** What a read hands out of the state's own value (default: `copy`). Optional. */
  copyOut?(value: T): T;
  /**
   * `copy` of a value written over `previous`, the state's own value for the key (copied in or
   * checked when it was written): a serializer may skip what the two share. Optional.
   */
  copyReplacing?(value: T, previous: T): T;
}

/** The default: plain data (runtime/plain-data.ts: JSON-like values, bigint, Date, typed arrays, Map, Set). */
export const plainDataSerializer: StateSerializer<unknown> = { copy: copyPlainData, check: checkPlainData };

/** Options of sharedPlainData. */
export interface SharedPlainDataOptions<T> {
  /**
   * A shortcut past the check's walk: true when the job knows that `value` (written over
   * `previous`, the key's value so far, if any) is plain data, e.g. a record type whose fields it
   * tests one by one; false to walk it as without the option (the walk then names what is wrong,
   * or accepts it). A value it passes is stored unwalked: the function answers for it as the job
   * answers for not changing shared values. The walk takes about 60-100 ns for a 9-field record
   * (its loads are megamorphic); Nexmark q19 writes one new bid per update.
   */
  knownPlain?: (value: T, previous: T | undefined) => boolean;
}

/**
 * Plain data shared, not copied: a write keeps the object it is given (after walking it to check
 * it is plain data, except for the parts it shares with the value it replaces, or after
 * `options.knownPlain`) and a read hands out the object the state holds. For functions that never
 * change a value after writing it to state or after reading it (they build a new value and write
 * that), as Flink's heap backend assumes of every state; it saves the two copies per
 * read-modify-write that value semantics cost (a state holding 10 bids, Nexmark q19: about 16% of
 * the keyed thread and much of its garbage collection). A function that does change such a value
 * changes the state behind the backend's back: the change may be lost, or seen, depending on the
 * backend and on cache eviction.
 */
export function sharedPlainData<T>(options: SharedPlainDataOptions<T> = {}): StateSerializer<T> {
  const knownPlain = options.knownPlain;
  if (knownPlain === undefined) return SHARED as StateSerializer<T>;
  const serializer: StateSerializer<T> = {
    copy: (value) => {
      if (!knownPlain(value, undefined)) checkPlainData(value);
      return value;
    },
    check: (value) => {
      if (!knownPlain(value, undefined)) checkPlainData(value);
    },
    copyOut: (value) => value,
    copyReplacing: (value, previous) => {
      if (!knownPlain(value, previous)) checkPlainDataReplacing(value, previous);
      return value;
    },
  };
  sharing.add(serializer as StateSerializer<unknown>);
  return serializer;
}

/**
 * True when a state's stored values are only ever replaced, never changed in place: the default
 * serializer copies them in and out; sharedPlainData's users promise not to change them. Heap
 * snapshots keep references to such values instead of encoding them at the barrier.
 */
export function valuesNeverChangedInPlace(serializer: StateSerializer<unknown>): boolean {
  return serializer === plainDataSerializer || sharing.has(serializer);
}

const SHARED: StateSerializer<unknown> = {
  copy: (value) => {
    checkPlainData(value);
    return value;
  },
  check: checkPlainData,
  // Checked when written and never changed after: handed out as it is.
  copyOut: (value) => value,
  // The previous value's parts were checked when written and, shared, are never changed after.
  copyReplacing: (value, previous) => {
    checkPlainDataReplacing(value, previous);
    return value;
  },
};

/** The serializers whose values are shared (sharedPlainData's): looked up when a state is opened, not per value. */
const sharing = new WeakSet<StateSerializer<unknown>>([SHARED]);

/** A value a state cannot hold. */
export class StateValueError extends WeirError {
  constructor(
    readonly operatorUid: string,
    readonly stateName: string,
    /** Where inside the value ('$' is the value itself). */
    readonly path: string,
    readonly found: string,
  ) {
    super(
      `state '${stateName}' of operator '${operatorUid}' cannot hold ${found} at ${path}: state values must be plain data ` +
        `(numbers, strings, booleans, bigint, null, undefined, arrays, plain objects, Map, Set, Date, typed arrays), which snapshots ` +
        `restore unchanged. Store the object's data instead (e.g. a plain object, and rebuild the instance after reading it).`,
      { domain: 'user' },
    );
  }
}

/** Copies a value into a state (serializer.copy), naming the operator and state if it cannot be stored. */
export function copyIn<T>(serializer: StateSerializer<T>, value: T, operatorUid: string, stateName: string): T {
  try {
    return serializer.copy(value);
  } catch (e) {
    throw asStateValueError(e, operatorUid, stateName);
  }
}

/** What a read hands out of a state's own value: serializer.copyOut, or copy. */
export function copyOut<T>(serializer: StateSerializer<T>, value: T): T {
  return serializer.copyOut === undefined ? serializer.copy(value) : serializer.copyOut(value);
}

/** copyIn of a value written over the key's `previous` value (undefined: none known), with the serializer's copyReplacing if it has one. */
export function copyInReplacing<T>(serializer: StateSerializer<T>, value: T, previous: T | undefined, operatorUid: string, stateName: string): T {
  if (previous === undefined || serializer.copyReplacing === undefined) return copyIn(serializer, value, operatorUid, stateName);
  try {
    return serializer.copyReplacing(value, previous);
  } catch (e) {
    throw asStateValueError(e, operatorUid, stateName);
  }
}

/** Checks a value the state already owns (serializer.check), naming the operator and state if it cannot be stored. */
export function checkIn<T>(serializer: StateSerializer<T>, value: T, operatorUid: string, stateName: string): T {
  try {
    serializer.check(value);
  } catch (e) {
    throw asStateValueError(e, operatorUid, stateName);
  }
  return value;
}

function asStateValueError(e: unknown, operatorUid: string, stateName: string): unknown {
  return e instanceof NotPlainDataError ? new StateValueError(operatorUid, stateName, e.path, e.found) : e;
}
