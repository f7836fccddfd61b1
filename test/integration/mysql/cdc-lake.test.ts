/**
 * Schema changes mid-stream reach a lake table: a job reads a MariaDB table with the CDC source
 * ('evolve') and writes it with the lake sink; ALTER TABLE ADD COLUMN and RENAME COLUMN in the
 * middle of inserts and updates become new lake schemas, and the lake table ends equal to MySQL's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MiniCluster } from 'weir';
import { FileStoreTable, readTable, rowToObject } from 'weir/lake';
import { lakeSchemaOf } from 'weir/mysql';
import job from './cdc-lake-job.ts';
import { connect, connOptions, freshDatabase, normalize } from './cdc-helpers.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-cdc-lake-'));
let conn: mysql.Connection;
let db: string;

beforeAll(async () => {
  conn = await connect();
  db = await freshDatabase(conn, 'cdc_lake');
});
afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
  rmSync(root, { recursive: true, force: true });
});

async function lakeRows(lakePath: string): Promise<string[]> {
  const table = await FileStoreTable.open(lakePath);
  return normalize((await readTable(table)).map((r) => rowToObject(table, r)));
}

describe('MySQL CDC into a lake table', () => {
  it('ALTER TABLE ADD/RENAME COLUMN mid-stream become lake schema changes; the lake table ends equal to MySQL', async () => {
    const t = `\`${db}\`.t`;
    await conn.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, a VARCHAR(10))`);
    await conn.query(`INSERT INTO ${t} VALUES (1, 'x'), (2, 'y'), (3, 'z')`);
    const lakePath = path.join(root, 'lake', 't');
    const c = connOptions();
    const lakeSchema = lakeSchemaOf({ table: `${db}.t`, columns: [{ name: 'id', type: 'int(11)', nullable: false }, { name: 'a', type: 'varchar(10)', nullable: true }], primaryKeys: ['id'] });
    const handle = await new MiniCluster({
      workers: 1,
      workDir: path.join(root, 'work'),
      checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
    }).submit(job, { params: { host: c.host, port: c.port!, user: c.user, password: c.password ?? '', database: db, table: 't', serverId: 6501, lakePath, lakeSchema }, parallelism: 1 });
    await vi.waitFor(async () => expect(await lakeRows(lakePath)).toHaveLength(3), { timeout: 60_000, interval: 100 });

    await conn.query(`ALTER TABLE ${t} ADD COLUMN amount DECIMAL(8,2) NULL`);
    await conn.query(`INSERT INTO ${t} VALUES (4, 'w', 1.25)`);
    await conn.query(`UPDATE ${t} SET amount = 9.5 WHERE id = 1`);
    await conn.query(`ALTER TABLE ${t} RENAME COLUMN a TO label`);
    await conn.query(`INSERT INTO ${t} VALUES (5, 'v', NULL)`);
    await conn.query(`DELETE FROM ${t} WHERE id = 2`);

    const [rows] = (await conn.query(`SELECT id, label, amount FROM ${t}`)) as unknown as [Record<string, unknown>[]];
    const want = normalize(rows.map((r) => ({ id: Number(r.id), label: r.label, amount: r.amount })));
    await vi.waitFor(async () => expect(await lakeRows(lakePath)).toEqual(want), { timeout: 60_000, interval: 100 });
    const table = await FileStoreTable.open(lakePath);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['id', 'label', 'amount']);
    expect(table.schema.id).toBe(2);
    await handle.cancel();
  }, 120_000);
});
