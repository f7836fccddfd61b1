/**
 * Schema changes read from the binlog, in order with the rows, under the 'evolve' and 'lenient'
 * behaviours; sharded tables merged by a route with a source-table column; errors that name what
 * to fix (wrong password, missing grant, purged binlog position). Against a real MariaDB.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlCdcSource, type CdcRecord, type MySqlCdcOptions, type MySqlCdcSplit } from '../../../connectors/mysql/index.ts';
import type { EnumeratorState } from '../../../connectors/mysql/cdc/enumerator.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { connect, connOptions, freshDatabase, normalize, replay } from './cdc-helpers.ts';

let conn: mysql.Connection;
const dbs: string[] = [];
type Harness = SourceHarness<CdcRecord, MySqlCdcSplit, EnumeratorState>;

beforeAll(async () => {
  conn = await connect();
});
afterAll(async () => {
  for (const db of dbs) await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.query("DROP USER IF EXISTS 'cdc_noslave'@'%'");
  await conn.end();
});

async function database(prefix: string): Promise<string> {
  const db = await freshDatabase(conn, prefix);
  dbs.push(db);
  return db;
}

/** Polls until `n` records matching `pred` were emitted (in the order a single reader emitted them). */
async function until(h: Harness, pred: (all: CdcRecord[]) => boolean): Promise<CdcRecord[]> {
  for (;;) {
    if (h.errors.length > 0) throw h.errors[0];
    const all = h.emitted().map((e) => e.value);
    if (pred(all)) return all;
    if (h.poll(0, 1000) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 50))]);
  }
}

async function firstError(options: MySqlCdcOptions): Promise<Error> {
  const h: Harness = await new SourceHarness(mysqlCdcSource(options), 1).start();
  try {
    for (let i = 0; i < 200 && h.errors.length === 0; i++) {
      try {
        if (h.poll(0, 100) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
      } catch (e) {
        return e as Error;
      }
    }
    return h.errors[0]!;
  } finally {
    await h.close();
  }
}

describe('MySQL CDC schema changes', () => {
  it("'evolve': ALTER/CREATE/TRUNCATE/DROP come out in order with the rows, and rows carry the new shape", async () => {
    const db = await database('cdc_ddl');
    await conn.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, a VARCHAR(10))`);
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (1, 'x')`);
    const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: [db], schemaChanges: 'evolve', serverId: 6401, heartbeatIntervalMs: 200 }), 1).start();
    await until(h, (all) => all.length >= 1);
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (2, 'y')`);
    await conn.query(`ALTER TABLE \`${db}\`.t ADD COLUMN amount DECIMAL(8,2) NULL AFTER id`);
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (3, 1.5, 'z')`);
    await conn.query(`ALTER TABLE \`${db}\`.t RENAME COLUMN a TO label, DROP COLUMN amount`);
    await conn.query(`UPDATE \`${db}\`.t SET label = 'w' WHERE id = 3`);
    await conn.query(`CREATE TABLE \`${db}\`.u (k BIGINT UNSIGNED PRIMARY KEY, s TEXT)`);
    await conn.query(`INSERT INTO \`${db}\`.u VALUES (18446744073709551615, 'big')`);
    await conn.query(`TRUNCATE TABLE \`${db}\`.t`);
    await conn.query(`DROP TABLE \`${db}\`.u`);
    const all = await until(h, (rs) => rs.some((r) => r.kind === 'schema' && r.change.type === 'drop-table'));
    await h.close();
    const trace = all.map((r) => (r.kind === 'schema' ? `${r.sourceTable.split('.')[1]}:${r.change.type}` : `${r.sourceTable.split('.')[1]}:${r.kind}:${JSON.stringify(r.row, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`));
    expect(trace).toEqual([
      't:+I:{"id":1,"a":"x"}',
      't:+I:{"id":2,"a":"y"}',
      't:add-column',
      't:+I:{"id":3,"amount":"1.50","a":"z"}',
      't:rename-column',
      't:drop-column',
      't:-U:{"id":3,"label":"z"}',
      't:+U:{"id":3,"label":"w"}',
      'u:create-table',
      'u:+I:{"k":"18446744073709551615","s":"big"}',
      't:truncate-table',
      'u:drop-table',
    ]);
    const add = all.find((r) => r.kind === 'schema' && r.change.type === 'add-column');
    expect(add).toMatchObject({ change: { column: { name: 'amount', type: 'decimal(8,2)', nullable: true }, after: 'id' }, schema: { columns: [{ name: 'id' }, { name: 'amount' }, { name: 'a' }] } });
  });

  it("'lenient' (default): a dropped column stays with nulls, a rename adds the new column, TRUNCATE does not go out", async () => {
    const db = await database('cdc_lenient');
    await conn.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, a VARCHAR(10), b INT)`);
    const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: [db], serverId: 6402, heartbeatIntervalMs: 200 }), 1).start();
    await until(h, () => h.readers[0]!.snapshotState(0).some((s) => s.kind === 'binlog')); // the snapshot is done
    await conn.query(`ALTER TABLE \`${db}\`.t DROP COLUMN b, RENAME COLUMN a TO c`);
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (1, 'x')`);
    await conn.query(`TRUNCATE TABLE \`${db}\`.t`);
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (2, 'y')`);
    const all = await until(h, (rs) => rs.filter((r) => r.kind === '+I').length >= 2);
    await h.close();
    expect(all.map((r) => (r.kind === 'schema' ? r.change : r.row))).toEqual([
      { type: 'add-column', column: { name: 'c', type: 'varchar(10)', nullable: true } },
      { id: 1, a: null, b: null, c: 'x' },
      { id: 2, a: null, b: null, c: 'y' },
    ]);
  });
});

describe('MySQL CDC routes', () => {
  it('merges order_<n> shards into one table with a source-table column', async () => {
    const db = await database('cdc_route');
    for (const n of [1, 2, 3]) {
      await conn.query(`CREATE TABLE \`${db}\`.order_${n} (id INT PRIMARY KEY, amount INT)`);
      await conn.query(`INSERT INTO \`${db}\`.order_${n} VALUES (1, ${n}), (2, ${n * 10})`);
    }
    await conn.query(`CREATE TABLE \`${db}\`.customers (id INT PRIMARY KEY, name VARCHAR(10))`);
    await conn.query(`INSERT INTO \`${db}\`.customers VALUES (1, 'ann')`);
    const options: MySqlCdcOptions = {
      ...connOptions(),
      databases: [db],
      serverId: 6403,
      heartbeatIntervalMs: 200,
      routes: [{ source: new RegExp(`${db}\\.order_\\d+`), sink: `${db}.orders`, sourceTableColumn: 'shard' }, { source: new RegExp(`${db}\\.customers`), sink: 'crm.people' }],
    };
    const h: Harness = await new SourceHarness(mysqlCdcSource(options), 2).start();
    let id = 0;
    const run = async (pred: (all: CdcRecord[]) => boolean) => {
      for (;;) {
        if (h.errors.length > 0) throw h.errors[0];
        const all = [...h.emitted().filter((e) => e.split !== 'binlog'), ...h.emitted().filter((e) => e.split === 'binlog')].map((e) => e.value);
        if (pred(all)) return all;
        let more = false;
        for (let i = 0; i < 2; i++) if (h.poll(i, 1000) === 'more') more = true;
        if (!more) {
          h.snapshot(++id);
          h.coordinator.checkpointComplete(id);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    await run((all) => all.length >= 7);
    await conn.query(`UPDATE \`${db}\`.order_2 SET amount = 99 WHERE id = 1`);
    const all = await run((all) => all.some((r) => r.kind === '+U'));
    await h.close();
    expect(new Set(all.map((r) => r.table))).toEqual(new Set([`${db}.orders`, 'crm.people']));
    const orders = all.filter((r) => r.table === `${db}.orders`);
    const merged = [...replay(orders.map((r) => (r.kind === 'schema' ? r : { ...r, row: { ...r.row, key: `${String(r.row.shard)}/${String(r.row.id)}` } })), 'key').values()];
    expect(normalize(merged.map(({ key: _, ...r }) => r))).toEqual(
      normalize([1, 2, 3].flatMap((n) => [{ id: 1, amount: n === 2 ? 99 : n, shard: `${db}.order_${n}` }, { id: 2, amount: n * 10, shard: `${db}.order_${n}` }])),
    );
    const schema = orders.find((r) => r.kind !== 'schema')!.schema;
    expect(schema.primaryKeys).toEqual(['id', 'shard']);
    expect(all.find((r) => r.table === 'crm.people')).toMatchObject({ sourceTable: `${db}.customers`, row: { id: 1, name: 'ann' } });
  });
});

