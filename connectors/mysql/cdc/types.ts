/**
 * The public shapes of the MySQL CDC source: its options, the records it emits, and its splits
 * (plain data: they cross threads and go into checkpoints).
 */
import type { RowKind } from '../../../operators/changelog.ts';

/** Where the binlog reading starts when the job starts without state. */
export type StartupMode =
  | 'initial' // snapshot of the tables, then the binlog from the snapshot's position (Flink CDC's default)
  | 'latest' // no snapshot: the binlog from its end at job start
  | 'earliest' // no snapshot: the binlog from the oldest file the server still has
  | { timestamp: number } // no snapshot: binlog events at or after this epoch millisecond
  | { gtid: string } // no snapshot: after these GTIDs (MariaDB '0-1-123', or a MySQL GTID set)
  | { file: string; pos: number }; // no snapshot: from this binlog file and position

/** What a schema change in the binlog does to the stream (Flink CDC's `schema.change.behavior`). */
export type SchemaChangeBehavior = 'lenient' | 'evolve' | 'try_evolve' | 'ignore' | 'exception';

export interface MySqlCdcRoute {
  /** Source tables, `db.table` matched as a whole (e.g. /shop\.order_\d+/). */
  source: RegExp;
  /** The table name the records carry instead (e.g. 'shop.orders'). */
  sink: string;
  /** Adds this column with the source table's `db.table` to every row (for merged shards). */
  sourceTableColumn?: string;
}

export interface MySqlCdcOptions {
  host: string;
  port?: number;
  user: string;
  password?: string;
  /** Databases to capture. */
  databases: readonly string[];
  /** Tables to capture, matched against `db.table` as a whole (default: every table of `databases`). */
  tables?: RegExp;
  /** The replica server id of the binlog connection: unique among the server's replicas (default 5400 + a hash of the tables). */
  serverId?: number;
  /** Alternatively a range `[from, to]`: the binlog reader takes the first id. */
  serverIdRange?: readonly [number, number];
  /** Default 'initial'. */
  startup?: StartupMode;
  /**
   * The zone DATETIME values are in. Default: none, DATETIME comes out as its wall-clock text
   * ('2026-01-02 03:04:05.123'). Set ('UTC' or '+02:00'), DATETIME comes out as an instant
   * ('2026-01-02T01:04:05.123Z'), as TIMESTAMP always does.
   */
  serverTimeZone?: string;
  /** Rows per snapshot chunk (default 8096, as Flink CDC). */
  chunkSize?: number;
  /** How schema changes are handled (default 'lenient'). */
  schemaChanges?: SchemaChangeBehavior;
  /** Merge tables into one name, or rename them. The first matching route wins. */
  routes?: readonly MySqlCdcRoute[];
  /** Ms between heartbeats of an idle binlog connection, which move the position on (default 30 000; 0 = off). */
  heartbeatIntervalMs?: number;
  /** Connect timeout per connection, ms (default 10 000). */
  connectTimeoutMs?: number;
}

/** A column of a captured table. */
export interface CdcColumn {
  name: string;
  /** MySQL's column type as `information_schema.COLUMNS.COLUMN_TYPE` spells it ('decimal(10,2)', 'bigint(20) unsigned'). */
  type: string;
  nullable: boolean;
}

/** A table's shape as the records carry it; a new object after every schema change. */
export interface CdcTableSchema {
  /** `db.table` in MySQL (before routes). */
  table: string;
  columns: readonly CdcColumn[];
  primaryKeys: readonly string[];
}

/** A row change: Weir's changelog record (operators/changelog.ts) plus the table it belongs to. */
export interface CdcRowChange<Row = CdcRow> {
  kind: RowKind;
  row: Row;
  /** Target table (after routes): `db.table`. */
  table: string;
  /** The MySQL table it came from (differs from `table` under a route). */
  sourceTable: string;
  schema: CdcTableSchema;
}

