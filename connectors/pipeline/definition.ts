/**
 * A Flink CDC pipeline file, read and checked: `source` (mysql), `sink` (paimon/lake, starrocks,
 * clickhouse, duckdb), `route`, `transform`, `pipeline`. Keys mean what they mean in Flink CDC
 * (docs/pipelines.md lists them); options Flink CDC has and Weir does not need are accepted and
 * reported as ignored; anything else fails naming the line and key.
 *
 *     const def = readPipelineFile('jobs/pipelines/mysql-to-paimon.yaml');
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../lake/table/options.ts';
import { ExpressionError, parseExpression, parseProjection, type ParsedExpression, type ProjectionItem } from './expression.ts';
import { parsePipelineYaml, PipelineDefinitionError, type YamlMap } from './yaml-map.ts';
import { parseTablePattern, parseTablePatterns, type TablePattern } from './table-patterns.ts';

export { PipelineDefinitionError } from './yaml-map.ts';

export const SINK_TYPES = ['paimon', 'lake', 'starrocks', 'clickhouse', 'duckdb'] as const;
export type SinkType = 'lake' | 'starrocks' | 'clickhouse' | 'duckdb';
export const SCHEMA_CHANGE_BEHAVIORS = ['lenient', 'try_evolve', 'evolve', 'ignore', 'exception'] as const;
export type PipelineSchemaChangeBehavior = (typeof SCHEMA_CHANGE_BEHAVIORS)[number];

export type PipelineStartup = 'initial' | 'latest' | 'earliest' | { timestamp: number };

export interface SourceDefinition {
  type: 'mysql';
  hostname: string;
  port: number;
  username: string;
  /** Kept out of every message and log; `describe` shows `******`. */
  password: string;
  tables: TablePattern[];
  tablesText: string;
  serverId?: number;
  serverIdRange?: [number, number];
  serverTimeZone?: string;
  chunkSize?: number;
  startup: PipelineStartup;
  heartbeatIntervalMs?: number;
  connectTimeoutMs?: number;
}

export interface LakeSinkDefinition {
  type: 'lake';
  warehouse: string;
  /** Paimon table options for tables the sink creates (`table.properties.*`). */
  tableOptions: Record<string, string>;
  commitUser?: string;
}

export interface StarRocksSinkDefinition {
  type: 'starrocks';
  feUrls: string[];
  username: string;
  password: string;
  labelPrefix?: string;
}

export interface ClickHouseSinkDefinition {
  type: 'clickhouse';
  url: string;
  username?: string;
  password?: string;
  /** The ClickHouse database; default: the sink table's database part. */
  database?: string;
}

export interface DuckDbSinkDefinition {
  type: 'duckdb';
  path: string;
}

export type SinkDefinition = LakeSinkDefinition | StarRocksSinkDefinition | ClickHouseSinkDefinition | DuckDbSinkDefinition;

export interface RouteDefinition {
  sourceTable: TablePattern;
  sinkTable: string;
  replaceSymbol?: string;
  description?: string;
  line: number;
}

export interface TransformDefinition {
  sourceTable: TablePattern;
  projection?: ProjectionItem[];
  filter?: ParsedExpression;
  /** Primary keys of the transformed table (`primary-keys: id, region`); default: the source's. */
  primaryKeys?: string[];
  description?: string;
  /** Where `projection` and `filter` are, for errors found when the table's columns are known. */
  projectionLine: number;
  filterLine: number;
  path: string;
}

export interface PipelineSettings {
  name: string;
  parallelism?: number;
  schemaChangeBehavior: PipelineSchemaChangeBehavior;
  checkpointIntervalMs?: number;
}

export interface PipelineDefinition {
  file: string;
  source: SourceDefinition;
  sink: SinkDefinition;
  /** What the file's `sink.type` said (`paimon` or `lake`, ...), for messages. */
  sinkTypeAsWritten: string;
  routes: RouteDefinition[];
  transforms: TransformDefinition[];
  pipeline: PipelineSettings;
  /** Flink CDC options accepted without effect here, as `file:line key`, for the CLI to report. */
  ignored: string[];
}

