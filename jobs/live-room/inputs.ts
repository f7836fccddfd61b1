/**
 * Where the live-room job reads, chosen by configuration: the gift and payment events from the
 * generator (default) or a Kafka topic, and the `rooms`/`anchors` changelogs from the generator
 * (default) or MySQL/MariaDB CDC. Whichever feeds it, the job sees the same records with the same
 * event times, so its output for the same input is the same (tests compare both with brute force).
 *
 * - Kafka: JSON values (`LiveEvent` without `ts`, or with it: it is ignored); the event time is the
 *   record's Kafka timestamp (the producer's CreateTime: the time the app saw the event, as Flink's
 *   KafkaSource uses it), watermarks `MAX_EARLY_MS` behind per partition. A record that is not a
 *   valid event goes to the dead-letter output `BAD_EVENTS` (Weir's `kafkaStream`), not into the job.
 * - MySQL CDC: the tables carry a `valid_from TIMESTAMP(3)` column, the time from which the row's
 *   version is valid (an `update_time` column, as a Flink SQL versioned table's rowtime); it is the
 *   change's event time, and the tables' watermark follows it (monotonous: write changes in time
 *   order). A deletion is valid from the `valid_from` of its before image: to date a deletion, set
 *   `valid_from` in the same transaction before the DELETE. Without `idleTimeoutMs`, facts wait in the
 *   temporal joins until both tables' watermark passes them (exact, but a table that never changes
 *   holds the joins back: the job's end, or a stop with drain, releases them); with it, a quiet table
 *   stops holding them back, and a change that arrives after its facts were joined comes too late for
 *   them (Flink's `table.exec.source.idle-timeout` trade-off).
 */
import { OutputTag, datagen, deletion, insert, updateAfter, WatermarkStrategy, type Change, type DataStream, type DeadLetter, type StreamEnv } from 'weir';
import { BadRecordError } from '../../runtime/errors.ts';
import { kafkaStream, type KafkaRecord } from 'weir/kafka';
import { mysqlCdcSource, type CdcRecord } from 'weir/mysql';
import { anchorChange, anchorChangeCount, anchorChangeTime, liveEvent, MAX_EARLY_MS, roomChange, roomChangeCount, roomChangeTime, type ResolvedData } from './generator.ts';
import type { Anchor, LiveEvent, Room } from './model.ts';

/** The gift and payment events. */
export type EventSourceConfig =
  | { type: 'generator'; ratePerSecond?: number }
  | {
      type: 'kafka';
      brokers: string[];
      /** Topics of gift and payment events (one topic for both kinds, or one each). */
      topics: string[];
      /** Consumer group the checkpointed offsets are committed to (monitoring). */
      groupId?: string;
      /** Stop at the offsets that were latest when the job started (default: read on until stopped). */
      bounded?: boolean;
    };

/** The `rooms` and `anchors` tables. */
export type DimensionSourceConfig =
  | { type: 'generator' }
  | {
      type: 'mysql';
      host: string;
      port?: number;
      user: string;
      password?: string;
      /** The database holding `rooms` and `anchors` (DIMENSION_TABLES_DDL). */
      database: string;
      /** The binlog connection's replica id (default: the connector's, from the tables). */
      serverId?: number;
      /** After this long without a change, the tables stop holding the temporal joins back (default: never). */
      idleTimeoutMs?: number;
    };

/** Kafka records that are not a valid event: the raw record (topic, partition, offset, value) and the error. */
export const BAD_EVENTS = new OutputTag<DeadLetter<KafkaRecord>>('bad-events');

/** The MariaDB/MySQL tables the CDC source reads (columns in snake case; `valid_from` dates each version). */
export const DIMENSION_TABLES_DDL = [
  `CREATE TABLE rooms (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL, anchor INT NOT NULL, subsidy_cents INT NOT NULL,
     valid_from TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`,
  `CREATE TABLE anchors (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL, share_pct INT NOT NULL,
     valid_from TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`,
];

export interface LiveInputs {
  events: DataStream<LiveEvent>;
  rooms: DataStream<Change<Room>>;
  anchors: DataStream<Change<Anchor>>;
}

/** The events, and the Kafka records that are not valid events (none from the generator). */
export function liveEvents(env: StreamEnv, d: ResolvedData, config: EventSourceConfig): { events: DataStream<LiveEvent>; bad?: DataStream<DeadLetter<KafkaRecord>> } {
  if (config.type === 'generator') {
    const events = env.fromSource(
      datagen<LiveEvent>({ name: 'live-events', count: d.events, seed: d.seed, ...(config.ratePerSecond ? { ratePerSecond: config.ratePerSecond } : {}), generate: (i, r) => liveEvent(i, r, d) }),
      { watermarks: WatermarkStrategy.forBoundedOutOfOrderness<LiveEvent>(MAX_EARLY_MS, (e) => e.ts), uid: 'live-events' },
    );
    return { events };
  }
  const events = kafkaStream<LiveEvent>(env, {
    brokers: config.brokers,
    topics: config.topics,
    ...(config.groupId ? { groupId: config.groupId } : {}),
    ...(config.bounded ? { bounded: true } : {}),
    deserializer: parseLiveEvent,
    deadLetter: BAD_EVENTS,
    // the Kafka timestamp is the event time (no assigner): the same bound as the generator's
    source: { uid: 'live-events', name: 'live-events', watermarks: WatermarkStrategy.forBoundedOutOfOrderness<KafkaRecord>(MAX_EARLY_MS) },
  });
  return { events, bad: events.getSideOutput(BAD_EVENTS) };
}