describe('MySQL CDC errors', () => {
  it('a wrong password says to check the credentials (and shows no password)', async () => {
    const e = await firstError({ ...connOptions(), password: 'not-the-password', databases: ['weir'], serverId: 6404 });
    expect(e.message).toMatch(/rejected the user or password while checking the server: check 'user' and 'password'/);
    expect(e.message).not.toContain('not-the-password');
  });

  it('a user without REPLICATION grants is told which to grant', async () => {
    await conn.query("CREATE USER IF NOT EXISTS 'cdc_noslave'@'%' IDENTIFIED BY 'pw'");
    await conn.query("GRANT SELECT ON *.* TO 'cdc_noslave'@'%'");
    const e = await firstError({ ...connOptions(), user: 'cdc_noslave', password: 'pw', databases: ['weir'], serverId: 6405 });
    expect(e.message).toMatch(/GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\* TO 'cdc_noslave'/);
  });

  it('another replica taking the same server id is named, with what to do', async () => {
    const dumps = async () => {
      const [rows] = (await conn.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")) as unknown as [{ n: number }[]];
      return Number(rows[0]!.n);
    };
    const before = await dumps();
    const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: ['weir'], serverId: 6407, startup: 'latest' }), 1).start();
    const ZongJi = (await import('@vlasky/zongji')).default;
    const other = new ZongJi({ ...connOptions() });
    try {
      // the source's binlog dump runs before the other replica connects
      while ((await dumps()) <= before) await until(h, () => true).then(() => new Promise((r) => setTimeout(r, 20)));
      other.on('error', () => {});
      other.start({ serverId: 6407, startAtEnd: true, includeEvents: ['rotate'] });
      let error: Error | undefined;
      while (!error) {
        try {
          if (h.poll(0, 100) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
        } catch (e) {
          error = e as Error;
        }
      }
      expect(error.message).toMatch(/another replica uses server id 6407 .*give each job \(and each replica\) its own 'serverId'/);
    } finally {
      other.stop();
      await h.close();
    }
  });

  it('a purged binlog position says to restart from a snapshot', async () => {
    const e = await firstError({ ...connOptions(), databases: ['weir'], serverId: 6406, startup: { file: 'binlog.999999', pos: 4 } });
    expect(e.message).toMatch(/binlog position binlog\.999999:4 is no longer on .*restart it without its checkpoint \(startup 'initial'\)/);
  });
});