const SOURCE_KEYS = ['type', 'name', 'hostname', 'port', 'username', 'password', 'tables', 'server-id', 'server-time-zone', 'scan.incremental.snapshot.chunk.size', 'scan.startup.mode', 'scan.startup.timestamp-millis', 'heartbeat.interval', 'connect.timeout'];
const SOURCE_IGNORED = ['tables.exclude', 'scan.snapshot.fetch.size', 'connect.max-retries', 'connection.pool.size', 'scan.incremental.close-idle-reader.enabled', 'scan.newly-added-table.enabled', 'schema-change.enabled', 'chunk-meta.group.size', 'chunk-key.even-distribution.factor.upper-bound', 'chunk-key.even-distribution.factor.lower-bound', 'metadata.list', 'include-comments.enabled', 'scan.incremental.snapshot.unbounded-chunk-first.enabled', 'treat-tinyint1-as-boolean.enabled', 'scan.binlog.newly-added-table.enabled'];
const SOURCE_IGNORED_PREFIXES = ['jdbc.properties.', 'debezium.'];
const LAKE_KEYS = ['type', 'name', 'catalog.properties.warehouse', 'catalog.properties.metastore', 'warehouse', 'commit.user', 'table.properties.*'];
const LAKE_IGNORED = ['partition.key', 'commit.user-prefix'];
const STARROCKS_KEYS = ['type', 'name', 'jdbc-url', 'load-url', 'username', 'password', 'sink.label-prefix'];
const STARROCKS_IGNORED = ['sink.connect.timeout-ms', 'sink.wait-for-continue.timeout-ms', 'sink.buffer-flush.max-bytes', 'sink.buffer-flush.interval-ms', 'sink.scan-frequency.ms', 'sink.io.thread-count', 'sink.at-least-once.use-transaction-stream-load', 'table.create.num-buckets'];
const STARROCKS_IGNORED_PREFIXES = ['table.create.properties.', 'sink.properties.', 'table.schema-change.'];
const CLICKHOUSE_KEYS = ['type', 'name', 'url', 'username', 'password', 'database'];
const DUCKDB_KEYS = ['type', 'name', 'path'];
const ROUTE_KEYS = ['source-table', 'sink-table', 'replace-symbol', 'description'];
const TRANSFORM_KEYS = ['source-table', 'projection', 'filter', 'primary-keys', 'description'];
const TRANSFORM_IGNORED = ['partition-keys', 'table-options', 'converter-after-transform'];
const PIPELINE_KEYS = ['name', 'parallelism', 'schema.change.behavior', 'execution.checkpointing.interval', 'checkpoint-interval'];
const PIPELINE_IGNORED = ['local-time-zone', 'schema.operator.uid', 'schema-operator.rpc-timeout', 'operator.uid.prefix', 'execution.runtime-mode'];

function ignoredKeys(m: YamlMap, names: readonly string[], prefixes: readonly string[] = []): string[] {
  const keys = m.accept([...names, ...m.keys().filter((k) => prefixes.some((p) => k.startsWith(p)))]);
  return keys.map((k) => `line ${m.lineOf(k)} ${m.keyPath(k)}`);
}

function tablePatterns(m: YamlMap, key: string): { patterns: TablePattern[]; text: string } {
  const text = m.required(key, 'db.table patterns, e.g. app_db.\\.*');
  try {
    return { patterns: parseTablePatterns(text), text };
  } catch (e) {
    return m.fail(key, (e as Error).message);
  }
}

function onePattern(m: YamlMap, key: string): TablePattern {
  const text = m.required(key, 'a db.table pattern');
  try {
    return parseTablePattern(text);
  } catch (e) {
    return m.fail(key, (e as Error).message);
  }
}

