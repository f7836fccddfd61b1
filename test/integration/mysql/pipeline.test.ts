/**
 * `weir pipeline run`'s job against the real MariaDB: a Flink CDC pipeline file (every table of a
 * database, routed with replace-symbol, one table transformed and filtered) into the lake and into
 * DuckDB, with ALTER TABLE ADD COLUMN mid-stream and a stop-with-savepoint / restore in the middle
 * (changes made while the pipeline is down included), a task manager killed after the new column
 * was committed (failover), and for the lake also kills at seeded checkpoint counts. The sink
 * tables end equal to MySQL's.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MiniCluster, SeededRandom, type JobHandle } from 'weir';
import { FileStoreTable, readTable, rowToObject } from 'weir/lake';
import job from '../../../connectors/pipeline/job.ts';
import { discoverTables, readPipelineFile, type PipelineJobParams } from '../../../connectors/pipeline/index.ts';
import { connect, connOptions, freshDatabase } from './cdc-helpers.ts';
import { killAtCompletedCounts } from '../../harness/kills.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-pipeline-'));
let conn: mysql.Connection;
/** Failures of the running pipelines (none expected): shown when a sink does not converge. */
const failures: string[] = [];
/** Set while a test kills a task manager on purpose. */
let killing = false;
const databases: string[] = [];

beforeAll(async () => {
  conn = await connect();
});
afterAll(async () => {
  for (const db of databases) await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
  rmSync(root, { recursive: true, force: true });
});

type Rows = Record<string, string[]>;
const text = (v: unknown): string => (v === null || v === undefined ? 'null' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v));
const line = (r: Record<string, unknown>, cols: string[]): string => cols.map((c) => `${c}=${text(r[c])}`).join(' ');

/** What the sink tables must hold: ods_orders = orders; ods_users = adults of users, names upper-cased. */
async function expected(db: string): Promise<Rows> {
  const [orders] = (await conn.query(`SELECT * FROM \`${db}\`.orders`)) as unknown as [Record<string, unknown>[]];
  const [users] = (await conn.query(`SELECT id, UPPER(name) AS name, age FROM \`${db}\`.users WHERE age >= 18`)) as unknown as [Record<string, unknown>[]];
  return {
    ods_orders: orders.map((r) => line({ ...r, amount: r.amount === null ? null : Number(r.amount) }, ['id', 'product', 'amount', 'note'])).sort(),
    ods_users: users.map((r) => line(r, ['id', 'name', 'age'])).sort(),
  };
}

async function lakeRows(warehouse: string, db: string): Promise<Rows> {
  const out: Rows = {};
  for (const t of ['ods_orders', 'ods_users']) {
    const dir = path.join(warehouse, `${db}.db`, t);
    if (!existsSync(path.join(dir, 'schema'))) return {};
    const table = await FileStoreTable.open(dir);
    const cols = t === 'ods_orders' ? ['id', 'product', 'amount', 'note'] : ['id', 'name', 'age'];
    out[t] = (await readTable(table)).map((r) => rowToObject(table, r)).map((r) => line({ ...r, amount: r.amount === undefined || r.amount === null ? r.amount : Number(r.amount) }, cols)).sort();
  }
  return out;
}

