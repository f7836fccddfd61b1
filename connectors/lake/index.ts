/**
 * Weir's Apache Paimon table format library (the table code has no dependency on the stream runtime).
 *
 * Sink: `new TableWriter(table).write(row, kind)`, `prepareCommit()` -> CommitMessage[] (store in the
 * checkpoint), then `new TableCommit(table, commitUser).commit(checkpointId, messages)`; after a
 * restart, `filterCommitted` tells which stored identifiers still need committing.
 * Source: `readTable` / `planSplits` + `readSplit` for batch; `IncrementalReader` for streaming.
 *
 * This is also the `weir/lake` entry: jobs take the stream sink and source (`lakeSink`, `lakeSource`)
 * from here, so that only jobs that use the lake load parquet-wasm, Arrow, Avro and the S3 SDK.
 */
export { Catalog, type CatalogOptions } from './catalog.ts';
export { FileStoreTable, type OpenTableOptions } from './table/table.ts';
export { TableWriter, type CommitMessage, type TableWriterOptions } from './table/writer.ts';
export type { DynamicBucketAssignerOptions } from './table/dynamic-bucket.ts';
export { TableCommit, type TableCommitOptions } from './table/commit.ts';
export { readTable, readRows, tableAtSnapshot, planSplits, readSplit, rowToObject, type Condition, type Split, type ReadOptions } from './table/read.ts';
export { IncrementalReader, type ChangeBatch } from './table/incremental.ts';
export { planCompaction, runCompactTask, compactTable, pickCompaction, type CompactTask } from './table/compact.ts';
export { expireSnapshots, removeOrphanFiles, type ExpireOptions } from './table/maintenance.ts';
export { TagManager, tagSnapshot, type Tag } from './table/tags.ts';
export { ConsumerManager, type Consumer } from './table/consumers.ts';
export { TagAutoCreation, tagCreationSettings, type TagCreationSettings } from './table/tag-auto-creation.ts';
export { waitForWatermark, committedWatermark, type WaitForWatermarkOptions } from './table/watermark-wait.ts';
export { LakeWaitTimeoutError } from './errors.ts';
export { INSERT, UPDATE_BEFORE, UPDATE_AFTER, DELETE, type RowKind } from './table/merge.ts';
export { T, type DataType, type DataField } from './schema/types.ts';
export type { TableSchema, SchemaDefinition, SchemaChange } from './schema/schema.ts';
export { fileIOFor, LocalFileIO, S3FileIO, LocalFileLock, NO_LOCK, type FileIO, type FileStatus, type CommitLock, type S3Options } from './fs/index.ts';
export { lakeSink, openLakeTable, type LakeSinkOptions, type LakeTableLocation, type LakeSchemaChange } from './sink/index.ts';
export { lakeSource, type LakeSourceOptions, type LakeBatchSourceOptions, type LakeStreamingSourceOptions } from './source/index.ts';
