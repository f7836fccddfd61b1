/**
 * MySQL CDC value types against a real MariaDB: the same row must come out identical from the
 * snapshot (a SELECT) and from the binlog (a row image), and as the documented JS values.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlCdcSource, type CdcRecord, type CdcRowChange, type MySqlCdcSplit } from '../../../connectors/mysql/index.ts';
import type { EnumeratorState } from '../../../connectors/mysql/cdc/enumerator.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { connect, connOptions, freshDatabase } from './cdc-helpers.ts';

let conn: mysql.Connection;
let db: string;

beforeAll(async () => {
  conn = await connect();
  db = await freshDatabase(conn, 'cdc_types');
});
afterAll(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
});

const COLUMNS = `id BIGINT UNSIGNED PRIMARY KEY, i INT, si SMALLINT, ti TINYINT, b BIGINT, d DECIMAL(20,4), d0 DECIMAL(5,0),
  f FLOAT, db DOUBLE, c CHAR(4), vc VARCHAR(20), tx TEXT, e ENUM('red','green','blue'), st SET('a','b','c'),
  j JSON, dt DATE, tm TIME(3), dtm DATETIME(6), dtm0 DATETIME, ts TIMESTAMP(3) NULL, yr YEAR, bt BIT(1), bt8 BIT(12),
  bn BINARY(4), vb VARBINARY(8), bl BLOB`;

const VALUES = [
  `(18446744073709551615, -2147483648, -32768, -128, -9223372036854775808, 12345678901234.5678, 99999,
    1.1, 2.2250738585072014e-308, 'ab', 'hé llo', 'long text', 'green', 'a,c', '{"k": [1, 2.5, "x"], "big": 12345678901234567890}',
    '2024-02-29', '-838:59:59.000', '2024-02-29 23:59:59.123456', '1000-01-01 00:00:00', '2026-11-05 12:34:56.789', 2155, b'1', b'101010101010',
    x'00ff10', x'0001', x'deadbeef')`,
  `(1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(2, 0, 0, 0, 0, -0.0001, -5, -0.5, 0, '', '', '', 'red', '', 'null', '1970-01-01', '00:00:00', '1970-01-01 00:00:00', '9999-12-31 23:59:59', '1970-01-01 00:00:01', 1901, b'0', b'0', x'', x'', x'')`,
];

type Harness = SourceHarness<CdcRecord, MySqlCdcSplit, EnumeratorState>;

async function pollUntil(h: Harness, n: number, pred: (r: CdcRecord) => boolean): Promise<CdcRecord[]> {
  for (;;) {
    if (h.errors.length > 0) throw h.errors[0];
    const got = h.emitted().map((e) => e.value).filter(pred);
    if (got.length >= n) return got;
    if (h.poll(0, 1000) === 'wait') await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 50))]);
  }
}

const rows = (rs: CdcRecord[]) => (rs as CdcRowChange[]).map((r) => r.row).sort((a, b) => (BigInt(a.id as bigint) < BigInt(b.id as bigint) ? -1 : 1));

describe('MySQL CDC value types', () => {
  it('snapshot and binlog give identical, exact values', async () => {
    await conn.query(`CREATE TABLE \`${db}\`.snap (${COLUMNS})`);
    await conn.query(`CREATE TABLE \`${db}\`.live (${COLUMNS})`);
    await conn.query(`INSERT INTO \`${db}\`.snap VALUES ${VALUES.join(', ')}`);
    const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: [db], serverId: 6201, heartbeatIntervalMs: 200 }), 1).start();
    const snap = await pollUntil(h, 3, (r) => r.kind === '+I' && r.sourceTable.endsWith('.snap'));
    await conn.query(`INSERT INTO \`${db}\`.live VALUES ${VALUES.join(', ')}`);
    const live = await pollUntil(h, 3, (r) => r.kind === '+I' && r.sourceTable.endsWith('.live'));
    await h.close();
    expect(rows(live)).toEqual(rows(snap));
    const byId = new Map(rows(snap).map((r) => [r.id, r]));
    expect(byId.get(18446744073709551615n)).toEqual({
      id: 18446744073709551615n,
      i: -2147483648,
      si: -32768,
      ti: -128,
      b: -9223372036854775808n,
      d: '12345678901234.5678',
      d0: '99999',
      f: 1.1,
      db: 2.2250738585072014e-308,
      c: 'ab',
      vc: 'hé llo',
      tx: 'long text',
      e: 'green',
      st: 'a,c',
      j: '{"k": [1, 2.5, "x"], "big": 12345678901234567890}',
      dt: '2024-02-29',
      tm: '-838:59:59.000',
      dtm: '2024-02-29 23:59:59.123456',
      dtm0: '1000-01-01 00:00:00',
      ts: '2026-11-05T12:34:56.789Z',
      yr: 2155,
      bt: true,
      bt8: new Uint8Array([0x0a, 0xaa]),
      bn: new Uint8Array([0x00, 0xff, 0x10, 0x00]),
      vb: new Uint8Array([0x00, 0x01]),
      bl: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    });
    expect(Object.values(byId.get(1n)!).filter((v) => v !== null)).toEqual([1n]);
    expect(byId.get(2n)).toMatchObject({ d: '-0.0001', d0: '-5', f: -0.5, bt: false, bn: new Uint8Array(4), vb: new Uint8Array(0), ts: '1970-01-01T00:00:01.000Z' });
  });

  it('an unsupported column type names the table and the column', async () => {
    await conn.query(`CREATE TABLE \`${db}\`.geo (id INT PRIMARY KEY, p POINT)`);
    const h: Harness = await new SourceHarness(mysqlCdcSource({ ...connOptions(), databases: [db], tables: /.*\.geo/, serverId: 6202 }), 1).start();
    await h.close();
    expect(h.errors[0]?.message).toMatch(/column 'p' of table 'cdc_types_\d+_\d+\.geo' has type 'point'/);
    await conn.query(`DROP TABLE \`${db}\`.geo`);
  });
});