async function duckdbRows(file: string): Promise<Rows> {
  if (!existsSync(file)) return {};
  const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  try {
    const c = await db.connect();
    try {
      const out: Rows = {};
      for (const t of ['ods_orders', 'ods_users']) {
        const cols = t === 'ods_orders' ? ['id', 'product', 'amount', 'note'] : ['id', 'name', 'age'];
        const has = (await c.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_name = '${t}'`)).getRowsJson().map((r) => String(r[0]));
        if (has.length === 0) return {};
        const sel = cols.map((x) => (has.includes(x) ? x : `NULL AS ${x}`)).join(', ');
        const rows = (await c.runAndReadAll(`SELECT ${sel} FROM ${t}`)).getRowObjectsJson() as Record<string, unknown>[];
        out[t] = rows.map((r) => line({ ...r, amount: r.amount === null ? null : Number(r.amount) }, cols)).sort();
      }
      return out;
    } finally {
      c.closeSync();
    }
  } finally {
    db.closeSync();
  }
}

function pipelineFile(db: string, sink: string, serverId: number): string {
  const c = connOptions();
  const file = path.join(root, `${db}.yaml`);
  writeFileSync(file, `# a Flink CDC pipeline file; the sink is what differs between the two runs
source:
  type: mysql
  hostname: ${c.host}
  port: ${c.port}
  username: ${c.user}
  password: "${c.password ?? ''}"
  tables: ${db}.\\.*
  server-id: ${serverId}
  server-time-zone: UTC
  heartbeat.interval: 200ms

sink:
${sink}

route:
  - source-table: ${db}.\\.*
    sink-table: ${db}.ods_<>
    replace-symbol: <>

transform:
  - source-table: ${db}.users
    projection: id, UPPER(name) AS name, age
    filter: age >= 18

pipeline:
  name: pipeline test
  parallelism: 2
  schema.change.behavior: evolve
  execution.checkpointing.interval: 200ms
`);
  return file;
}

async function start(file: string, checkpoints: string, kill: boolean, restoreFrom?: Awaited<ReturnType<JobHandle['stopWithSavepoint']>>): Promise<JobHandle> {
  const def = readPipelineFile(file);
  const params: PipelineJobParams = { file, tables: await discoverTables(def) };
  const handle = await new MiniCluster({ workers: 2, workDir: path.join(root, 'work'), checkpoints: { intervalMs: def.pipeline.checkpointIntervalMs!, storage: { kind: 'local', dir: checkpoints } } })
    .submit(job, { params, parallelism: def.pipeline.parallelism!, ...(restoreFrom ? { restoreFrom } : {}) });
  if (kill) killAtCompletedCounts(handle, new SeededRandom(17), 2);
  else handle.on('failover', (f: { cause: Error }) => killing || failures.push(f.cause.message));
  return handle;
}

/** The job master's state, for failure messages: what a failover was doing, and every failover so far. */
function jobState(h: JobHandle): string {
  const failovers = h.failovers().map((f) => `attempt ${f.attempt}: ${f.cause.message}, ${f.restarted ? `restarted${f.runningAt ? '' : ' (next attempt not running yet)'}` : `not restarted: ${f.notRestartedBecause}`}`);
  return `status ${h.status}, attempt ${h.attemptNumber}, restarts ${h.restarts}, failover step ${h.restartPhase ?? 'none'}, live task managers ${h.liveTaskManagers}; failovers: ${failovers.join('; ') || 'none'}`;
}

async function scenario(name: string, sink: (db: string) => string, read: (db: string) => Promise<Rows>, serverId: number, kill: boolean): Promise<void> {
  const db = await freshDatabase(conn, `pipe_${name}`);
  databases.push(db);
  await conn.query(`CREATE TABLE \`${db}\`.orders (id INT PRIMARY KEY, product VARCHAR(20), amount DECIMAL(8,2))`);
  await conn.query(`CREATE TABLE \`${db}\`.users (id BIGINT PRIMARY KEY, name VARCHAR(20), age INT)`);
  await conn.query(`INSERT INTO \`${db}\`.orders VALUES (1, 'apple', 1.50), (2, 'pear', 2.25), (3, 'fig', NULL)`);
  await conn.query(`INSERT INTO \`${db}\`.users VALUES (1, 'ann', 30), (2, 'bob', 12), (3, 'cy', 45)`);
  const file = pipelineFile(db, sink(db), serverId);
  const checkpoints = path.join(root, `${name}-checkpoints`);
  const q = (sql: string) => conn.query(sql.replaceAll('T.', `\`${db}\`.`));
  const converge = async (): Promise<void> => {
    const want = await expected(db);
    await vi.waitFor(async () => {
      expect(failures).toEqual([]);
      expect(await read(db)).toEqual(want);
    }, { timeout: 60_000, interval: 200 });
  };

  let handle = await start(file, checkpoints, kill);
  await converge(); // the snapshot
  await q("UPDATE T.orders SET amount = 9.99 WHERE id = 1");
  await q("UPDATE T.users SET age = 18 WHERE id = 2"); // enters the filtered table
  await q("UPDATE T.users SET age = 17 WHERE id = 3"); // leaves it
  await q('ALTER TABLE T.orders ADD COLUMN note VARCHAR(10) NULL');
  await q("INSERT INTO T.orders VALUES (4, 'kiwi', 0.75, 'new')");
  await q("UPDATE T.orders SET note = 'late' WHERE id = 2");
  await converge();

  // a failover after the new column was committed: the restored sinks must know it. The job may still
  // be failing over from a seeded kill (the sinks converge before its restart ends): a kill then hits
  // a thread without tasks, which that restart replaces without another one; so kill a running attempt.
  await vi.waitFor(() => expect(handle.restarting, `the job is still failing over: ${jobState(handle)}`).toBe(false), { timeout: 30_000, interval: 20 });
  const restarts = handle.restarts;
  killing = true;
  handle.killTaskManager(0);
  await vi.waitFor(() => expect(handle.restarts, `no restart after killTaskManager(0) (restarts were ${restarts}): ${jobState(handle)}`).toBeGreaterThan(restarts), {
    timeout: 30_000,
    interval: 20,
  });
  // the restored writers' first row has the new column NULL (its type cannot come from the value)
  await q("UPDATE T.orders SET note = NULL WHERE id = 4");
  await q("INSERT INTO T.orders VALUES (6, 'lime', 1.00, NULL), (7, 'date', 2.00, 'x')");
  await converge();
  killing = false;

  // after a failover the job takes savepoints again once it has redeployed
  const savepoint = await vi.waitFor(() => handle.stopWithSavepoint(), { timeout: 30_000, interval: 100 });
  await q("INSERT INTO T.orders VALUES (5, 'plum', 3.00, 'offline')"); // while the pipeline is down
  await q('DELETE FROM T.orders WHERE id = 3');
  await q("INSERT INTO T.users VALUES (4, 'dee', 50)");
  if (kill) expect(handle.restarts).toBeGreaterThan(0);
  handle = await start(file, checkpoints, false, savepoint);
  await q("UPDATE T.orders SET product = 'APPLE', note = 'again' WHERE id = 1");
  await q('DELETE FROM T.users WHERE id = 1');
  await converge();
  expect(handle.status).toBe('running');
  await handle.cancel();
}

describe('weir pipeline run against MariaDB', () => {
  it('a pipeline into the lake: snapshot, routes, transform, ADD COLUMN, task managers killed, restore from a savepoint', async () => {
    const warehouse = path.join(root, 'warehouse');
    await scenario('lake', () => `  type: paimon\n  catalog.properties.metastore: filesystem\n  catalog.properties.warehouse: ${warehouse}\n  table.properties.bucket: 2`, (db) => lakeRows(warehouse, db), 6601, true);
    const dbName = databases.at(-1)!;
    const orders = await FileStoreTable.open(path.join(warehouse, `${dbName}.db`, 'ods_orders'));
    expect(orders.schema.fields.map((f) => f.name)).toEqual(['id', 'product', 'amount', 'note']);
  }, 150_000);

  it('the same pipeline into DuckDB', async () => {
    const dbFile = path.join(root, 'olap.duckdb');
    await scenario('duckdb', () => `  type: duckdb\n  path: ${dbFile}`, () => duckdbRows(path.join(root, 'olap.read.duckdb')), 6602, false);
  }, 150_000);
});