function duration(m: YamlMap, key: string): number | undefined {
  const v = m.string(key);
  if (v === undefined) return undefined;
  try {
    // Flink writes durations as `3s`, `1 min`, `PT10S` is not accepted
    return parseDuration(v.replace(/\b(seconds?|secs?)\b/i, 's').replace(/\b(minutes?|mins?)\b/i, 'min').replace(/\b(hours?)\b/i, 'h').replace(/\bmillis(econds?)?\b/i, 'ms'), m.keyPath(key));
  } catch {
    return m.fail(key, `'${v}' is not a duration; write e.g. 3s, 500 ms, 1 min`);
  }
}

function readSource(m: YamlMap, ignored: string[]): SourceDefinition {
  const type = m.required('type', 'the source connector (mysql)');
  if (type.toLowerCase() !== 'mysql') m.fail('type', `unknown source type '${type}'; expected mysql`);
  const hostname = m.required('hostname', 'the MySQL/MariaDB host');
  const port = m.int('port', 1, 65535) ?? 3306;
  const username = m.required('username', 'a user with SELECT, REPLICATION SLAVE and REPLICATION CLIENT');
  const password = m.string('password') ?? '';
  const { patterns, text } = tablePatterns(m, 'tables');
  let serverId: number | undefined;
  let serverIdRange: [number, number] | undefined;
  const sid = m.string('server-id');
  if (sid !== undefined) {
    const r = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(sid);
    if (!r) m.fail('server-id', `'${sid}' is not an id or a range (5400 or 5400-5404)`);
    const from = Number(r[1]);
    const to = r[2] === undefined ? undefined : Number(r[2]);
    if (from < 1 || (to !== undefined && to < from)) m.fail('server-id', `'${sid}' must be a positive id or a range from <= to`);
    if (to === undefined) serverId = from;
    else serverIdRange = [from, to];
  }
  const serverTimeZone = m.string('server-time-zone');
  const chunkSize = m.int('scan.incremental.snapshot.chunk.size', 1);
  const mode = m.oneOf('scan.startup.mode', ['initial', 'latest-offset', 'earliest-offset', 'timestamp'] as const);
  let startup: PipelineStartup = 'initial';
  if (mode === 'latest-offset') startup = 'latest';
  else if (mode === 'earliest-offset') startup = 'earliest';
  else if (mode === 'timestamp') {
    const ts = m.int('scan.startup.timestamp-millis', 0);
    if (ts === undefined) m.fail('scan.startup.mode', "'timestamp' needs scan.startup.timestamp-millis");
    startup = { timestamp: ts };
  } else m.string('scan.startup.timestamp-millis');
  const heartbeatIntervalMs = duration(m, 'heartbeat.interval');
  const connectTimeoutMs = duration(m, 'connect.timeout');
  m.string('name');
  ignored.push(...ignoredKeys(m, SOURCE_IGNORED, SOURCE_IGNORED_PREFIXES));
  m.rejectUnknown(SOURCE_KEYS);
  return {
    type: 'mysql', hostname, port, username, password, tables: patterns, tablesText: text, startup,
    ...(serverId !== undefined ? { serverId } : {}),
    ...(serverIdRange ? { serverIdRange } : {}),
    ...(serverTimeZone ? { serverTimeZone } : {}),
    ...(chunkSize !== undefined ? { chunkSize } : {}),
    ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
  };
}

