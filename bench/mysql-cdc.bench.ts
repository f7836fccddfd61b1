/**
 * The MySQL CDC source (issue: MySQL CDC source), against a MariaDB of its own (test/services/mysql.sh,
 * or the one WEIR_MYSQL_URL names):
 *  - mysql-cdc-snapshot-p1 / -p2: rows/s of the initial snapshot of a 1M-row table (chunks read in
 *    consistent-snapshot transactions, converted to CDC records) by 1 or 2 readers, from start until
 *    every chunk was emitted; baseline: one plain mysql2 streaming SELECT of the same table;
 *  - mysql-cdc-binlog: row changes/s read from the binlog for one UPDATE of all 1M rows (2M records,
 *    -U and +U); baseline: zongji alone decoding the same UPDATE's row events.
 * The readers run in this process (the source harness: the real enumerator host and readers), so
 * the numbers are the source's own, without the exchange. BENCH_MYSQL_CDC_ROWS changes the size.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { mysqlCdcSource, type CdcRecord, type MySqlCdcOptions, type MySqlCdcSplit } from 'weir/mysql';
import type { EnumeratorState } from '../connectors/mysql/cdc/enumerator.ts';
import { SourceHarness } from '../test/harness/source-harness.ts';
import { perSecond, type Benchmark, type Measurement } from './harness.ts';

const ROWS = Number(process.env.BENCH_MYSQL_CDC_ROWS ?? 1_000_000);
const here = path.dirname(fileURLToPath(import.meta.url));
type Harness = SourceHarness<CdcRecord, MySqlCdcSplit, EnumeratorState>;

interface Server {
  url: string;
  options: Pick<MySqlCdcOptions, 'host' | 'port' | 'user' | 'password'>;
  db: string;
}

let server: Promise<Server> | undefined;
let serviceDir: string | undefined;

/** The MariaDB to measure against, with a seeded 1M-row table (once per bench process). */
function setup(): Promise<Server> {
  server ??= (async () => {
    let url = process.env.WEIR_MYSQL_URL;
    if (!url) {
      serviceDir = mkdtempSync(path.join(os.tmpdir(), 'weir-bench-mysql-'));
      const out = execFileSync('bash', [path.join(here, '..', 'test', 'services', 'mysql.sh'), 'start'], { env: { ...process.env, WEIR_SERVICES_DIR: serviceDir } }).toString();
      url = /WEIR_MYSQL_URL=(\S+)/.exec(out)![1]!;
      const dir = serviceDir;
      process.once('exit', () => {
        execFileSync('bash', [path.join(here, '..', 'test', 'services', 'mysql.sh'), 'stop'], { env: { ...process.env, WEIR_SERVICES_DIR: dir } });
        rmSync(dir, { recursive: true, force: true });
      });
    }
    const u = new URL(url);
    // one table per size, kept between runs (seeding 1M rows takes longer than the measurements)
    const db = `bench_cdc_${ROWS}`;
    const c = await mysql.createConnection({ uri: url });
    await c.query(`CREATE DATABASE IF NOT EXISTS ${db}`);
    const [have] = (await c.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 't'`, [db])) as unknown as [{ n: number }[]];
    const seeded = Number(have[0]!.n) > 0 && Number(((await c.query(`SELECT COUNT(*) AS n FROM ${db}.t`)) as unknown as [{ n: number }[]])[0][0]!.n) === ROWS;
    if (!seeded) {
      await c.query(`DROP TABLE IF EXISTS ${db}.t`);
      await c.query(`CREATE TABLE ${db}.t (id INT PRIMARY KEY, v INT NOT NULL, amount DECIMAL(12,2) NOT NULL, note VARCHAR(40), ts DATETIME(3) NOT NULL)`);
    }
    for (let i = 0; !seeded && i < ROWS; i += 10_000) {
      const rows = Array.from({ length: Math.min(10_000, ROWS - i) }, (_, j) => [i + j, (i + j) % 1000, ((i + j) % 100_000) / 100, `note ${i + j}`, '2026-01-02 03:04:05.678']);
      await c.query(`INSERT INTO ${db}.t VALUES ?`, [rows]);
    }
    await c.end();
    return { url, options: { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }, db };
  })();
  return server;
}

let serverId = 7700;

/** Polls every reader until `done()`; completes a checkpoint when all wait (lets the binlog split out at p > 1). */
async function drive(h: Harness, done: () => boolean): Promise<void> {
  let checkpoint = 0;
  while (!done()) {
    if (h.errors.length > 0) throw h.errors[0];
    let more = false;
    for (let i = 0; i < h.parallelism; i++) if (h.poll(i, 10_000) === 'more') more = true;
    // a task's loop lets I/O in between polls: so does this one
    if (more) await new Promise((r) => setImmediate(r));
    else if (!done()) {
      h.snapshot(++checkpoint);
      h.coordinator.checkpointComplete(checkpoint);
      await Promise.race([...h.readers.map((r) => r.available()), new Promise((r) => setTimeout(r, 20))]);
    }
  }
}

/** Counts records without keeping them (the harness's recording outputs would hold 1M objects). */
function counted(h: Harness): () => number {
  let n = 0;
  for (const o of h.outputs) {
    const emitted = o.emitted;
    emitted.push = (...items) => ((n += items.length), 0);
  }
  return () => n;
}

async function snapshot(parallelism: number): Promise<Measurement> {
  const s = await setup();
  const source = mysqlCdcSource({ ...s.options, databases: [s.db], serverId: ++serverId, chunkSize: 8096 });
  const started = performance.now();
  const h: Harness = await new SourceHarness(source, parallelism).start();
  const count = counted(h);
  await drive(h, () => count() >= ROWS);
  const ms = performance.now() - started;
  await h.close();
  return { value: perSecond(ROWS, ms) };
}

async function plainSelect(): Promise<Measurement> {
  const s = await setup();
  const { createConnection } = (await import('mysql2')).default;
  const c = createConnection({ uri: s.url, supportBigNumbers: true, dateStrings: true });
  const started = performance.now();
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    c.query(`SELECT * FROM ${s.db}.t`)
      .stream()
      .on('data', () => void n++)
      .on('end', resolve)
      .on('error', reject);
  });
  const ms = performance.now() - started;
  c.end();
  if (n !== ROWS) throw new Error(`read ${n} rows, expected ${ROWS}`);
  return { value: perSecond(ROWS, ms) };
}

async function bulkUpdate(s: Server): Promise<void> {
  const c = await mysql.createConnection({ uri: s.url });
  await c.query(`UPDATE ${s.db}.t SET v = v + 1`);
  await c.end();
}

async function binlog(): Promise<Measurement> {
  const s = await setup();
  const h: Harness = await new SourceHarness(mysqlCdcSource({ ...s.options, databases: [s.db], serverId: ++serverId, startup: 'latest' }), 1).start();
  const count = counted(h);
  // the binlog connection is up once the reader holds the split
  await drive(h, () => h.readers[0]!.snapshotState(0).some((x) => x.kind === 'binlog'));
  const started = performance.now();
  await bulkUpdate(s);
  await drive(h, () => count() >= 2 * ROWS);
  const ms = performance.now() - started;
  await h.close();
  return { value: perSecond(ROWS, ms) };
}

async function zongjiAlone(): Promise<Measurement> {
  const s = await setup();
  const ZongJi = (await import('@vlasky/zongji')).default;
  const z = new ZongJi({ host: s.options.host, port: s.options.port, user: s.options.user, password: s.options.password, dateStrings: true, supportBigNumbers: true });
  let rows = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  z.on('binlog', (e: { getEventName(): string; rows?: unknown[] }) => {
    if (e.getEventName() === 'updaterows') {
      rows += e.rows!.length;
      if (rows >= ROWS) resolveDone();
    }
  });
  const ready = new Promise<void>((r) => z.once('ready', () => r()));
  z.start({ serverId: ++serverId, startAtEnd: true, includeEvents: ['tablemap', 'updaterows'], includeSchema: { [s.db]: true } });
  await ready;
  const started = performance.now();
  await bulkUpdate(s);
  await done;
  const ms = performance.now() - started;
  z.stop();
  return { value: perSecond(ROWS, ms) };
}

const benchmarks: Benchmark[] = [
  { name: 'mysql-cdc-snapshot-p1', metric: `rows/s of the CDC snapshot of a ${ROWS}-row table, 1 reader (baseline: plain mysql2 streaming SELECT)`, unit: 'rows/s', runs: 1, run: () => snapshot(1), baseline: plainSelect },
  { name: 'mysql-cdc-snapshot-p2', metric: `rows/s of the CDC snapshot of a ${ROWS}-row table, 2 readers (baseline: plain mysql2 streaming SELECT)`, unit: 'rows/s', runs: 1, run: () => snapshot(2), baseline: plainSelect },
  { name: 'mysql-cdc-binlog', metric: `row changes/s from the binlog for one UPDATE of ${ROWS} rows (baseline: zongji alone)`, unit: 'rows/s', runs: 1, run: binlog, baseline: zongjiAlone },
];

export default benchmarks;