export type SchemaChangeEvent =
  | { type: 'create-table' }
  | { type: 'add-column'; column: CdcColumn; after?: string; first?: boolean }
  | { type: 'drop-column'; column: string }
  | { type: 'rename-column'; from: string; to: string }
  | { type: 'modify-column'; column: CdcColumn }
  | { type: 'truncate-table' }
  | { type: 'drop-table' };

/** A schema change read from the binlog, in order with the rows. `schema` is the table after it (before it, for drop-table). */
export interface CdcSchemaChange {
  kind: 'schema';
  change: SchemaChangeEvent;
  table: string;
  sourceTable: string;
  schema: CdcTableSchema;
  /** The DDL statement as the binlog has it. */
  ddl: string;
  /** 'try_evolve': a sink that cannot apply the change goes on without it; otherwise it fails. */
  tolerateFailure: boolean;
}

export type CdcRecord<Row = CdcRow> = CdcRowChange<Row> | CdcSchemaChange;

/**
 * Column values: INT types and YEAR number; BIGINT (signed and unsigned) bigint; DECIMAL a string
 * with the column's scale ('12.30'); FLOAT/DOUBLE number; CHAR/VARCHAR/TEXT/ENUM/SET/JSON/TIME/DATE
 * and DATETIME strings; TIMESTAMP an ISO instant ('2026-01-02T03:04:05.123456Z'); BINARY/VARBINARY/
 * BLOB and BIT(n>1) Uint8Array; BIT(1) boolean; NULL null.
 */
export type CdcValue = null | boolean | number | bigint | string | Uint8Array;
export type CdcRow = Record<string, CdcValue>;

// ---------- splits (internal, but plain data in checkpoints) ----------

/** A binlog position: file and byte offset. */
export interface BinlogPosition {
  file: string;
  pos: number;
}

/** A chunk key bound: the chunk key column's value (number, bigint or string). */
export type ChunkBound = number | bigint | string;

export interface SnapshotSplit {
  id: string;
  kind: 'snapshot';
  table: string;
  /** The column whose ranges make the chunks (the first primary-key column). */
  chunkKey: string;
  index: number;
  /** Inclusive lower bound; null: from the first row. */
  lo: ChunkBound | null;
  /** Exclusive upper bound; null: to the last row. */
  hi: ChunkBound | null;
  /** The table's shape when the chunks were planned. */
  schema: CdcTableSchema;
  /** Set once the chunk was read and emitted: the binlog position its snapshot matches. */
  finishedAt?: BinlogPosition;
}

/** A finished chunk as the binlog split keeps it: its key range and the position of its snapshot. */
export interface FinishedChunk {
  table: string;
  lo: ChunkBound | null;
  hi: ChunkBound | null;
  at: BinlogPosition;
}

export interface BinlogSplit {
  id: 'binlog';
  kind: 'binlog';
  /** Where to resume: the start of the transaction being read (or the next one). */
  start: BinlogPosition | null;
  /** Row changes of the transaction at `start` already emitted (skipped on resume). */
  skipRows: number;
  /** Start from a GTID set (startup { gtid }) when there is no file position yet. */
  gtid?: string;
  /** The GTID position of the last finished transaction (MariaDB: domain-server-seq per domain). */
  gtidPosition?: string;
  /** Only with startup { timestamp }: row events before it are dropped. */
  fromTimestamp?: number;
  /** Finished snapshot chunks: the hand-off filter (empty without a snapshot). */
  chunks: FinishedChunk[];
  /** The captured tables' shapes at `start`, kept up to date with the schema changes read since. */
  schemas: Record<string, CdcTableSchema>;
  /** The shapes the stream shows (lag `schemas` under the 'lenient' and 'ignore' behaviours); default `schemas`. */
  outSchemas?: Record<string, CdcTableSchema>;
}

export type MySqlCdcSplit = SnapshotSplit | BinlogSplit;

/** What a reader reports to the enumerator when a chunk is finished. */
export interface ChunkFinishedEvent {
  type: 'chunk-finished';
  id: string;
  chunk: { table: string; lo: ChunkBound | null; hi: ChunkBound | null };
  at: BinlogPosition;
}