function readSink(m: YamlMap, ignored: string[], file: string): { sink: SinkDefinition; written: string } {
  const written = m.required('type', `the sink connector (${SINK_TYPES.join(', ')})`);
  const type = written.toLowerCase();
  m.string('name');
  const relative = (p: string): string => (p.startsWith('s3://') || path.isAbsolute(p) ? p : path.resolve(path.dirname(file), p));
  switch (type) {
    case 'paimon':
    case 'lake': {
      const warehouse = m.string('catalog.properties.warehouse') ?? m.string('warehouse');
      if (warehouse === undefined || warehouse === '') {
        throw new PipelineDefinitionError(file, m.line, m.keyPath('catalog.properties.warehouse'), 'is missing: the Paimon warehouse directory (tables go to <warehouse>/<db>.db/<table>)');
      }
      const metastore = m.string('catalog.properties.metastore');
      if (metastore !== undefined && metastore !== 'filesystem') m.fail('catalog.properties.metastore', `'${metastore}' is not supported; Weir's lake catalog is the filesystem one (filesystem)`);
      const commitUser = m.string('commit.user');
      const tableOptions = m.prefixed('table.properties.');
      ignored.push(...ignoredKeys(m, LAKE_IGNORED, ['catalog.properties.']));
      m.rejectUnknown(LAKE_KEYS);
      return { sink: { type: 'lake', warehouse: relative(warehouse), tableOptions, ...(commitUser ? { commitUser } : {}) }, written };
    }
    case 'starrocks': {
      const load = m.required('load-url', 'the FE HTTP address(es), host:port (several separated by ;)');
      const feUrls = load.split(/[;,]/).map((s) => s.trim()).filter(Boolean).map((s) => (/^https?:\/\//.test(s) ? s : `http://${s}`));
      m.string('jdbc-url'); // Weir talks to StarRocks over HTTP only (Stream Load); the JDBC address is not needed
      const username = m.required('username', 'the StarRocks user');
      const password = m.string('password') ?? '';
      const labelPrefix = m.string('sink.label-prefix');
      ignored.push(...ignoredKeys(m, STARROCKS_IGNORED, STARROCKS_IGNORED_PREFIXES));
      m.rejectUnknown(STARROCKS_KEYS);
      return { sink: { type: 'starrocks', feUrls, username, password, ...(labelPrefix ? { labelPrefix } : {}) }, written };
    }
    case 'clickhouse': {
      const url = m.required('url', 'the ClickHouse HTTP interface, e.g. http://127.0.0.1:8123');
      if (!/^https?:\/\//.test(url)) m.fail('url', 'must start with http:// or https:// (the HTTP interface, e.g. http://127.0.0.1:8123)');
      const username = m.string('username');
      const password = m.string('password');
      const database = m.string('database');
      m.rejectUnknown(CLICKHOUSE_KEYS);
      return { sink: { type: 'clickhouse', url, ...(username ? { username } : {}), ...(password ? { password } : {}), ...(database ? { database } : {}) }, written };
    }
    case 'duckdb': {
      const p = m.required('path', 'the DuckDB database file');
      m.rejectUnknown(DUCKDB_KEYS);
      return { sink: { type: 'duckdb', path: relative(p) }, written };
    }
    default:
      return m.fail('type', `unknown sink type '${written}'; expected one of ${SINK_TYPES.join(', ')}`);
  }
}

function readRoute(m: YamlMap): RouteDefinition {
  const sourceTable = onePattern(m, 'source-table');
  const sinkTable = m.required('sink-table', 'the table to write to, db.table');
  const replaceSymbol = m.string('replace-symbol');
  if (!/^[^.]+\.[^.]+$/.test(sinkTable.replaceAll(replaceSymbol ?? '\u0000', 'x'))) m.fail('sink-table', `'${sinkTable}' is not db.table`);
  if (replaceSymbol !== undefined && !sinkTable.includes(replaceSymbol)) m.fail('replace-symbol', `'${replaceSymbol}' does not occur in sink-table '${sinkTable}'`);
  const description = m.string('description');
  m.rejectUnknown(ROUTE_KEYS);
  return { sourceTable, sinkTable, line: m.line, ...(replaceSymbol ? { replaceSymbol } : {}), ...(description ? { description } : {}) };
}

/** An expression error as a definition error: the line and key, and the unsupported part. */
export function expressionFailure(m: { file: string; line: number; key: string }, text: string, e: unknown): never {
  if (!(e instanceof ExpressionError)) throw e;
  const near = text.slice(e.at, e.at + 30);
  throw new PipelineDefinitionError(m.file, m.line, m.key, `${e.reason}${near ? ` (at '${near}${text.length > e.at + 30 ? '...' : ''}')` : ''}`);
}

function readTransform(m: YamlMap, ignored: string[], file: string): TransformDefinition {
  const sourceTable = onePattern(m, 'source-table');
  const projText = m.string('projection');
  const filterText = m.string('filter');
  const pk = m.string('primary-keys');
  const description = m.string('description');
  ignored.push(...ignoredKeys(m, TRANSFORM_IGNORED));
  m.rejectUnknown(TRANSFORM_KEYS);
  let projection: ProjectionItem[] | undefined;
  let filter: ParsedExpression | undefined;
  if (projText !== undefined && projText.trim() !== '') {
    try {
      projection = parseProjection(projText);
    } catch (e) {
      expressionFailure({ file, line: m.lineOf('projection'), key: m.keyPath('projection') }, projText, e);
    }
  }
  if (filterText !== undefined && filterText.trim() !== '') {
    try {
      filter = parseExpression(filterText);
    } catch (e) {
      expressionFailure({ file, line: m.lineOf('filter'), key: m.keyPath('filter') }, filterText, e);
    }
  }
  return {
    sourceTable, projectionLine: m.lineOf('projection'), filterLine: m.lineOf('filter'), path: m.path,
    ...(projection ? { projection } : {}),
    ...(filter ? { filter } : {}),
    ...(pk ? { primaryKeys: pk.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(description ? { description } : {}),
  };
}

function readPipeline(m: YamlMap | undefined, ignored: string[], file: string): PipelineSettings {
  if (!m) return { name: path.basename(file, path.extname(file)), schemaChangeBehavior: 'lenient' };
  const name = m.string('name') ?? path.basename(file, path.extname(file));
  const parallelism = m.int('parallelism', 1, 1024);
  const schemaChangeBehavior = m.oneOf('schema.change.behavior', SCHEMA_CHANGE_BEHAVIORS) ?? 'lenient';
  if (m.has('execution.checkpointing.interval') && m.has('checkpoint-interval')) m.fail('checkpoint-interval', 'and execution.checkpointing.interval say the same: keep one');
  const checkpointIntervalMs = duration(m, 'execution.checkpointing.interval') ?? duration(m, 'checkpoint-interval');
  ignored.push(...ignoredKeys(m, PIPELINE_IGNORED));
  m.accept(['user-defined-function', 'model']).forEach((k) => m.fail(k, 'user-defined functions and models are not supported (Weir runs no Java classes); use the built-in functions of the transform subset (docs/pipelines.md)'));
  m.rejectUnknown(PIPELINE_KEYS);
  return { name, schemaChangeBehavior, ...(parallelism !== undefined ? { parallelism } : {}), ...(checkpointIntervalMs !== undefined ? { checkpointIntervalMs } : {}) };
}

/** Reads and checks a pipeline file's text. `file` names it in errors. */
export function parsePipelineDefinition(file: string, text: string): PipelineDefinition {
  const root = parsePipelineYaml(file, text);
  const ignored: string[] = [];
  const sourceMap = root.map('source');
  if (!sourceMap) throw new PipelineDefinitionError(file, 1, 'source', 'is missing: a source block (type: mysql, hostname, port, username, password, tables)');
  const source = readSource(sourceMap, ignored);
  const sinkMap = root.map('sink');
  if (!sinkMap) throw new PipelineDefinitionError(file, 1, 'sink', `is missing: a sink block (type: one of ${SINK_TYPES.join(', ')})`);
  const { sink, written } = readSink(sinkMap, ignored, file);
  const routes = root.list('route').map(readRoute);
  const transforms = root.list('transform').map((t) => readTransform(t, ignored, file));
  const pipeline = readPipeline(root.map('pipeline'), ignored, file);
  root.rejectUnknown(['source', 'sink', 'route', 'transform', 'pipeline']);
  return { file, source, sink, sinkTypeAsWritten: written, routes, transforms, pipeline, ignored };
}

/** Reads a pipeline file from disk; errors name it as given. */
export function readPipelineFile(file: string): PipelineDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PipelineDefinitionError(file, 0, '(file)', `cannot be read: ${(e as Error).message}`);
  }
  return parsePipelineDefinition(file, text);
}
