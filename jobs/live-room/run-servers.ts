/**
 * `npm run demo:servers`: the live-room job against servers started by the project's scripts:
 * Kafka (test/services/kafka.sh: librdkafka's mock cluster), MariaDB (mysql.sh) and a
 * StarRocks-compatible endpoint (starrocks.sh: the loopback server of StarRocks' load API), each
 * with its state in a private directory, stopped when the demo ends, however it ends.
 *
 * The same generated input as `npm run demo`, fed to the servers: the `rooms`/`anchors` rows are
 * inserted into MariaDB before the job starts (the CDC snapshot reads them); then, while the job
 * runs, the events are produced into Kafka in time order and the dimension changes (UPDATEs, dated
 * DELETEs) are written to MariaDB at their place among them (the binlog brings them). The job
 * writes the aggregates to StarRocks (Stream Load transactions), the ODS and aggregation tables to
 * the lake, the alerts to a Kafka topic (exactly once). When the lake holds every event and the
 * final dimension tables, the job is stopped with drain (the CDC source never ends; drain fires the
 * last windows, as the end of the generator's input does), and the summary is read back from the
 * StarRocks server's tables and the lake: the same one `npm run demo` prints.
 *
 * Environment: DEMO_EVENTS (default 30000), DEMO_PARALLELISM (default 2).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { MiniCluster, weirHome } from 'weir';
import { createNamedTopic } from '../../test/integration/kafka/mock.ts';
import { createDimensionTables, dimensionChanges, eventMessages, writeDimensionChanges, type DimensionChange } from './feed.ts';
import { resolveData, spanMs } from './generator.ts';
import job, { type LiveRoomParams } from './live-room.ts';
import { OLAP_TABLES, queryRows, readLakeTable, type OlapTable, type Plain } from './read-back.ts';
import { LAKE_TABLES, OLAP_SCHEMAS } from './sinks.ts';
import { printSummary } from './summary.ts';

const root = path.resolve(import.meta.dirname, '../..');
const events = Number(process.env.DEMO_EVENTS ?? 30_000);
const parallelism = Number(process.env.DEMO_PARALLELISM ?? 2);
// 50 events per second of event time: 30k events are 10 minutes, across midnight
const data = resolveData({ events, eventsPerSecond: 50 });
const DATABASE = 'live_room';
const TOPICS = { gifts: 'live-room-gifts', payments: 'live-room-payments', alerts: 'live-room-alerts', bad: 'live-room-bad-events' };

const servicesDir = mkdtempSync(path.join(os.tmpdir(), 'weir-demo-services-'));
const started: string[] = [];

function service(name: string, command: 'start' | 'stop'): string {
  return execFileSync('bash', [path.join(root, 'test/services', `${name}.sh`), command], {
    cwd: root,
    env: { ...process.env, WEIR_SERVICES_DIR: servicesDir },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

let stopped = false;
function stopServices(): void {
  if (stopped) return;
  stopped = true;
  for (const name of started.reverse()) {
    try {
      service(name, 'stop');
    } catch (e) {
      console.error(`stopping ${name}: ${(e as Error).message}`);
    }
  }
  rmSync(servicesDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopServices();
    process.exit(130);
  });
}

try {
  await main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
} finally {
  stopServices();
}

async function main(): Promise<void> {
  console.log(`Weir demo on servers: the live-room job from Kafka and MariaDB CDC into StarRocks and the lake (services under ${servicesDir})`);
  for (const name of ['kafka', 'mysql', 'starrocks']) {
    console.log(`  starting test/services/${name}.sh${name === 'kafka' ? ' (the first run builds the mock broker: about 80 s)' : ''}`);
    started.push(name);
    for (const line of service(name, 'start').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) process.env[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  const brokers = process.env.KAFKA_BROKERS!.split(',');
  const feUrl = process.env.WEIR_STARROCKS_FE_URL!;
  const mysqlUrl = new URL(process.env.WEIR_MYSQL_URL!);

  // MariaDB: the dimension tables and their first rows; Kafka: the topics; StarRocks: the tables.
  const conn = await mysql.createConnection({ uri: mysqlUrl.href });
  await createDimensionTables(conn, DATABASE);
  const changes = dimensionChanges(data);
  const initial = changes.filter((c) => c.time < data.start);
  const later = changes.filter((c) => c.time >= data.start);
  await writeDimensionChanges(conn, DATABASE, initial);
  await createNamedTopic(TOPICS.gifts, 3);
  await createNamedTopic(TOPICS.payments, 1);
  await createNamedTopic(TOPICS.alerts, 1);
  await createNamedTopic(TOPICS.bad, 1);
  for (const table of OLAP_TABLES) {
    const { columns, primaryKey } = OLAP_SCHEMAS[table];
    const types: Record<string, string> = { VARCHAR: 'VARCHAR', INTEGER: 'INT', BIGINT: 'BIGINT', BOOLEAN: 'BOOLEAN' };
    await starrocksTest(feUrl, 'POST', '/__test/tables', { db: DATABASE, table, primaryKey, columns: Object.entries(columns).map(([name, type]) => ({ name, type: types[type] })) });
  }

  const home = path.join(weirHome(), 'live-room-servers');
  rmSync(home, { recursive: true, force: true });
  const lake = path.join(home, 'lake');
  const params: LiveRoomParams = {
    ...data,
    eventSource: { type: 'kafka', brokers, topics: [TOPICS.gifts, TOPICS.payments], groupId: 'live-room' },
    dimensions: { type: 'mysql', host: mysqlUrl.hostname, port: Number(mysqlUrl.port), user: decodeURIComponent(mysqlUrl.username), database: DATABASE, serverId: 5999 },
    badEvents: { type: 'kafka', brokers, topic: TOPICS.bad },
    lake,
    olap: { type: 'starrocks', feUrl, database: DATABASE, user: process.env.WEIR_STARROCKS_USER!, password: process.env.WEIR_STARROCKS_PASSWORD! },
    alerts: { type: 'kafka', brokers, topic: TOPICS.alerts, exactlyOnce: true },
  };
  const cluster = new MiniCluster({
    workers: Math.max(1, Math.min(os.availableParallelism(), 4)),
    workDir: path.join(home, 'work'),
    checkpoints: { intervalMs: 1000, storage: { kind: 'local', dir: path.join(home, 'checkpoints') } },
  });
  console.log(`\nrunning the job (parallelism ${parallelism}, checkpoints every second)`);
  const began = Date.now();
  const handle = await cluster.submit(job, { params, parallelism });
  let failure: unknown;
  void handle.result().catch((e: unknown) => (failure = e));
  const check = (): void => {
    if (failure) throw failure as Error;
  };

  // The snapshot reads each row's current version: changes are written once it is in the lake.
  await until(check, async () => (await lakeRows(lake, LAKE_TABLES.rooms)).length + (await lakeRows(lake, LAKE_TABLES.anchors)).length === initial.length, 'the CDC snapshot in the lake');
  console.log(`  MariaDB: ${initial.length} rooms and anchors read by the CDC snapshot`);
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'weir-demo' });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // a record that is not an event: it goes to the dead-letter topic, the job goes on
    await producer.send({ topic: TOPICS.gifts, acks: -1, messages: [{ key: 'bad', value: '{"kind":"gift","room":', timestamp: String(data.start) }] });
    const messages = eventMessages(data);
    let sent = 0;
    const sendUntil = async (end: number): Promise<void> => {
      for (; sent < end; sent = Math.min(end, sent + 1000)) {
        const batch = messages.slice(sent, Math.min(end, sent + 1000));
        // gifts and payments in their own topics, as the apps send them
        const isPayment = (m: { value: string }): boolean => (JSON.parse(m.value) as { kind: string }).kind === 'payment';
        await producer.sendBatch({ acks: -1, topicMessages: [{ topic: TOPICS.gifts, messages: batch.filter((m) => !isPayment(m)) }, { topic: TOPICS.payments, messages: batch.filter(isPayment) }] });
      }
    };
    for (const c of later) {
      check();
      // the events before the change's time, then the change
      await sendUntil(Math.min(messages.length, Math.ceil(((c.time - data.start) * data.eventsPerSecond) / 1000)));
      await writeDimensionChanges(conn, DATABASE, [c]);
    }
    await sendUntil(messages.length);
  } finally {
    await producer.disconnect();
    await conn.end();
  }
  const deletes = later.filter((c) => c.change.kind === '-D').length;
  console.log(`  Kafka: ${events.toLocaleString('en-US')} events and 1 bad record produced to ${TOPICS.gifts} and ${TOPICS.payments}; MariaDB: ${later.length - deletes} upserts and ${deletes} deletes written among them`);

  const final = finalRows(changes);
  await until(check, async () => {
    const counts = (await lakeRows(lake, LAKE_TABLES.gifts)).length + (await lakeRows(lake, LAKE_TABLES.payments)).length;
    const rooms = (await lakeRows(lake, LAKE_TABLES.rooms)).map((r) => `${r.id}|${r.anchor}|${r.subsidyCents}`).sort().join();
    const anchors = (await lakeRows(lake, LAKE_TABLES.anchors)).map((r) => `${r.id}|${r.sharePct}`).sort().join();
    return counts === events && rooms === final.rooms && anchors === final.anchors;
  }, 'every event and the final dimension tables in the lake');
  console.log('  the lake holds every event and the final rooms and anchors: stopping the job with drain');
  await handle.stopWithSavepoint({ drain: true });
  const seconds = (Date.now() - began) / 1000;
  const checkpoints = handle.checkpoints().filter((c) => c.status === 'completed').length;
  console.log(`\nprocessed ${events.toLocaleString('en-US')} events in ${seconds.toFixed(1)} s, ${checkpoints} checkpoints`);

  // Read back from the StarRocks server's tables and the lake.
  const tables = {} as Record<OlapTable, Record<string, Plain>[]>;
  for (const table of OLAP_TABLES) tables[table] = ((await starrocksTest(feUrl, 'GET', `/__test/tables/${DATABASE}/${table}`)) as { rows: Record<string, Plain>[] }).rows;
  const agree = await printSummary({
    q: (sql) => queryRows(tables, sql),
    store: 'StarRocks',
    lake,
    inputEnd: data.start + spanMs(data),
    alertsNote: `also in the Kafka topic ${TOPICS.alerts}, exactly once`,
  });
  if (!agree) process.exitCode = 1;
  console.log(`\nthe lake tables stay under ${lake}: npx weir lake dump ${path.join(lake, LAKE_TABLES.anchorDaily)}
the servers are stopped now; their state was under ${servicesDir}`);
}

async function starrocksTest(feUrl: string, method: 'GET' | 'POST', p: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${feUrl}${p}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const json = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`StarRocks test server ${method} ${p}: ${JSON.stringify(json)}`);
  return json;
}

async function lakeRows(lake: string, table: string): Promise<Record<string, Plain>[]> {
  try {
    return (await readLakeTable(lake, table)).rows;
  } catch {
    return []; // not committed yet
  }
}

/** Polls `ok` every 200 ms until it holds (`check` throws if the job failed meanwhile); gives up after 5 minutes. */
async function until(check: () => void, ok: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    check();
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up after 5 minutes waiting for ${what}: the job runs but did not get there`);
}

/** The tables as of the end of the changelog, as `id|...` text (what ods_rooms and ods_anchors must hold). */
function finalRows(changes: readonly DimensionChange[]): { rooms: string; anchors: string } {
  const rooms = new Map<number, string>();
  const anchors = new Map<number, string>();
  for (const c of changes) {
    const map = c.table === 'rooms' ? rooms : anchors;
    if (c.change.kind === '-D') map.delete(c.change.row.id);
    else if (c.change.kind !== '-U') map.set(c.change.row.id, c.table === 'rooms' ? `${c.change.row.id}|${c.change.row.anchor}|${c.change.row.subsidyCents}` : `${c.change.row.id}|${c.change.row.sharePct}`);
  }
  return { rooms: [...rooms.values()].sort().join(), anchors: [...anchors.values()].sort().join() };
}

