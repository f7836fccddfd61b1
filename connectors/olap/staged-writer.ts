/**
 * The writer side of an OLAP sink (a Sink V2 `SinkWriter`), store-neutral: it folds the changelog
 * per key, buffers by rows, bytes and time, and hands full buffers to a store's `Stager`, which
 * writes them durably but invisibly (a staged file, a staging table, an open load transaction). At
 * the barrier it stages what is left and returns one committable: the staged batches (and schema
 * changes) of this writer for the checkpoint, in order. The store's committer makes them visible
 * when the checkpoint completes.
 *
 *     records -> fold per key (ChangeFolder) -> full (rows/bytes) or old (time)? -> stage (one at a time)
 *     barrier -> stage the rest, await all -> committable { subtask, items }
 *
 * Back-pressure: one batch is staged at a time while the next one fills; a write that fills the
 * buffer while the previous batch is still being staged awaits it, so the task stops taking input
 * (and, through credits, its upstream stops): memory stays at about two buffers however slow the
 * store is. Staging is retried with backoff; an error of a time-triggered flush fails the next
 * write or barrier.
 */
import type { Change } from '../../operators/changelog.ts';
import { asChange } from '../../operators/changelog.ts';
import { ConfigError } from '../../runtime/errors.ts';
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink/contract.ts';
import { ChangeFolder, type FoldedBatch } from './changes.ts';
import { OlapMetrics } from './metrics.ts';
import { DEFAULT_STORE_RETRY, withRetry, type RetryPolicy } from './retry.ts';
import { applySchemaChange, isSchemaChangeRecord, type OlapSchemaChange, type SchemaChangeRecord } from './schema-change.ts';
import { resolveSchema, type OlapTableOptions, type OlapTableSchema } from './schema.ts';

/** What an OLAP sink takes: rows (inserted), changelog records, and schema changes. */
export type OlapInput<T> = T | Change<T> | SchemaChangeRecord;

export interface BufferOptions {
  /** Rows held (distinct keys, for a keyed table) before they are staged (default 10,000). */
  maxRows?: number;
  /** Approximate bytes held before they are staged (default 16 MiB). */
  maxBytes?: number;
  /** Stage what is held once the oldest row waited this long (default 1000 ms; 0: only when full and at barriers). */
  flushIntervalMs?: number;
}

export const DEFAULT_BUFFER: Required<BufferOptions> = { maxRows: 10_000, maxBytes: 16 << 20, flushIntervalMs: 1000 };

export function checkBufferOptions(options: BufferOptions, sink: string): Required<BufferOptions> {
  const b = { ...DEFAULT_BUFFER, ...options };
  for (const [k, v] of Object.entries(b)) {
    const min = k === 'flushIntervalMs' ? 0 : 1;
    if (!Number.isInteger(v) || v < min) throw new ConfigError(`${sink}.buffer.${k}`, `must be a whole number >= ${min}, got ${v}`);
  }
  return b;
}

export interface StageContext {
  readonly subtask: number;
  /** The checkpoint the batch will most likely belong to (the last barrier + 1). */
  readonly provisionalCheckpoint: number;
  /** Position of the batch among this writer's batches of the checkpoint (0, 1, ...). */
  readonly index: number;
}

/** A store's way to stage batches: durable, not visible, loaded by its committer. */
export interface Stager<B> {
  /** Writes the batch; returns what the committer needs to load it (plain data). */
  stage(batch: FoldedBatch, ctx: StageContext): Promise<B>;
  /** Rows after `change` follow `schema` (e.g. add the column to a staging table). */
  schemaChanged?(change: OlapSchemaChange, schema: OlapTableSchema): Promise<void>;
  close?(): void | Promise<void>;
}

export type StagedItem<B> = { kind: 'rows'; batch: B; rows: number } | { kind: 'schema'; change: OlapSchemaChange; schema: OlapTableSchema };

/** One writer's output for one checkpoint, in order. */
export interface OlapCommittable<B> {
  subtask: number;
  /** The checkpoint id the writer expected while staging (last barrier + 1): ids of garbage left by a failed attempt are at least the restored one + 1. */
  provisionalCheckpoint: number;
  /** The table before the items (the first item is staged under it). */
  schema: OlapTableSchema;
  items: StagedItem<B>[];
}

export interface StagedWriterOptions<T> {
  /** The sink's name, for errors and metrics. */
  sink: string;
  table: OlapTableOptions<T>;
  buffer: Required<BufferOptions>;
  retry?: RetryPolicy;
}

export class StagedWriter<T, B> implements SinkWriter<OlapInput<T>, OlapCommittable<B>> {
  private folder: ChangeFolder | undefined;
  /** The schema at the start of the current checkpoint's items. */
  private startSchema: OlapTableSchema | undefined;
  private items: Promise<StagedItem<B>>[] = [];
  private inFlight: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private seq = 0;
  private lastCheckpoint: number;
  readonly metrics: OlapMetrics;

