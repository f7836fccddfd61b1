/**
 * Tables written by Java Paimon (test/fixtures/paimon-testdata): Weir reads exactly the rows their READMEs
 * list at every snapshot, and computes the same bucket ids as Java.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FileStoreTable } from '../../../connectors/lake/table/table.ts';
import { readTable } from '../../../connectors/lake/table/read.ts';
import { BinaryRowWriter, bucketOf } from '../../../connectors/lake/format/binary-row.ts';
import { T } from '../../../connectors/lake/schema/types.ts';

const DATA = process.env.PAIMON_TESTDATA ?? path.resolve(import.meta.dirname, '../../fixtures/paimon-testdata');
const open = (name: string) => FileStoreTable.open(path.join(DATA, `${name}.db`, name));
const text = (rows: unknown[][]) =>
  rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString() : v))).sort();

const TWO_ROADS = 'Two roads diverged in a wood, and I took the one less traveled by, And that has made all the difference.';

describe('Java-written Paimon tables', () => {
  it('pk_table_scan_and_read_mor: merge-on-read at every snapshot', async () => {
    const t = await open('pk_table_scan_and_read_mor');
    expect(await t.snapshots.listIds()).toEqual([1, 2, 3, 4, 5]);
    const base = [
      [TWO_ROADS, 10, 1, 11], ['Alice', 10, 1, 11.1], ['Bob', 10, 0, 12.1], ['Emily', 10, 0, 13.1], ['Tony', 10, 0, 14.1],
      ['Alex', 10, 0, 16.1], ['David', 10, 0, 17.1], ['Lucy', 20, 1, 14.1], ['Paul', 20, 1, 18.1],
    ];
    const s2 = base.filter((r) => r[0] !== 'Tony').map((r) => (r[0] === 'Alice' ? ['Alice', 10, 1, 19.1] : r));
    const s4 = [...s2.map((r) => (r[0] === 'Alex' ? ['Alex', 10, 0, 21.2] : r)), ['Skye', 10, 0, 21.0], ['Marco', 10, 0, 21.1]];
    const s5 = [...s4.filter((r) => r[0] !== 'Alex'), ['Skye2', 10, 0, 31.0], ['Marco2', 10, 0, 31.1]];
    const expected: Record<number, unknown[][]> = { 1: base, 2: s2, 3: s2, 4: s4, 5: s5 };
    for (const [id, rows] of Object.entries(expected)) {
      expect(text(await readTable(t, { snapshotId: Number(id) })), `snapshot ${id}`).toEqual(text(rows));
    }
    expect(text(await readTable(t))).toEqual(text(s5));
    const s3 = await t.snapshots.snapshot(3);
    expect(s3.commitKind).toBe('COMPACT');
  });

  it('pk_table_partial_update: partial update, deletes ignored on read', async () => {
    const t = await open('pk_table_partial_update');
    expect(text(await readTable(t, { snapshotId: 1 }))).toEqual(text([
      [0, 1, null, false, 'apple'], [1, 0, 2.0, false, null], [1, 1, null, true, 'banana'],
    ]));
    expect(text(await readTable(t, { snapshotId: 2 }))).toEqual(text([
      [0, 1, 100.0, true, 'new_apple'], [1, 0, 2.0, false, null], [1, 1, 133.3, false, 'banana'], [2, 1, 144.4, true, 'orange'],
    ]));
  });

  it('append_complex_data: dates, nanosecond timestamps, decimal(23,5), bytes, at every snapshot', async () => {
    const t = await open('append_complex_data');
    const ts = (iso: string, nanosOfMilli = 0) => (BigInt(Date.parse(`${iso}Z`)) * 1_000_000n + BigInt(nanosOfMilli)).toString();
    const s1 = [
      [10, 1, 1234, ts('2033-05-18T03:33:20.000'), '123456789987654321.45678', 'add'],
      [20, 1, -1234, ts('1899-01-01T00:59:20.001', 1001), '-123456789987654321.45678', 'bad'],
      [10, 1, 19909, ts('2033-05-18T03:33:20.000', 1001), '12.30000', 'cat'],
    ];
    const s2 = [...s1,
      [10, 1, 0, ts('2008-12-28T00:00:00.000', 123456), null, 'dad'],
      [10, 1, 100, ts('2008-12-28T00:00:00.000', 123450), '-123.45000', 'eat'],
      [10, 1, null, ts('1899-01-01T00:59:20.001', 1001), '0.00000', 'fat'],
      [20, 0, -100, null, '0.00000', 'get'],
    ];
    const s3 = [...s2, [10, 1, 20006, ts('2024-10-10T10:10:10.100', 100100), '1728551410100.10010', null]];
    const expected: Record<number, unknown[][]> = { 1: s1, 2: s2, 3: s3, 4: s3 };
    for (const [id, rows] of Object.entries(expected)) {
      expect(text(await readTable(t, { snapshotId: Number(id) })), `snapshot ${id}`).toEqual(text(rows));
    }
    expect((await t.snapshots.snapshot(4)).commitKind).toBe('COMPACT');
  });

  it('bucket ids of all 5,000 golden rows equal Java', () => {
    const lines = readFileSync(path.join(DATA, 'record_for_bucket_id.data'), 'utf8').split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBe(5000);
    const types = [T.boolean(), T.tinyint(), T.smallint(), T.int(), T.bigint(), T.float(), T.double(), T.date(), T.timestamp(9), T.decimal(30, 20), T.string(), T.bytes()];
    const w = new BinaryRowWriter(types);
    let same = 0;
    for (const line of lines) {
      // quote integers so 64-bit values survive JSON.parse
      const a = JSON.parse(line.trim().replace(/,$/, '').replace(/(?<=[[,]\s*)(-?\d+)(?=\s*[,\]])/g, '"$1"')) as unknown[];
      const row = [a[0], Number(a[1]), Number(a[2]), Number(a[3]), BigInt(a[4] as string), Math.fround(a[5] as number), a[6],
        Number(a[7]), BigInt(a[8] as string), a[9], a[10], new TextEncoder().encode(a[11] as string)];
      w.encode(row);
      if (bucketOf(w.hash(), 12345) === Number(a[12])) same++;
    }
    expect(same).toBe(5000);
  });
});
