/**
 * The first operator of a lake sink, chained to its input: turns each record (a row, or a
 * Change<row>) into the table's canonical row array and tags it with its Paimon bucket, which the
 * exchange to the writers is partitioned by.
 */
import type { Change } from '../../../operators/changelog.ts';
import type { Operator, OperatorContext, Output } from '../../../operators/operator.ts';
import type { SchemaDefinition } from '../schema/schema.ts';
import type { FileStoreTable } from '../table/table.ts';
import { normalizeValue } from '../schema/values.ts';
import { assignerOf, dynamicBucketHashers } from '../table/dynamic-bucket.ts';
import { openLakeTable, type LakeTableLocation } from './table-access.ts';
import { BUCKET_FIELD, KIND_FIELD, bucketedRowBuilder, rowAndKind, type BucketedRow } from './records.ts';
import { BadRecordError, ConfigError } from '../errors.ts';
import { checkApplicable, isLakeSchemaChange, pendingChanges, schemaMarkers, type LakeSchemaChange } from './schema-change.ts';

export class BucketRouterOperator<T> implements Operator<T | Change<T>, BucketedRow> {
  private table!: FileStoreTable;
  private output!: Output<BucketedRow>;
  private assign!: (row: unknown[]) => number;
  private bucketAware = true;
  private build!: (bucket: number, kind: number, row: unknown) => BucketedRow;
  private keyRow: unknown[] = [];
  /** Fields the routing reads (normalized here): the bucket key, or for dynamic buckets the key and partition. */
  private routeIdx: number[] = [];

  constructor(readonly name: string, private readonly location: LakeTableLocation, private readonly schema: SchemaDefinition | undefined, private readonly writers = 1) {}

  async open(ctx: OperatorContext<BucketedRow>): Promise<void> {
    this.output = ctx.output;
    await this.load();
  }

  private async load(): Promise<void> {
    this.table = await openLakeTable(this.location, this.schema);
    const t = this.table;
    if (t.options.dynamicBucket) {
      // dynamic buckets: the writer assigns the bucket; the row goes to the writer that owns its key
      // (Java's assigner channel), carried in __bucket, which the exchange sends to writer __bucket % writers
      const { keyHash, partitionHash } = dynamicBucketHashers(t);
      const writers = this.writers;
      this.assign = (row) => assignerOf(partitionHash(row), keyHash(row), writers);
      this.routeIdx = [...t.keyIndexes, ...t.partitionIndexes];
      this.bucketAware = true;
    } else {
      this.assign = t.bucketAssigner();
      this.routeIdx = t.bucketKeyIndexes;
      this.bucketAware = t.options.bucket > 0;
    }
    const names = this.table.schema.fields.map((f) => f.name);
    const reserved = names.find((n) => n === BUCKET_FIELD || n === KIND_FIELD);
    if (reserved) throw new ConfigError('schema', `table ${this.table.path} has a field named '${reserved}', which the lake sink uses internally; rename the field`);
    this.build = bucketedRowBuilder(names);
    this.keyRow = new Array<unknown>(names.length).fill(null);
  }

  processBatch(values: readonly (T | Change<T> | LakeSchemaChange)[], times: ArrayLike<number>): void | Promise<void> {
    const at = values.findIndex(isLakeSchemaChange);
    if (at >= 0) return this.withSchemaChange(values, times, at);
    this.route(values as readonly (T | Change<T>)[], times);
  }

  /** Rows before the change, the change (table altered, markers to every writer), then the rest. */
  private async withSchemaChange(values: readonly (T | Change<T> | LakeSchemaChange)[], times: ArrayLike<number>, at: number): Promise<void> {
    this.route(values.slice(0, at) as (T | Change<T>)[], Array.prototype.slice.call(times, 0, at));
    const change = values[at] as LakeSchemaChange;
    const todo = pendingChanges(this.table.schema, change.lakeSchemaChanges);
    if (todo.length > 0) {
      try {
        await this.table.schemas.alter(todo);
      } catch (e) {
        checkApplicable(this.table.path, change, e);
      }
    }
    await this.load();
    for (const m of schemaMarkers(this.writers, this.table.schema.id)) this.output.emit(m, times[at]!);
    const rest = values.slice(at + 1);
    if (rest.length > 0) return this.processBatch(rest, Array.prototype.slice.call(times, at + 1));
  }

  private route(values: readonly (T | Change<T>)[], times: ArrayLike<number>): void {
    const fields = this.table.schema.fields;
    const keyIdx = this.routeIdx;
    const keyRow = this.keyRow;
    for (let i = 0; i < values.length; i++) {
      const { row, kind } = rowAndKind(values[i]!);
      if (typeof row !== 'object' || row === null) {
        throw new BadRecordError(`the lake sink of ${this.table.path} takes rows as objects (by field name) or arrays (in field order), or Change records of them; got ${row === null ? 'null' : typeof row}`, String(row));
      }
      let bucket = -1;
      if (this.bucketAware) {
        // only the bucket key is normalized here; the writer normalizes (and checks) the whole row
        const isArray = Array.isArray(row);
        for (const k of keyIdx) {
          const f = fields[k]!;
          keyRow[k] = normalizeValue(f.type, isArray ? (row as unknown[])[k] : (row as Record<string, unknown>)[f.name], f.name);
        }
        bucket = this.assign(keyRow);
      }
      this.output.emit(this.build(bucket, kind, row), times[i]!);
    }
  }
}
