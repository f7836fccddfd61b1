/**
 * Where the live-room job writes, chosen by configuration: the OLAP store of its aggregates
 * (DuckDB files by default; ClickHouse or StarRocks), the alert sink (the console by default; a
 * Kafka topic), and the lake (Paimon tables under one directory, always).
 */
import { printSink, type DataStream, type DeadLetter } from 'weir';
import { clickhouseSink } from 'weir/clickhouse';
import { duckdbSink, type OlapTableOptions } from 'weir/duckdb';
import { kafkaSink, type KafkaRecord } from 'weir/kafka';
import { lakeSink, T, type SchemaDefinition } from 'weir/lake';
import { starrocksSink } from 'weir/starrocks';
import path from 'node:path';
import type { PnlAlert } from './model.ts';

/** The OLAP store of the aggregates. DuckDB: one database file per table in `dir` (DuckDB allows one writer per file). */
export type OlapConfig =
  | { type: 'duckdb'; dir: string }
  | { type: 'clickhouse'; url: string; database?: string; user?: string; password?: string }
  | { type: 'starrocks'; feUrl: string; database: string; user: string; password: string };

/** Where profit-and-loss alerts go besides the OLAP table `pnl_alerts`. */
export type AlertConfig = { type: 'console' } | { type: 'kafka'; brokers: string[]; topic: string; exactlyOnce?: boolean } | { type: 'none' };

/** The DuckDB file of a table (and its read-only copy, `<table>.read.duckdb`, which readers open). */
export function duckdbFile(dir: string, table: string): string {
  return path.join(dir, `${table}.duckdb`);
}

/**
 * The OLAP tables' keys and columns (DuckDB's type names; ClickHouse's and StarRocks' sinks map
 * them). DuckDB and ClickHouse tables are created from them; StarRocks tables must exist with them.
 */
export const OLAP_SCHEMAS = {
  room_revenue: {
    primaryKey: ['minute', 'room', 'anchor'],
    columns: { minute: 'VARCHAR', room: 'INTEGER', anchor: 'INTEGER', gifts: 'INTEGER', payments: 'INTEGER', revenueCents: 'BIGINT', costCents: 'BIGINT' },
  },
  anchor_top10: { primaryKey: ['minute', 'rank'], columns: { minute: 'VARCHAR', rank: 'INTEGER', anchor: 'INTEGER', revenueCents: 'BIGINT' } },
  daily_users: { primaryKey: ['day', 'metric'], columns: { day: 'VARCHAR', metric: 'VARCHAR', users: 'INTEGER', asOf: 'VARCHAR', final: 'BOOLEAN' } },
  pnl_alerts: { primaryKey: ['room', 'windowStart'], columns: { room: 'INTEGER', windowStart: 'VARCHAR', windowEnd: 'VARCHAR', revenueCents: 'BIGINT', costCents: 'BIGINT' } },
} as const;

/** Writes `stream` into `table` of the configured OLAP store, exactly once per checkpoint. */
export function toOlap<T>(stream: DataStream<T>, olap: OlapConfig, table: OlapTableOptions<T>): void {
  const options = { name: `${table.table}-olap`, uid: `${table.table}-olap` };
  switch (olap.type) {
    case 'duckdb':
      stream.sinkTo(duckdbSink<T>({ ...table, path: duckdbFile(olap.dir, table.table) }), options);
      return;
    case 'clickhouse':
      stream.sinkTo(clickhouseSink<T>({ ...table, url: olap.url, database: olap.database, user: olap.user, password: olap.password }), options);
      return;
    case 'starrocks':
      stream.sinkTo(starrocksSink<T>({ ...table, feUrl: olap.feUrl, database: olap.database, user: olap.user, password: olap.password, labelPrefix: `live-room-${table.table}` }), options);
      return;
  }
}

export function toAlerts(alerts: DataStream<PnlAlert>, config: AlertConfig): void {
  switch (config.type) {
    case 'console':
      alerts.sinkTo(printSink<PnlAlert>({ name: 'alerts-console', format: formatAlert }), { name: 'alerts-console', parallelism: 1 });
      return;
    case 'kafka':
      alerts.sinkTo(
        kafkaSink<PnlAlert>({
          brokers: config.brokers,
          topic: config.topic,
          key: (a) => String(a.room),
          ...(config.exactlyOnce ? { deliveryGuarantee: 'exactly-once' as const, transactionalIdPrefix: `live-room-alerts-${config.topic}` } : {}),
        }),
        { name: 'alerts-kafka', uid: 'alerts-kafka' },
      );
      return;
    case 'none':
      return;
  }
}

/** Where Kafka records that are not valid events go (the dead-letter output `BAD_EVENTS` of inputs.ts). */
export type BadEventsConfig = { type: 'console' } | { type: 'kafka'; brokers: string[]; topic: string } | { type: 'none' };

