/**
 * Java-written Paimon tables (test/fixtures/paimon-testdata) for deletion vectors, first-row batch
 * visibility, type-changing schema evolution, fallback branches and Avro data files: every
 * snapshot reads as Java Paimon reads it (expected rows from each table's README and Java's rules).
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { FileStoreTable } from '../../../connectors/lake/table/table.ts';
import { planSplits, readSplit, readTable, tableAtSnapshot } from '../../../connectors/lake/table/read.ts';
import { lakeSource } from '../../../connectors/lake/source/index.ts';
import { nanosToIso, daysToIsoDate } from '../../../connectors/lake/schema/values.ts';
import { SourceHarness } from '../../harness/source-harness.ts';
import { TESTDATA, sortedText } from './helpers.ts';

const open = (name: string, dir = '') => FileStoreTable.open(path.join(TESTDATA, dir, `${name}.db`, name));
const TWO_ROADS = 'Two roads diverged in a wood, and I took the one less traveled by, And that has made all the difference.';
const BASE = [
  [TWO_ROADS, 10, 1, 11], ['Alice', 10, 1, 11.1], ['Bob', 10, 0, 12.1], ['Emily', 10, 0, 13.1], ['Tony', 10, 0, 14.1],
  ['Alex', 10, 0, 16.1], ['David', 10, 0, 17.1], ['Lucy', 20, 1, 14.1], ['Paul', 20, 1, 18.1],
];

async function readEvery(t: FileStoreTable, expected: Record<number, unknown[][]>): Promise<void> {
  expect(await t.snapshots.listIds()).toEqual(Object.keys(expected).map(Number));
  for (const [id, rows] of Object.entries(expected)) {
    expect(sortedText(await readTable(t, { snapshotId: Number(id) })), `snapshot ${id}`).toEqual(sortedText(rows));
  }
}

describe('Java-written tables: deletion vectors and batch visibility', () => {
  it('pk_table_scan_and_read_dv: deletion vectors applied, level-0 files invisible to batch reads, at every snapshot', async () => {
    const t = await open('pk_table_scan_and_read_dv');
    const compacted = BASE.filter((r) => r[0] !== 'Tony').map((r) => (r[0] === 'Alice' ? ['Alice', 10, 1, 19.1] : r));
    // 1: level 0 only; 2: compacted; 3: level-0 delete/update not visible; 4: compaction wrote
    // deletion vectors for Tony and the old Alice; 5, 6: level-0 appends not visible
    await readEvery(t, { 1: [], 2: BASE, 3: BASE, 4: compacted, 5: compacted, 6: compacted });
    const s4 = await planSplits(t, { snapshotId: 4 });
    expect(s4.splits.flatMap((s) => Object.values(s.deletionFiles ?? {})).map((d) => d.cardinality)).toEqual([1, 1]);
  });

  it('pk_table_scan_and_read_dv: a streaming read starts from every level with deletion vectors applied', async () => {
    const t = await open('pk_table_scan_and_read_dv');
    const { splits } = await planSplits(t, { snapshotId: 6, allLevels: true });
    const rows = (await Promise.all(splits.map((s) => readSplit(t, s)))).flat();
    const latest = [...BASE.filter((r) => r[0] !== 'Tony' && r[0] !== 'Alex').map((r) => (r[0] === 'Alice' ? ['Alice', 10, 1, 19.1] : r)),
      ['Skye', 10, 0, 21.0], ['Marco', 10, 0, 21.1], ['Skye2', 10, 0, 31.0], ['Marco2', 10, 0, 31.1]];
    expect(sortedText(rows)).toEqual(sortedText(latest));
    // the stream source: initial read of the latest snapshot as +I
    const h = await new SourceHarness(lakeSource<Record<string, unknown>>({ path: t.path, mode: 'streaming', pollIntervalMs: 5 }), 1).start();
    const seen: string[] = [];
    for (let empty = 0; empty < 3;) {
      if (h.poll(0, 100) === 'wait') { empty++; await h.readers[0]!.available(); } else empty = 0;
    }
    for (const e of h.emitted(0)) seen.push(`${e.value.kind}|${String(e.value.row.f0)}`);
    expect(seen.sort()).toEqual(latest.map((r) => `+I|${String(r[0])}`).sort());
    await h.close();
  });

  it('pk_table_scan_and_read_first_row: first row wins, batch reads skip level 0, at every snapshot', async () => {
    const t = await open('pk_table_scan_and_read_first_row');
    // 1, 2: level 0 only; 3: compacted (first rows: Tony stays, ignore-delete; Alice 11.1); 4, 5: level-0 appends
    await readEvery(t, { 1: [], 2: [], 3: BASE, 4: BASE, 5: BASE });
    const { splits } = await planSplits(t, { snapshotId: 5, allLevels: true });
    const all = (await Promise.all(splits.map((s) => readSplit(t, s)))).flat();
    expect(sortedText(all)).toEqual(sortedText([...BASE, ['Skye', 10, 0, 21.0], ['Marco', 10, 0, 21.1], ['Skye2', 10, 0, 31.0], ['Marco2', 10, 0, 31.1]]));
  });
});

describe('Java-written tables: schema evolution, branches, Avro', () => {
  it('append_table_alter_table_with_cast: old files cast to the new types; snapshot 1 reads with its own schema', async () => {
    const t = await open('append_table_alter_table_with_cast');
    const ts = (s: string) => s.replace(' ', 'T');
    const text = (rows: unknown[][]) => rows.map((r) => r.map((v) => (typeof v === 'bigint' ? ts(nanosToIso(v)) : v)));
    // snapshot 2 with schema 1 (README: "Recall with schema-1")
    const s2 = await tableAtSnapshot(t, 2);
    expect(s2.schema.fields.map((f) => f.name)).toEqual(['f4', 'key0', 'key1', 'f3', 'f1', 'f2', 'f0', 'f6']);
    expect(sortedText(text(await readTable(t, { snapshotId: 2 })))).toEqual(sortedText(text([
      [ts('1970-01-05 00:00:00'), 0, 1, 100, '2024-11-26 06:38:56.001000001', '0.020', true, null],
      [ts('1969-11-18 00:00:00'), 0, 1, 110, '2024-11-26 06:38:56.011000011', '11.120', true, null],
      [ts('1971-03-21 00:00:00'), 0, 1, 120, '2024-11-26 06:38:56.021000021', '22.220', false, null],
      [ts('2024-11-26 06:38:56.054000054'), 0, 1, 150, '2024-11-26 15:28:31', '55.002', true, 56],
      [ts('2024-11-26 06:38:56.064000064'), 0, 1, 160, '2024-11-26 15:28:41', '666.012', false, 66],
      [ts('2024-11-26 06:38:56.074000074'), 0, 1, 170, '2024-11-26 15:28:51', '-77.022', true, 76],
      [ts('1957-11-01 00:00:00'), 1, 1, 130, '2024-11-26 06:38:56.031000031', '333.320', false, null],
      [ts('2091-09-07 00:00:00'), 1, 1, 140, '2024-11-26 06:38:56.041000041', '444.420', true, null],
      [ts('2024-11-26 06:38:56.084000084'), 1, 1, 180, '2024-11-26 15:29:01', '8.032', true, -86],
      [ts('2024-11-26 06:38:56.094000094'), 1, 1, 190, "I'm strange", '-999.420', false, 96],
    ])));
    // snapshot 1 with schema 0: the values as written
    const s1 = (await readTable(t, { snapshotId: 1 })).map((r) => [r[0], r[1], r[2], ts(nanosToIso(r[3] as bigint)), r[4], r[5], daysToIsoDate(r[6] as number), r[7]]);
    expect(sortedText(s1)).toEqual(sortedText([
      [0, 1, '100', ts('2024-11-26 06:38:56.001000001'), '0.02', 'True', '1970-01-05', 5n],
      [0, 1, '110', ts('2024-11-26 06:38:56.011000011'), '11.12', '1', '1969-11-18', 25n],
      [0, 1, '120', ts('2024-11-26 06:38:56.021000021'), '22.22', 'nO', '1971-03-21', 35n],
      [1, 1, '130', ts('2024-11-26 06:38:56.031000031'), '333.32', '0', '1957-11-01', 45n],
      [1, 1, '140', ts('2024-11-26 06:38:56.041000041'), '444.42', 'Yes', '2091-09-07', 55n],
    ]));
  });

  it('append_table_with_append_pt_branch: partitions missing from main come from the fallback branch, at every snapshot', async () => {
    const t = await open('append_table_with_append_pt_branch');
    // snapshot 1 (schema 0, before scan.fallback-branch was set): main only
    await readEvery(t, { 1: [[1, 110]], 2: [[1, 110, null], [1, 120, 1200], [2, 210, null], [2, 220, 2200]] });
    const branch = await t.onBranch('test');
    expect(sortedText(await readTable(branch))).toEqual(sortedText([[2, 210, null], [2, 220, 2200]]));
  });

  it('avro/append_simple: Avro data files with nested map, array and row', async () => {
    const t = await open('append_simple', 'avro');
    const row = [1, 2, 'test', { f0: new Map([['key', 123]]), f1: [1, 2, 3] }];
    await readEvery(t, { 1: [row, row, row, row] });
  });
});

describe('Java-written tables through the batch lake source', () => {
  it('time travel with the source: snapshot 1 of the cast table comes with its own schema', async () => {
    const t = await open('append_table_alter_table_with_cast');
    const h = await new SourceHarness(lakeSource<Record<string, unknown>>({ path: t.path, mode: 'batch', snapshotId: 1 }), 1).start();
    for (let polls = 0; polls < 1000; polls++) {
      const status = h.poll(0, 100);
      if (status === 'end') break;
      if (status === 'wait') await h.readers[0]!.available();
    }
    const rows = h.emitted(0).map((e) => e.value);
    expect(rows.map((r) => r.f3).sort()).toEqual(['0', '1', 'Yes', 'True', 'nO'].sort());
    expect(rows.every((r) => typeof r.f5 === 'bigint' && !('f6' in r))).toBe(true);
    await h.close();
  });
});
