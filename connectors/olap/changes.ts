/**
 * Folds a changelog per primary key before it is written, as Flink's upsert sinks and the
 * StarRocks/Doris connectors do: of all changes to a key since the last flush only the last counts
 * (+I/+U: upsert that row; -D: delete the key). -U is dropped: the +U that follows carries the new row
 * (Flink's upsert mode). A table without a primary key is append-only: +I rows are kept in order,
 * and a -U/-D change fails with an error that asks for a primary key.
 *
 * Each folded row gets a sequence number (its position in the writer's output, increasing across
 * flushes), so a store that loads several batches of one checkpoint keeps the last change per key.
 */
import { ConfigError } from '../../runtime/errors.ts';
import type { Change } from '../../operators/changelog.ts';
import { approximateRowBytes, columnExtractor, type OlapTableSchema } from './schema.ts';

export interface FoldedBatch {
  schema: OlapTableSchema;
  /** Values in column order (converted: see `columnExtractor`). */
  rows: unknown[][];
  /** 1 where the row deletes its key (only the key columns matter then). */
  deleted: Uint8Array;
  /** The sequence number of rows[0]; rows[i] has firstSeq + i. */
  firstSeq: number;
  /** Approximate size of the rows. */
  bytes: number;
  /** Input changes folded into these rows. */
  changes: number;
}

interface Entry {
  values: unknown[];
  deleted: boolean;
}

export class ChangeFolder {
  private readonly extract: (record: Record<string, unknown>) => unknown[];
  private readonly keyIndexes: number[];
  private readonly byKey = new Map<unknown, Entry>();
  private readonly appended: unknown[][] = [];
  private bytesHeld = 0;
  private changesHeld = 0;
  /** -U changes dropped (counted for metrics). */
  droppedUpdateBefore = 0;

  constructor(
    readonly schema: OlapTableSchema,
    private readonly sink: string,
  ) {
    this.extract = columnExtractor(schema, sink);
    this.keyIndexes = schema.primaryKey.map((k) => schema.columns.findIndex((c) => c.name === k));
  }

  /** Rows held (distinct keys for a keyed table). */
  get size(): number {
    return this.keyIndexes.length > 0 ? this.byKey.size : this.appended.length;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  get changes(): number {
    return this.changesHeld;
  }

  add(change: Change<unknown>): void {
    this.changesHeld++;
    if (this.keyIndexes.length === 0) {
      if (change.kind !== '+I') {
        throw new ConfigError(`${this.sink}.primaryKey`, `table '${this.schema.table}' has no primary key, so the sink cannot apply a ${change.kind} change; declare primaryKey (upsert table) or send only inserts`);
      }
      const values = this.extract(change.row as Record<string, unknown>);
      this.bytesHeld += approximateRowBytes(values);
      this.appended.push(values);
      return;
    }
    if (change.kind === '-U') {
      this.droppedUpdateBefore++;
      return;
    }
    const values = this.extract(change.row as Record<string, unknown>);
    const key = this.keyOf(values);
    const old = this.byKey.get(key);
    if (old) {
      this.bytesHeld -= approximateRowBytes(old.values);
      this.byKey.delete(key); // re-inserted below: the map's order is the order of each key's last change
    }
    this.bytesHeld += approximateRowBytes(values);
    this.byKey.set(key, { values, deleted: change.kind === '-D' });
  }

  /** The held rows as a batch numbered from `firstSeq`; the folder is empty afterwards. */
  take(firstSeq: number): FoldedBatch {
    let rows: unknown[][];
    let deleted: Uint8Array;
    if (this.keyIndexes.length === 0) {
      rows = this.appended.splice(0);
      deleted = new Uint8Array(rows.length);
    } else {
      rows = [];
      deleted = new Uint8Array(this.byKey.size);
      for (const e of this.byKey.values()) {
        if (e.deleted) deleted[rows.length] = 1;
        rows.push(e.values);
      }
      this.byKey.clear();
    }
    const batch: FoldedBatch = { schema: this.schema, rows, deleted, firstSeq, bytes: this.bytesHeld, changes: this.changesHeld };
    this.bytesHeld = 0;
    this.changesHeld = 0;
    return batch;
  }

  private keyOf(values: readonly unknown[]): unknown {
    const idx = this.keyIndexes;
    if (idx.length === 1) return keyPart(values[idx[0]!]);
    let s = '';
    for (const i of idx) {
      const p = keyPart(values[i]);
      s += `${typeof p}:${String(p)}\u0001`;
    }
    return s;
  }
}

/** A key value as a Map key: Dates and byte arrays by content. */
function keyPart(v: unknown): unknown {
  if (v instanceof Date) return `date:${v.getTime()}`;
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  return v;
}