/** A dead letter as JSON: where the record was, its value as text, and why it was refused. */
export interface BadEvent {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  value: string | null;
  error: string;
}

export function badEventOf(d: DeadLetter<KafkaRecord>): BadEvent {
  const r = d.record;
  return { topic: r.topic, partition: r.partition, offset: Number(r.offset), timestamp: Number(r.timestamp), value: r.value === null ? null : r.value.toString('utf8'), error: d.error.message };
}

export function toBadEvents(bad: DataStream<DeadLetter<KafkaRecord>>, config: BadEventsConfig): void {
  if (config.type === 'none') return;
  const rows = bad.map(badEventOf, { name: 'bad-event-rows' });
  if (config.type === 'console') {
    rows.sinkTo(printSink<BadEvent>({ name: 'bad-events-console', format: (b) => `BAD EVENT ${b.topic}-${b.partition}@${b.offset}: ${b.error}` }), { name: 'bad-events-console', parallelism: 1 });
    return;
  }
  // at least once: a dead letter seen twice after a restore is still one bad record to look at (same coordinates)
  rows.sinkTo(kafkaSink<BadEvent>({ brokers: config.brokers, topic: config.topic, key: (b) => `${b.topic}-${b.partition}@${b.offset}`, deliveryGuarantee: 'at-least-once' }), { name: 'bad-events-kafka', uid: 'bad-events-kafka' });
}

export function formatAlert(a: PnlAlert): string {
  const dollars = (c: number): string => `$${(c / 100).toFixed(2)}`;
  return `ALERT room ${a.room} lost ${dollars(a.costCents - a.revenueCents)} in ${a.windowStart.slice(11, 16)}-${a.windowEnd.slice(11, 16)} UTC (revenue ${dollars(a.revenueCents)}, cost ${dollars(a.costCents)})`;
}

/** The lake's tables: ODS (raw events, the dimension tables) and the aggregation table. */
export const LAKE_TABLES = {
  gifts: 'ods_gift_events',
  payments: 'ods_payment_events',
  rooms: 'ods_rooms',
  anchors: 'ods_anchors',
  anchorDaily: 'dws_anchor_daily',
} as const;

const eventFields = (what: 'gift' | 'product') => [
  { name: 'id', type: T.notNull(T.bigint()) },
  { name: 'room', type: T.int() },
  { name: 'user', type: T.int() },
  { name: what, type: T.string() },
  { name: 'amountCents', type: T.int() },
  { name: 'ts', type: T.bigint() },
];

/** Append tables (no primary key, unaware buckets): the events as they came. */
export const giftTable: SchemaDefinition = { fields: eventFields('gift'), options: { bucket: '-1' } };
export const paymentTable: SchemaDefinition = { fields: eventFields('product'), options: { bucket: '-1' } };

/** The dimension tables, kept current from their changelog (primary key id: +U replaces, -D deletes). */
export const roomTable: SchemaDefinition = {
  fields: [
    { name: 'id', type: T.notNull(T.int()) },
    { name: 'title', type: T.string() },
    { name: 'anchor', type: T.int() },
    { name: 'subsidyCents', type: T.int() },
  ],
  primaryKeys: ['id'],
  options: { bucket: '1' },
};
export const anchorTable: SchemaDefinition = {
  fields: [
    { name: 'id', type: T.notNull(T.int()) },
    { name: 'name', type: T.string() },
    { name: 'sharePct', type: T.int() },
  ],
  primaryKeys: ['id'],
  options: { bucket: '1' },
};

/**
 * Revenue and gifts per anchor per UTC day, summed by Paimon's aggregation merge engine: the job
 * writes each anchor-minute once, the table adds them up (what a T+1 batch job used to compute).
 */
export const anchorDailyTable: SchemaDefinition = {
  fields: [
    { name: 'day', type: T.notNull(T.string()) },
    { name: 'anchor', type: T.notNull(T.int()) },
    { name: 'revenueCents', type: T.bigint() },
    { name: 'gifts', type: T.bigint() },
  ],
  primaryKeys: ['day', 'anchor'],
  options: {
    bucket: '2',
    'merge-engine': 'aggregation',
    'fields.revenueCents.aggregate-function': 'sum',
    'fields.gifts.aggregate-function': 'sum',
  },
};

/** Writes `stream` into the lake table; `parallelism` (of the router and writers) as the input's when a key's changes must stay in order. */
export function toLake<T>(stream: DataStream<T>, lake: string, table: string, schema: SchemaDefinition, parallelism?: number): void {
  const sink = lakeSink<T>({ path: path.join(lake, table), schema, ...(parallelism ? { writers: parallelism } : {}) });
  stream.sinkTo(sink, { name: `${table}-lake`, uid: `${table}-lake`, ...(parallelism ? { parallelism } : {}) });
}
