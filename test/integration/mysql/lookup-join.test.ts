/**
 * Lookup joins against a real MariaDB (test/services/mysql.sh; WEIR_MYSQL_URL). Each test creates
 * its own table and drops it afterwards.
 */
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobFailedError, type JobResult, MiniCluster } from 'weir';
import job, { enriched, type Enriched, type LookupParams } from './lookup-job.ts';

const url = process.env.WEIR_MYSQL_URL;
if (!url) throw new Error('WEIR_MYSQL_URL is not set: run the tests with `npm test` (it starts test/services/mysql.sh) or export the lines `bash test/services/mysql.sh start` prints');

let conn: mysql.Connection;
const created: string[] = [];
let seq = 0;

beforeAll(async () => {
  conn = await mysql.createConnection(url);
});
afterEach(async () => {
  while (created.length > 0) await conn.query(`DROP TABLE IF EXISTS \`${created.pop()}\``);
});
afterAll(async () => {
  await conn.end();
});

async function roomsTable(rooms: number): Promise<string> {
  const table = `rooms_${process.pid}_${++seq}`;
  created.push(table);
  await conn.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, tier INT NOT NULL)`);
  const rows = Array.from({ length: rooms }, (_, i) => [i, `room-${i}`, i % 5]);
  for (let i = 0; i < rows.length; i += 1000) await conn.query(`INSERT INTO \`${table}\` (id, name, tier) VALUES ?`, [rows.slice(i, i + 1000)]);
  return table;
}

function expected(p: LookupParams): Enriched[] {
  const out: Enriched[] = [];
  for (let i = 0; i < p.count; i++) {
    const room = (i * 7919) % (p.rooms + p.missing);
    if (room < p.rooms) out.push({ order: i, room, name: `room-${room}`, tier: room % 5 });
    else if (p.kind === 'left') out.push({ order: i, room, name: null, tier: null });
  }
  return out;
}

function counters(result: JobResult): Record<string, number> {
  return result.metrics.operators.find((o) => o.name === 'rooms-lookup')!.counters;
}

/** Waits until a query on `table` has been waiting at least `ms` (per the server's process list). */
async function waitForBlockedLookup(table: string, ms: number): Promise<void> {
  for (;;) {
    const [rows] = (await conn.query('SELECT MAX(TIME_MS) AS waited FROM information_schema.PROCESSLIST WHERE INFO LIKE ?', [`SELECT % FROM \`${table}\`%`])) as unknown as [{ waited: number | null }[]];
    if ((rows[0]?.waited ?? 0) >= ms) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const byOrder = (a: Enriched, b: Enriched) => a.order - b.order;

describe('lookup join against MariaDB', () => {
  it('ordered, no cache, parallelism 1: every order enriched, in input order', async () => {
    const p: LookupParams = { url: url!, table: await roomsTable(300), count: 3000, rooms: 300, missing: 20, mode: 'ordered', kind: 'left', cache: 'none', capacity: 16 };
    const result = await new MiniCluster({ workers: 1 }).execute(job, { params: p, parallelism: 1 });
    expect(result.get(enriched)).toEqual(expected(p));
    const c = counters(result);
    expect(c['lookup-cache-misses']).toBe(p.count);
    expect(c['lookup-queries']).toBe(p.count);
  });

  it('unordered at parallelism 3 with a partial cache: same rows; hits and misses add up to the records', async () => {
    const p: LookupParams = { url: url!, table: await roomsTable(300), count: 6000, rooms: 300, missing: 20, mode: 'unordered', kind: 'inner', cache: 'partial', capacity: 32 };
    const result = await new MiniCluster({ workers: 2 }).execute(job, { params: p, parallelism: 3 });
    expect(result.get(enriched).sort(byOrder)).toEqual(expected(p));
    const c = counters(result);
    expect((c['lookup-cache-hits'] ?? 0) + (c['lookup-cache-misses'] ?? 0)).toBe(p.count);
    // Each subtask misses each key at least once (more when the same key is in flight twice), far less than every record.
    expect(c['lookup-cache-misses']).toBeGreaterThanOrEqual(320);
    expect(c['lookup-cache-hits']! / p.count).toBeGreaterThan(0.5);
  });

  it('full cache: one read of the table per subtask, no lookups', async () => {
    const p: LookupParams = { url: url!, table: await roomsTable(500), count: 5000, rooms: 500, missing: 50, mode: 'ordered', kind: 'left', cache: 'full', capacity: 8 };
    const result = await new MiniCluster({ workers: 2 }).execute(job, { params: p, parallelism: 2 });
    expect(result.get(enriched).sort(byOrder)).toEqual(expected(p));
    const c = counters(result);
    expect(c['lookup-cache-reloads']).toBe(2);
    expect(c['lookup-queries'] ?? 0).toBe(0);
    expect(c['lookup-cache-hits']).toBe(p.count);
  });

  it('lookups that time out while the table is locked are retried and complete after the lock goes', async () => {
    const p: LookupParams = { url: url!, table: await roomsTable(100), count: 2000, rooms: 100, missing: 0, mode: 'unordered', kind: 'inner', cache: 'none', capacity: 8, timeoutMs: 100, attempts: 100 };
    const locker = await mysql.createConnection(url!);
    try {
      await locker.query(`LOCK TABLES \`${p.table}\` WRITE`);
      const run = new MiniCluster({ workers: 1 }).execute(job, { params: p, parallelism: 1 });
      // Held until a lookup has waited for the lock several times as long as the lookup timeout.
      await waitForBlockedLookup(p.table, 5 * p.timeoutMs!);
      await locker.query('UNLOCK TABLES');
      const result = await run;
      expect(result.get(enriched).sort(byOrder)).toEqual(expected(p));
      expect(counters(result)['lookup-timeouts']).toBeGreaterThan(0);
      expect(counters(result)['lookup-retries']).toBeGreaterThan(0);
    } finally {
      await locker.end();
    }
  });

  it('when every attempt times out the job fails naming the table, the key and the setting', async () => {
    const p: LookupParams = { url: url!, table: await roomsTable(10), count: 50, rooms: 10, missing: 0, mode: 'ordered', kind: 'inner', cache: 'none', capacity: 4, timeoutMs: 50, attempts: 2 };
    const locker = await mysql.createConnection(url!);
    try {
      await locker.query(`LOCK TABLES \`${p.table}\` WRITE`);
      const error = await new MiniCluster({ workers: 1 }).execute(job, { params: p, parallelism: 1 }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(JobFailedError);
      expect(error!.message).toContain(`table '${p.table}'`);
      expect(error!.message).toMatch(/looking up key \d+/);
      expect(error!.message).toContain('lookup.timeoutMs');
    } finally {
      await locker.query('UNLOCK TABLES');
      await locker.end();
    }
  });

  it('a missing table fails the job at open with the table named', async () => {
    const p: LookupParams = { url: url!, table: `no_such_table_${process.pid}`, count: 10, rooms: 1, missing: 0, mode: 'ordered', kind: 'left', cache: 'none', capacity: 1 };
    const error = await new MiniCluster({ workers: 1 }).execute(job, { params: p, parallelism: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error!.message).toContain(`no_such_table_${process.pid}`);
  });
});
