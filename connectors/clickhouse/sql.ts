/**
 * ClickHouse 18.16 SQL for the sink: column types, the target table (ReplacingMergeTree on the
 * primary key with a version and a delete flag), the staging table (one partition per provisional
 * checkpoint, dropped once that checkpoint is committed), and rows as JSONEachRow.
 *
 *     target   user columns..., _weir_version UInt64, _weir_deleted UInt8
 *              ReplacingMergeTree(_weir_version) ORDER BY (primary key)
 *              (append-only: ORDER BY (_weir_version, _weir_writer), so a replayed copy collapses)
 *     staging  user columns..., _weir_checkpoint, _weir_batch, _weir_writer, _weir_seq, _weir_deleted
 *              MergeTree PARTITION BY _weir_checkpoint ORDER BY (_weir_batch, _weir_seq)
 *
 * Version = checkpoint id * 2^32 + the row's sequence number in its writer's checkpoint: later
 * checkpoints win, later changes within one win, and a checkpoint committed twice (a replay after a
 * restore) writes the same rows with the same versions, which ReplacingMergeTree keeps once.
 */
import { ConfigError } from '../../runtime/errors.ts';
import type { ColumnType, OlapColumn, OlapTableSchema } from '../olap/schema.ts';

const CH_TYPES: Record<ColumnType, string | undefined> = {
  BOOLEAN: 'UInt8',
  INTEGER: 'Int32',
  BIGINT: 'Int64',
  DOUBLE: 'Float64',
  VARCHAR: 'String',
  TIMESTAMP: 'DateTime', // seconds: 18.16 has no DateTime64
  DATE: 'Date',
  BLOB: undefined,
  JSON: 'String',
};

export function ident(name: string): string {
  return `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
}

export function literal(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export function clickhouseType(c: OlapColumn, sink: string): string {
  const t = CH_TYPES[c.type];
  if (!t) throw new ConfigError(`${sink}.columns.${c.name}`, `ClickHouse has no column for ${c.type} values here; map the field to a hex or base64 string (VARCHAR) before the sink`);
  return c.nullable ? `Nullable(${t})` : t;
}

export function stagingTableOf(table: string): string {
  return `${table}__weir_staging`;
}

export function createTargetSql(schema: OlapTableSchema, sink: string): string {
  const cols = schema.columns.map((c) => `${ident(c.name)} ${clickhouseType(c, sink)}`);
  const order = schema.primaryKey.length > 0 ? schema.primaryKey.map(ident).join(', ') : '_weir_version, _weir_writer';
  const extra = ['_weir_version UInt64', '_weir_deleted UInt8', ...(schema.primaryKey.length > 0 ? [] : ['_weir_writer UInt16'])];
  return `CREATE TABLE IF NOT EXISTS ${ident(schema.table)} (${[...cols, ...extra].join(', ')}) ENGINE = ReplacingMergeTree(_weir_version) ORDER BY (${order})`;
}

export function createStagingSql(schema: OlapTableSchema, sink: string): string {
  const cols = schema.columns.map((c) => `${ident(c.name)} ${clickhouseType(c, sink)}`);
  const extra = ['_weir_checkpoint UInt64', '_weir_batch String', '_weir_writer UInt16', '_weir_seq UInt64', '_weir_deleted UInt8'];
  return `CREATE TABLE IF NOT EXISTS ${ident(stagingTableOf(schema.table))} (${[...cols, ...extra].join(', ')}) ENGINE = MergeTree() PARTITION BY _weir_checkpoint ORDER BY (_weir_batch, _weir_seq)`;
}

/** Copies staged batches into the target under checkpoint `checkpointId`'s versions. */
export function copyStagedSql(schema: OlapTableSchema, checkpointId: number, provisional: readonly number[], batches: readonly string[]): string {
  const cols = schema.columns.map((c) => ident(c.name));
  const extra = ['_weir_version', '_weir_deleted', ...(schema.primaryKey.length > 0 ? [] : ['_weir_writer'])];
  const values = [...cols, `toUInt64(${checkpointId}) * 4294967296 + _weir_seq`, '_weir_deleted', ...(schema.primaryKey.length > 0 ? [] : ['_weir_writer'])];
  return (
    `INSERT INTO ${ident(schema.table)} (${[...cols, ...extra].join(', ')}) SELECT ${values.join(', ')} FROM ${ident(stagingTableOf(schema.table))}` +
    ` WHERE _weir_checkpoint IN (${[...new Set(provisional)].join(', ')}) AND _weir_batch IN (${batches.map(literal).join(', ')})`
  );
}

/** JSONEachRow lines of a staged batch. */
export function stagedRowsJson(columns: readonly OlapColumn[], rows: readonly unknown[][], deleted: Uint8Array, meta: { checkpoint: number; batch: string; writer: number; firstSeq: number }): string {
  const names = columns.map((c) => JSON.stringify(c.name));
  const encoders = columns.map((c) => ENCODE[c.type]);
  const tail = `,"_weir_checkpoint":${meta.checkpoint},"_weir_batch":${JSON.stringify(meta.batch)},"_weir_writer":${meta.writer}`;
  let out = '';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let line = '{';
    for (let i = 0; i < names.length; i++) {
      const v = row[i];
      line += `${i === 0 ? '' : ','}${names[i]}:${v === null || v === undefined ? 'null' : encoders[i]!(v)}`;
    }
    out += `${line}${tail},"_weir_seq":${meta.firstSeq + r},"_weir_deleted":${deleted[r]}}\n`;
  }
  return out;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

const ENCODE: Record<ColumnType, (v: unknown) => string> = {
  BOOLEAN: (v) => (v ? '1' : '0'),
  INTEGER: (v) => String(v),
  BIGINT: (v) => `"${String(v)}"`,
  DOUBLE: (v) => (Number.isFinite(v as number) ? String(v) : JSON.stringify(String(v))),
  VARCHAR: (v) => JSON.stringify(v),
  TIMESTAMP: (v) => {
    const d = v as Date;
    return `"${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}"`;
  },
  DATE: (v) => JSON.stringify(v),
  BLOB: () => 'null',
  JSON: (v) => JSON.stringify(v),
};
