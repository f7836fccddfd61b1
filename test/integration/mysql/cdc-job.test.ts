/**
 * The MySQL CDC source in real jobs (MiniCluster, worker threads, checkpoints) against a real
 * MariaDB: worker kills during the snapshot and during the binlog phase while another connection
 * writes; a stop-with-savepoint and a restore at another parallelism. The committed output, put
 * back in per-key order and replayed strictly (a duplicate or a gap fails), must equal the table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MiniCluster, type JobHandle } from 'weir';
import { readCommitted, listPending } from '../../harness/transactional-sink.ts';
import job, { type CdcJobParams, type Sequenced } from './cdc-job.ts';
import { connect, connOptions, freshDatabase, normalize, startWriter } from './cdc-helpers.ts';

const ROWS = 10_000;
const root = mkdtempSync(path.join(os.tmpdir(), 'weir-cdc-job-'));
let conn: mysql.Connection;
let writerConn: mysql.Connection;
const dbs: string[] = [];

beforeAll(async () => {
  conn = await connect();
  writerConn = await connect();
});
afterAll(async () => {
  for (const db of dbs) await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
  await writerConn.end();
  rmSync(root, { recursive: true, force: true });
});

function cluster(name: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    // one storage for every cluster: a job restores from another's savepoint by its id
    checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 20 },
  });
}

/** The committed changes replayed strictly per key, in sequence order: the sink's table. */
function sinkTable(outDir: string): string[] {
  const byKey = new Map<string, Sequenced[]>();
  for (const r of readCommitted<Sequenced>(outDir)) (byKey.get(r.key) ?? byKey.set(r.key, []).get(r.key)!).push(r);
  const rows: Record<string, unknown>[] = [];
  for (const [key, changes] of byKey) {
    changes.sort((a, b) => a.seq - b.seq);
    changes.forEach((c, i) => {
      if (c.seq !== i + 1) throw new Error(`key ${key}: change ${i + 1} is missing or twice (seq ${c.seq})`);
    });
    let present: Record<string, unknown> | null = null;
    for (const c of changes) {
      if (c.kind === '+I' && present) throw new Error(`key ${key}: +I of a present row`);
      if ((c.kind === '-U' || c.kind === '-D') && JSON.stringify(present) !== JSON.stringify(c.row)) throw new Error(`key ${key}: ${c.kind} of ${JSON.stringify(c.row)}, present ${JSON.stringify(present)}`);
      present = c.kind === '+I' || c.kind === '+U' ? c.row : null;
    }
    if (present) rows.push(present);
  }
  return normalize(rows);
}

async function tableRows(t: string): Promise<string[]> {
  const [rows] = (await conn.query(`SELECT id, v, note FROM ${t}`)) as unknown as [Record<string, unknown>[]];
  return normalize(rows.map((r) => ({ id: Number(r.id), v: Number(r.v), note: r.note })));
}

async function seed(db: string): Promise<string> {
  const t = `\`${db}\`.t`;
  await conn.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(32))`);
  for (let i = 0; i < ROWS; i += 5000) await conn.query(`INSERT INTO ${t} (id, v, note) VALUES ?`, [Array.from({ length: 5000 }, (_, j) => [i + j, (i + j) % 997, `s${i + j}`])]);
  return t;
}

function params(db: string, outDir: string, serverId: number): CdcJobParams {
  const c = connOptions();
  return { host: c.host, port: c.port!, user: c.user, password: c.password ?? '', database: db, serverId, chunkSize: 2000, outDir };
}

/** Waits until the committed output equals the table (the job keeps running: CDC is unbounded). */
async function converged(outDir: string, t: string, handle: JobHandle): Promise<void> {
  const want = await tableRows(t);
  await vi.waitFor(
    () => {
      if (handle.status === 'failed') throw new Error(`the job failed: ${handle.failovers().map((f) => `attempt ${f.attempt}: ${JSON.stringify(f.cause)}${f.notRestartedBecause ? ` (not restarted: ${f.notRestartedBecause})` : ''}`).join('; ')}`);
      expect(sinkTable(outDir)).toEqual(want);
    },
    { timeout: 90_000, interval: 200 },
  );
}

describe('MySQL CDC in a job', () => {
  it('worker kills during the snapshot and during the binlog phase: the sink ends equal to the table, each change once', async () => {
    const db = await freshDatabase(conn, 'cdc_job');
    dbs.push(db);
    const t = await seed(db);
    const outDir = path.join(root, 'kills', 'out');
    const writer = startWriter(writerConn, t, ROWS, 11);
    const handle = await cluster('kills').submit(job, { params: params(db, outDir, 6301), parallelism: 2 });
    // Kill 1: at the first completed checkpoint, while the snapshot runs.
    await new Promise<void>((resolve) => {
      const on = () => {
        handle.off('checkpoint-completed', on);
        resolve();
      };
      handle.on('checkpoint-completed', on);
    });
    const committedAtKill1 = readCommitted<Sequenced>(outDir);
    expect(committedAtKill1.filter((r) => r.kind === '+I').length).toBeLessThan(ROWS);
    handle.killTaskManager(0);
    // Kill 2: once binlog changes (updates) were committed.
    await vi.waitFor(() => expect(readCommitted<Sequenced>(outDir).some((r) => r.kind === '+U')).toBe(true), { timeout: 90_000, interval: 50 });
    await vi.waitFor(() => expect(handle.liveTaskManagers).toBe(2), { timeout: 20_000, interval: 20 });
    handle.killTaskManager(1);
    await writer.stop();
    await converged(outDir, t, handle);
    expect(handle.restarts).toBeGreaterThanOrEqual(2);
    await handle.cancel();
  }, 150_000);

  it('stop-with-savepoint at parallelism 2, restore at parallelism 1, then 3', async () => {
    const db = await freshDatabase(conn, 'cdc_rescale');
    dbs.push(db);
    const t = await seed(db);
    const outDir = path.join(root, 'rescale', 'out');
    const writer = startWriter(writerConn, t, ROWS, 12);
    const first = await cluster('rescale-1').submit(job, { params: params(db, outDir, 6302), parallelism: 2 });
    await vi.waitFor(() => expect(readCommitted<Sequenced>(outDir).length).toBeGreaterThan(0), { timeout: 90_000, interval: 20 });
    const sp1 = await first.stopWithSavepoint();
    expect(listPending(outDir)).toEqual([]);
    const second = await cluster('rescale-2').submit(job, { params: params(db, outDir, 6302), parallelism: 1, restoreFrom: sp1 });
    await vi.waitFor(() => expect(readCommitted<Sequenced>(outDir).some((r) => r.kind === '+U')).toBe(true), { timeout: 90_000, interval: 50 });
    const sp2 = await second.stopWithSavepoint();
    const third = await cluster('rescale-3').submit(job, { params: params(db, outDir, 6302), parallelism: 3, restoreFrom: sp2 });
    await writer.stop();
    await converged(outDir, t, third);
    await third.cancel();
  }, 150_000);
});
