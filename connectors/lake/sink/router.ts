/**
 * The first operator of a lake sink, chained to its input: turns each record (a row, or a
 * Change<row>) into the table's canonical row array and tags it with its Paimon bucket, which the
 * exchange to the writers is partitioned by.
 */
import type { Change } from '../../../operators/changelog.ts';
import type { Operator, OperatorContext, Output } from '../../../operators/operator.ts';
import type { SchemaDefinition } from '../schema/schema.ts';
import type { FileStoreTable } from '../table/table.ts';
import { openLakeTable, type LakeTableLocation } from './table-access.ts';
import { BUCKET_FIELD, KIND_FIELD, bucketedRowBuilder, rowAndKind, type BucketedRow } from './records.ts';
import { ConfigError } from '../errors.ts';

export class BucketRouterOperator<T> implements Operator<T | Change<T>, BucketedRow> {
  private table!: FileStoreTable;
  private output!: Output<BucketedRow>;
  private assign!: (row: unknown[]) => number;
  private bucketAware = true;
  private build!: (bucket: number, kind: number, row: unknown) => BucketedRow;

  constructor(readonly name: string, private readonly location: LakeTableLocation, private readonly schema: SchemaDefinition | undefined) {}

  async open(ctx: OperatorContext<BucketedRow>): Promise<void> {
    this.table = await openLakeTable(this.location, this.schema);
    this.output = ctx.output;
    this.assign = this.table.bucketAssigner();
    this.bucketAware = this.table.options.bucket > 0;
    const names = this.table.schema.fields.map((f) => f.name);
    const reserved = names.find((n) => n === BUCKET_FIELD || n === KIND_FIELD);
    if (reserved) throw new ConfigError('schema', `table ${this.table.path} has a field named '${reserved}', which the lake sink uses internally; rename the field`);
    this.build = bucketedRowBuilder(names);
  }

  processBatch(values: readonly (T | Change<T>)[], times: ArrayLike<number>): void {
    const t = this.table;
    for (let i = 0; i < values.length; i++) {
      const { row, kind } = rowAndKind(values[i]!);
      // normalized here for the bucket (and to reject bad rows early); the writer normalizes its copy
      const normalized = t.normalizeRow(row as unknown[] | Record<string, unknown>);
      this.output.emit(this.build(this.bucketAware ? this.assign(normalized) : -1, kind, row), times[i]!);
    }
  }
}