const int = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** A Kafka record's JSON value as an event, its time the record's timestamp; throws (to the dead-letter output) on anything else. */
export function parseLiveEvent(record: KafkaRecord): LiveEvent {
  if (record.value === null) throw new Error('the record has no value (a tombstone)');
  const v = JSON.parse(record.value.toString('utf8')) as Record<string, unknown>;
  if (v === null || typeof v !== 'object') throw new Error('the value is not a JSON object');
  for (const f of ['id', 'room', 'user', 'amountCents']) {
    if (!int(v[f]) || (v[f] as number) < 0) throw new Error(`field '${f}' must be a non-negative integer, got ${JSON.stringify(v[f])}`);
  }
  const base = { id: v.id as number, room: v.room as number, user: v.user as number, amountCents: v.amountCents as number, ts: Number(record.timestamp) };
  if (v.kind === 'gift' && typeof v.gift === 'string') return { kind: 'gift', ...base, gift: v.gift };
  if (v.kind === 'payment' && typeof v.product === 'string') return { kind: 'payment', ...base, product: v.product };
  throw new Error(`field 'kind' must be 'gift' (with 'gift') or 'payment' (with 'product'), got ${JSON.stringify(v.kind)}`);
}

/** The `rooms` and `anchors` changelogs, each change stamped with the time its version is valid from. */
export function dimensionChangelogs(env: StreamEnv, d: ResolvedData, config: DimensionSourceConfig): Pick<LiveInputs, 'rooms' | 'anchors'> {
  if (config.type === 'generator') {
    // One split, one subtask, in order (as a CDC reader of a binlog is), so the lake tables apply each key's changes in order.
    const rooms = env.fromSource(
      datagen<Change<Room>>({ name: 'rooms-changelog', count: roomChangeCount(d), seed: d.seed + 1, splits: 1, generate: (j, r) => roomChange(j, r, d), timestampOf: (_c, j) => roomChangeTime(j, d) }),
      { watermarks: WatermarkStrategy.forMonotonousTimestamps<Change<Room>>(), uid: 'rooms-changelog', parallelism: 1 },
    );
    const anchors = env.fromSource(
      datagen<Change<Anchor>>({ name: 'anchors-changelog', count: anchorChangeCount(d), seed: d.seed + 2, splits: 1, generate: (j, r) => anchorChange(j, r, d), timestampOf: (_c, j) => anchorChangeTime(j, d) }),
      { watermarks: WatermarkStrategy.forMonotonousTimestamps<Change<Anchor>>(), uid: 'anchors-changelog', parallelism: 1 },
    );
    return { rooms, anchors };
  }
  let watermarks = WatermarkStrategy.forMonotonousTimestamps<CdcRecord>(validFromOf);
  if (config.idleTimeoutMs !== undefined) watermarks = watermarks.withIdleness(config.idleTimeoutMs);
  const cdc = env.fromSource(
    mysqlCdcSource({
      host: config.host,
      ...(config.port !== undefined ? { port: config.port } : {}),
      user: config.user,
      ...(config.password !== undefined ? { password: config.password } : {}),
      databases: [config.database],
      tables: new RegExp(`${escapeRegExp(config.database)}\\.(rooms|anchors)`),
      ...(config.serverId !== undefined ? { serverId: config.serverId } : {}),
      // rows keep the shape the job knows; a DDL on the tables does not stop the job
      schemaChanges: 'ignore',
    }),
    // parallelism 1: the binlog is one reader's anyway, and the snapshot's rows (all valid from before the events) stay ahead of it
    { watermarks, uid: 'dimensions-cdc', name: 'dimensions-cdc', parallelism: 1 },
  );
  const rooms = cdc.flatMap<Change<Room>>((r, out) => {
    const change = changeOf(r, `${config.database}.rooms`, (row) => ({ id: Number(row.id), title: String(row.title), anchor: Number(row.anchor), subsidyCents: Number(row.subsidy_cents) }));
    if (change) out.collect(change);
  }, { name: 'rooms-changelog', parallelism: 1 });
  const anchors = cdc.flatMap<Change<Anchor>>((r, out) => {
    const change = changeOf(r, `${config.database}.anchors`, (row) => ({ id: Number(row.id), name: String(row.name), sharePct: Number(row.share_pct) }));
    if (change) out.collect(change);
  }, { name: 'anchors-changelog', parallelism: 1 });
  return { rooms, anchors };
}

/** A CDC record's event time: its row's `valid_from` (schema records are dropped after the source; they never move the watermark). */
function validFromOf(r: CdcRecord): number {
  if (r.kind === 'schema') return Number.MIN_SAFE_INTEGER;
  const t = Date.parse(String(r.row.valid_from));
  if (!Number.isFinite(t)) {
    throw new BadRecordError(`the CDC row of ${r.table} has no valid 'valid_from' timestamp: the live-room dimension tables need a 'valid_from TIMESTAMP(3)' column (DIMENSION_TABLES_DDL in jobs/live-room/inputs.ts)`, JSON.stringify(r.row).slice(0, 200));
  }
  return t;
}

/**
 * The job's change of a table's CDC record: -U dropped (the +U after it carries the version, as the
 * temporal join and an upsert lake table read it), +I/+U/-D kept with the row in the job's shape.
 */
function changeOf<D>(r: CdcRecord, table: string, row: (cdcRow: Record<string, unknown>) => D): Change<D> | undefined {
  if (r.kind === 'schema' || r.kind === '-U' || r.table !== table) return undefined;
  const value = row(r.row);
  return r.kind === '+I' ? insert(value) : r.kind === '+U' ? updateAfter(value) : deletion(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
