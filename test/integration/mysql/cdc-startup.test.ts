/**
 * MySQL CDC startup modes and binlog positions against a real MariaDB: 'latest', { file, pos },
 * { gtid } and { timestamp } start where they say (no snapshot); commits of tables the job does not
 * capture move the checkpointed position on; binlog settings the source cannot work with are named.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlCdcSource, type CdcRecord, type MySqlCdcOptions, type MySqlCdcSplit, type StartupMode } from '../../../connectors/mysql/index.ts';
import type { EnumeratorState } from '../../../connectors/mysql/cdc/enumerator.ts';
import { comparePositions } from '../../../connectors/mysql/cdc/position.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { connect, connOptions, freshDatabase, masterPosition } from './cdc-helpers.ts';

let conn: mysql.Connection;
let db: string;
let other: string;
type Harness = SourceHarness<CdcRecord, MySqlCdcSplit, EnumeratorState>;

beforeAll(async () => {
  conn = await connect();
  db = await freshDatabase(conn, 'cdc_start');
  other = await freshDatabase(conn, 'cdc_other');
  await conn.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY)`);
  await conn.query(`CREATE TABLE \`${other}\`.x (id INT PRIMARY KEY)`);
});
afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.query(`DROP DATABASE IF EXISTS \`${other}\``);
  await conn.end();
});

async function ids(startup: StartupMode, serverId: number, insertAfterStart: number[], want: number): Promise<number[]> {
  const options: MySqlCdcOptions = { ...connOptions(), databases: [db], serverId, startup, heartbeatIntervalMs: 200 };
  const h: Harness = await new SourceHarness(mysqlCdcSource(options), 1).start();
  try {
    for (const id of insertAfterStart) await conn.query(`INSERT INTO \`${db}\`.t VALUES (?)`, [id]);
    for (;;) {
      if (h.errors.length > 0) throw h.errors[0];
      const got = h.emitted().map((e) => e.value).filter((r) => r.kind === '+I');
      if (got.length >= want) return got.map((r) => (r.kind === 'schema' ? -1 : Number(r.row.id)));
      if (h.poll(0, 100) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
    }
  } finally {
    await h.close();
  }
}

describe('MySQL CDC startup modes', () => {
  it("'latest' reads only what comes after the start; { file, pos } and { gtid } from there; { timestamp } from that time", async () => {
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (1)`);
    const at = await masterPosition(conn);
    const [[{ gtid }]] = (await conn.query('SELECT @@gtid_binlog_pos AS gtid')) as unknown as [[{ gtid: string }]];
    // binlog timestamps have whole seconds: start in the next second after insert 1
    const second = Math.floor(Date.now() / 1000);
    while (Math.floor(Date.now() / 1000) === second) await new Promise((r) => setTimeout(r, 10));
    const since = Date.now();
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (2)`);
    expect(await ids('latest', 6601, [3], 1)).toEqual([3]);
    expect(await ids({ file: at.file, pos: at.pos }, 6602, [], 2)).toEqual([2, 3]);
    expect(await ids({ gtid }, 6603, [], 2)).toEqual([2, 3]);
    expect(await ids({ timestamp: since }, 6604, [], 2)).toEqual([2, 3]);
    expect(await ids('initial', 6605, [], 3)).toEqual([1, 2, 3]);
  });

  it('commits in databases the job does not capture move the checkpointed position on', async () => {
    const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: [db], serverId: 6606, startup: 'latest', heartbeatIntervalMs: 200 }), 1).start();
    const position = () => h.readers[0]!.snapshotState(0).find((s) => s.kind === 'binlog')?.start ?? null;
    for (let i = 0; position() === null; i++) {
      if (h.poll(0, 100) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
    }
    await conn.query(`INSERT INTO \`${other}\`.x VALUES (1)`);
    const end = await masterPosition(conn);
    while (comparePositions(position()!, end) < 0) {
      if (h.errors.length > 0) throw h.errors[0];
      if (h.poll(0, 100) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
    }
    expect(h.emitted()).toEqual([]);
    const split = h.readers[0]!.snapshotState(0).find((s) => s.kind === 'binlog')!;
    expect(split.gtidPosition).toMatch(/^0-1-\d+$/);
    await h.close();
  });

  it('heartbeats give an idle binlog connection its position (started from a GTID, nothing written)', async () => {
    const [[{ gtid }]] = (await conn.query('SELECT @@gtid_binlog_pos AS gtid')) as unknown as [[{ gtid: string }]];
    const end = await masterPosition(conn);
    const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: [db], serverId: 6608, startup: { gtid }, heartbeatIntervalMs: 100 }), 1).start();
    const position = () => h.readers[0]!.snapshotState(0).find((s) => s.kind === 'binlog')?.start ?? null;
    while (position() === null) {
      if (h.errors.length > 0) throw h.errors[0];
      if (h.poll(0, 100) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
    }
    expect(position()).toEqual(end);
    expect(h.emitted()).toEqual([]);
    await h.close();
  });

  it('a checkpoint in the middle of a transaction restores at the transaction\'s first event and skips what went out', async () => {
    const source = mysqlCdcSource({ ...connOptions(), databases: [db], serverId: 6607, startup: 'latest', heartbeatIntervalMs: 200 });
    const h1: Harness = await new SourceHarness(source, 1).start();
    const position = () => h1.readers[0]!.snapshotState(0).find((s) => s.kind === 'binlog')?.start ?? null;
    while (position() === null) {
      if (h1.errors.length > 0) throw h1.errors[0];
      if (h1.poll(0, 100) === 'wait') await Promise.race([h1.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
    }
    // one transaction of 40 statements: 40 row events between its GTID event and its commit
    const ids = Array.from({ length: 40 }, (_, i) => 2000 + i);
    await conn.query('START TRANSACTION');
    for (const id of ids) await conn.query(`INSERT INTO \`${db}\`.t VALUES (?)`, [id]);
    await conn.query('COMMIT');
    const inserted = (h: Harness): number[] => h.emitted().map((e) => e.value).flatMap((r) => (r.kind === '+I' ? [Number(r.row.id)] : []));
    while (inserted(h1).length < 15) {
      if (h1.errors.length > 0) throw h1.errors[0];
      if (h1.poll(0, 3) === 'wait') await Promise.race([h1.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
    }
    const cp = h1.snapshot(1);
    const before = inserted(h1);
    expect(before.length).toBeLessThan(ids.length); // the checkpoint is inside the transaction
    await h1.close();
    const h2: Harness = await new SourceHarness(source, 1, cp).start();
    try {
      while (before.length + inserted(h2).length < ids.length) {
        if (h2.errors.length > 0) throw h2.errors[0];
        if (h2.poll(0, 100) === 'wait') await Promise.race([h2.readers[0]!.available(), new Promise((r) => setTimeout(r, 20))]);
      }
      expect([...before, ...inserted(h2)]).toEqual(ids);
    } finally {
      await h2.close();
    }
  });

  it('binlog_format other than ROW, or binlog_row_image other than FULL, is named with the variable to set', async () => {
    const check = async (variable: string, value: string, want: RegExp) => {
      await conn.query(`SET GLOBAL ${variable} = '${value}'`);
      try {
        const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: [db], serverId: 6607 }), 1).start();
        await h.close();
        expect(h.errors[0]?.message).toMatch(want);
      } finally {
        await conn.query(`SET GLOBAL ${variable} = '${variable === 'binlog_format' ? 'ROW' : 'FULL'}'`);
      }
    };
    await check('binlog_format', 'STATEMENT', /server variable binlog_format: is 'STATEMENT'.*CDC needs binlog_format=ROW \(start the server with --binlog-format=ROW/);
    await check('binlog_row_image', 'MINIMAL', /binlog_row_image: is 'MINIMAL'.*binlog_row_image=FULL/);
  });
});