  constructor(
    private readonly options: StagedWriterOptions<T>,
    private readonly stager: Stager<B>,
    private readonly ctx: Pick<SinkWriterContext, 'subtaskIndex' | 'restoredCheckpointId' | 'metrics'>,
  ) {
    this.metrics = new OlapMetrics(ctx.metrics);
    this.lastCheckpoint = ctx.restoredCheckpointId;
  }

  /** The table schema once known (from the first record and the declared columns). */
  get schema(): OlapTableSchema | undefined {
    return this.folder?.schema;
  }

  readonly write = (values: readonly OlapInput<T>[]): void | Promise<void> => {
    this.throwFailure();
    const { maxRows, maxBytes } = this.options.buffer;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (isSchemaChangeRecord(v)) return this.changeSchemaThenWrite(v.schemaChange, values, i + 1);
      const change = asChange(v as T | Change<T>);
      const folder = this.folder ?? this.startFolder(resolveSchema(this.options.table, change.row, this.options.sink));
      const wasEmpty = folder.changes === 0;
      folder.add(change as Change<unknown>);
      if (folder.size >= maxRows || folder.bytes >= maxBytes) return this.flushThenWrite(values, i + 1);
      if (wasEmpty) this.armTimer();
    }
  };

  private async flushThenWrite(values: readonly OlapInput<T>[], from: number): Promise<void> {
    await this.flush();
    if (from < values.length) await this.write(values.slice(from));
  }

  private async changeSchemaThenWrite(change: OlapSchemaChange, values: readonly OlapInput<T>[], from: number): Promise<void> {
    const old = this.folder?.schema ?? resolveSchema(this.options.table, undefined, this.options.sink);
    const schema = applySchemaChange(old, change, this.options.sink);
    if (schema === old) {
      // nothing changes (the column is there already): no item, no flush
      if (from < values.length) await this.write(values.slice(from));
      return;
    }
    // rows before the change are staged under the old schema, in order before it
    await this.flush();
    await this.inFlight;
    this.throwFailure();
    this.startSchema ??= old;
    await this.stager.schemaChanged?.(change, schema);
    this.items.push(Promise.resolve({ kind: 'schema', change, schema }));
    this.folder = new ChangeFolder(schema, this.options.sink);
    if (from < values.length) await this.write(values.slice(from));
  }

  private startFolder(schema: OlapTableSchema): ChangeFolder {
    this.folder = new ChangeFolder(schema, this.options.sink);
    return this.folder;
  }

  private armTimer(): void {
    const ms = this.options.buffer.flushIntervalMs;
    if (ms === 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // only when the store is idle: a flush in flight means the buffer is being drained anyway
      void this.flushIfIdle();
    }, ms);
  }

  private idle = true;

  private async flushIfIdle(): Promise<void> {
    if (!this.idle) return this.armTimer();
    await this.flush().catch((e: unknown) => {
      this.failure ??= e;
    });
  }

  /**
   * Stages what is held. Waits for the batch in flight first (back-pressure), then starts this one
   * and returns without waiting for it.
   */
  private async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const waitStart = performance.now();
    await this.inFlight;
    this.metrics.waited(performance.now() - waitStart);
    this.throwFailure();
    const folder = this.folder;
    if (!folder || folder.changes === 0) return;
    this.startSchema ??= folder.schema;
    const batch = folder.take(this.seq);
    this.seq += batch.rows.length;
    if (batch.rows.length === 0) return;
    const ctx: StageContext = { subtask: this.ctx.subtaskIndex, provisionalCheckpoint: this.lastCheckpoint + 1, index: this.items.length };
    this.idle = false;
    const staged = withRetry(() => this.stager.stage(batch, ctx), this.options.retry ?? DEFAULT_STORE_RETRY, () => this.metrics.retried()).then(
      (b): StagedItem<B> => {
        this.metrics.written(batch.changes, batch.bytes);
        return { kind: 'rows', batch: b, rows: batch.rows.length };
      },
    );
    this.items.push(staged);
    this.inFlight = staged.then(
      () => {
        this.idle = true;
      },
      (e: unknown) => {
        this.idle = true;
        this.failure ??= e;
      },
    );
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  async prepareCommit(checkpointId: number, endOfInput: boolean): Promise<OlapCommittable<B>[]> {
    const provisionalCheckpoint = this.lastCheckpoint + 1;
    await this.flush();
    await this.inFlight;
    this.throwFailure();
    if (!endOfInput) this.lastCheckpoint = checkpointId;
    const items = await Promise.all(this.items);
    const schema = this.startSchema;
    this.items = [];
    this.startSchema = undefined;
    this.seq = 0;
    if (items.length === 0 || !schema) return [];
    return [{ subtask: this.ctx.subtaskIndex, provisionalCheckpoint, schema, items }];
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    await this.stager.close?.();
  }
}
