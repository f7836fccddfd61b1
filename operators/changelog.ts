/**
 * Changelog records: a row and what happened to it, as in Flink's RowKind. Aggregations over a
 * changelog retract what -U and -D take back; sinks upsert (+I, +U) and delete (-D) by key.
 *
 *     stream: DataStream<Change<Order>>
 *     { kind: '+I', row: { id: 1, amount: 5 } }   insert
 *     { kind: '-U', row: { id: 1, amount: 5 } }   the old row of an update
 *     { kind: '+U', row: { id: 1, amount: 7 } }   the new row of an update
 *     { kind: '-D', row: { id: 1, amount: 7 } }   delete
 */
export type RowKind = '+I' | '-U' | '+U' | '-D';

export interface Change<T> {
  kind: RowKind;
  row: T;
}

export function insert<T>(row: T): Change<T> {
  return { kind: '+I', row };
}

export function updateBefore<T>(row: T): Change<T> {
  return { kind: '-U', row };
}

export function updateAfter<T>(row: T): Change<T> {
  return { kind: '+U', row };
}

export function deletion<T>(row: T): Change<T> {
  return { kind: '-D', row };
}

/** True for kinds that add a row (+I, +U); false for those that take one back (-U, -D). */
export function isAccumulate(kind: RowKind): boolean {
  return kind === '+I' || kind === '+U';
}

/** Paimon's and Flink's byte for a row kind: 0 +I, 1 -U, 2 +U, 3 -D. */
export function rowKindByte(kind: RowKind): 0 | 1 | 2 | 3 {
  return kind === '+I' ? 0 : kind === '-U' ? 1 : kind === '+U' ? 2 : 3;
}

export function rowKindOfByte(b: number): RowKind {
  switch (b) {
    case 0:
      return '+I';
    case 1:
      return '-U';
    case 2:
      return '+U';
    case 3:
      return '-D';
    default:
      throw new RangeError(`${b} is not a row kind byte (0 +I, 1 -U, 2 +U, 3 -D)`);
  }
}

/**
 * Whether a sink's input value is a Change<T>: it has exactly the two fields `kind` (+I, -U, +U,
 * -D) and `row`; anything else is a plain row (an insert).
 */
export function isChange<T>(value: T | Change<T>): value is Change<T> {
  if (typeof value !== 'object' || value === null || !('row' in value) || !('kind' in value) || Object.keys(value).length !== 2) return false;
  const kind = (value as Change<T>).kind;
  return kind === '+I' || kind === '-U' || kind === '+U' || kind === '-D';
}

/** A sink's input value as a change (a plain row is an insert): see isChange. */
export function asChange<T>(value: T | Change<T>): Change<T> {
  return isChange(value) ? value : { kind: '+I', row: value as T };
}
