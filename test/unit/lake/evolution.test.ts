/**
 * Tables Weir writes itself for the cases the Java sample does not cover: every kind of type change
 * Paimon allows (old files cast on read, time travel with the old schema), sequence.field ordering,
 * external data paths, and clear errors for what Weir does not read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Catalog, TableWriter, TableCommit, readTable, FileStoreTable, T, DELETE, type DataType } from '../../../connectors/lake/index.ts';
import { encodeManifest, readManifest, readManifestList } from '../../../connectors/lake/format/manifest.ts';
import { tableOptions } from '../../../connectors/lake/table/options.ts';
import { readAvroContainer } from '../../../connectors/lake/format/avro.ts';
import { parseSqlType } from '../../../connectors/lake/schema/types.ts';
import { BadRecordError, ConfigError, LakeFormatError } from '../../../connectors/lake/errors.ts';
import { snapshotFromJson, snapshotToJson } from '../../../connectors/lake/format/snapshot.ts';
import { TESTDATA, copyTestTable, sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

function warehouse(): Catalog {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  return new Catalog(tmp.dir);
}

const ts = (iso: string) => BigInt(Date.parse(`${iso}Z`)) * 1_000_000n;
const days = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

/** [from type, to type, written value, value read after the change] */
const CASES: Array<[DataType, DataType, unknown, unknown]> = [
  [T.int(), T.bigint(), 7, 7n],
  [T.tinyint(), T.smallint(), -5, -5],
  [T.bigint(), T.int(), 4294967301n, 5], // Java's (int) long wraps
  [T.int(), T.string(), -4, '-4'],
  [T.string(), T.int(), ' 100', 100],
  [T.string(), T.bigint(), '9223372036854775807', 9223372036854775807n],
  [T.date(), T.timestamp(9), 4, 4n * 86_400_000_000_000n],
  [T.timestamp(9), T.date(), ts('2024-11-26T06:38:56.001') + 1n, days('2024-11-26')],
  [T.timestamp(9), T.timestamp(3), ts('2024-11-26T06:38:56.001') + 999n, ts('2024-11-26T06:38:56.001')],
  [T.timestamp(9), T.string(), ts('2024-11-26T06:38:56.001') + 1n, '2024-11-26 06:38:56.001000001'],
  [T.timestamp(3), T.string(), ts('2024-11-26T06:38:56'), '2024-11-26 06:38:56.000'],
  [T.timestamp(6), T.string(), ts('2024-11-26T06:38:56.12'), '2024-11-26 06:38:56.120000'],
  [T.timestamp(0), T.string(), ts('2024-11-26T06:38:56'), '2024-11-26 06:38:56'],
  [T.decimal(5, 2), T.decimal(6, 3), '1.25', '1.250'],
  [T.decimal(6, 3), T.decimal(5, 1), '12.355', '12.4'],
  [T.decimal(4, 2), T.decimal(3, 2), '12.34', null], // does not fit: null, as Paimon
  [T.boolean(), T.string(), true, 'true'],
  [T.string(), T.boolean(), 'Yes', true],
  [T.string(), T.boolean(), 'nO', false],
  [T.boolean(), T.int(), true, 1],
  [T.int(), T.boolean(), 0, false],
  [T.double(), T.string(), 1e10, '1.0E10'],
  [T.double(), T.string(), 1.5, '1.5'],
  [T.float(), T.double(), Math.fround(1.1), Math.fround(1.1)],
  [T.double(), T.int(), -3.9, -3],
  [T.int(), T.decimal(5, 2), 12, '12.00'],
  [T.double(), T.decimal(5, 2), 1.005, '1.01'],
  [T.string(), T.decimal(5, 2), '3.14159', '3.14'],
  [T.decimal(5, 2), T.string(), '-0.50', '-0.50'],
  [T.string(), T.date(), '2024-02-29', days('2024-02-29')],
  [T.date(), T.string(), days('2024-02-29'), '2024-02-29'],
  [T.string(), T.timestamp(3), '2024-11-26 15:28:31', ts('2024-11-26T15:28:31')],
  [T.string(), T.varchar(3), 'abcdef', 'abc'],
  [T.bytes(), T.string(), new TextEncoder().encode('héllo'), 'héllo'],
  [T.string(), T.bytes(), 'hi', new TextEncoder().encode('hi')],
  [T.array(T.int()), T.array(T.bigint()), [1, null, 3], [1n, null, 3n]],
];

describe('type-changing schema evolution', () => {
  it('every cast Paimon allows: old files read with the new types; time travel reads the old ones', async () => {
    const cat = warehouse();
    const fields = [{ name: 'id', type: T.int() }, ...CASES.map(([from], i) => ({ name: `c${i}`, type: from }))];
    const t = await cat.createTable('db', 'cast', { fields, options: { bucket: '-1' } });
    const w = new TableWriter(t);
    w.write([1, ...CASES.map((c) => c[2])]);
    w.write([2, ...CASES.map(() => null)]);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    await cat.alterTable('db', 'cast', CASES.map(([, to], i) => ({ kind: 'updateColumnType', name: `c${i}`, type: to })));
    const t2 = await cat.getTable('db', 'cast');
    const rows = await readTable(t2);
    const one = rows.find((r) => r[0] === 1)!;
    CASES.forEach(([from, to, , expected], i) => {
      expect(one[i + 1], `c${i}: ${JSON.stringify(from.root)} -> ${JSON.stringify(to.root)}`).toEqual(expected);
    });
    expect(rows.find((r) => r[0] === 2)!.slice(1).every((v) => v === null)).toBe(true);
    // a new row written with the new types reads back alongside
    const w2 = new TableWriter(t2);
    w2.write([3, ...CASES.map((c) => c[3])]);
    await new TableCommit(t2, 'u').commit(2, await w2.prepareCommit());
    expect((await readTable(t2)).length).toBe(3);
    // time travel to snapshot 1: its own schema, the values as written
    const old = (await readTable(t2, { snapshotId: 1 })).find((r) => r[0] === 1)!;
    CASES.forEach(([, , written], i) => expect(old[i + 1], `c${i} at snapshot 1`).toEqual(written));
  });

  it('a value that does not parse fails the read naming the field; a change without a cast is refused', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'bad', { fields: [{ name: 'id', type: T.int() }, { name: 's', type: T.string() }], options: { bucket: '-1' } });
    const w = new TableWriter(t);
    w.write([1, 'not a number']);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    await cat.alterTable('db', 'bad', [{ kind: 'updateColumnType', name: 's', type: T.int() }]);
    const err = await readTable(await cat.getTable('db', 'bad')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRecordError);
    expect((err as Error).message).toContain("field 's'");
    await expect(cat.alterTable('db', 'bad', [{ kind: 'updateColumnType', name: 'id', type: T.array(T.int()) }])).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('sequence.field', () => {
  it('the largest sequence field wins, across files and within one write; ties go to the newest write', async () => {
    const cat = warehouse();
    const def = (extra: Record<string, string> = {}) => ({
      fields: [{ name: 'k', type: T.int() }, { name: 'ts', type: T.bigint() }, { name: 'v', type: T.string() }],
      primaryKeys: ['k'], options: { bucket: '1', 'sequence.field': 'ts', ...extra },
    });
    const t = await cat.createTable('db', 's', def());
    const commit = new TableCommit(t, 'u');
    const w = new TableWriter(t);
    w.write([1, 10n, 'newest-ts']); w.write([1, 5n, 'late-older']); // one write buffer: 10 wins
    w.write([2, 7n, 'first']); w.write([2, 7n, 'tie-newer']); // tie: the later write wins
    w.write([3, 3n, 'three']);
    await commit.commit(1, await w.prepareCommit());
    w.write([1, 9n, 'older-file-later']); // across files: 10 still wins
    w.write([3, 4n, 'three-newer']);
    w.write([4, 1n, 'x']); w.write([4, 0n, 'x'], DELETE); // a delete with a smaller sequence field loses
    await commit.commit(2, await w.prepareCommit());
    expect(sortedText(await readTable(t))).toEqual(sortedText([[1, 10n, 'newest-ts'], [2, 7n, 'tie-newer'], [3, 4n, 'three-newer'], [4, 1n, 'x']]));
    // descending order: the smallest wins
    const d = await cat.createTable('db', 'd', def({ 'sequence.field.sort-order': 'descending' }));
    const wd = new TableWriter(d);
    wd.write([1, 10n, 'ten']); wd.write([1, 5n, 'five']);
    await new TableCommit(d, 'u').commit(1, await wd.prepareCommit());
    expect(await readTable(d)).toEqual([[1, 5n, 'five']]);
  });
});

describe('external data paths and unsupported features', () => {
  it('data files at external paths with a scheme (FILE:/, file:/, file:///) are read from there', async () => {
    const cat = warehouse();
    const t = await cat.createTable('db', 'e', { fields: [{ name: 'id', type: T.int() }, { name: 'v', type: T.string() }], options: { bucket: '-1' } });
    for (let i = 1; i <= 3; i++) {
      const w = new TableWriter(t);
      w.write([i, `v${i}`]);
      await new TableCommit(t, 'u').commit(i, await w.prepareCommit());
    }
    // move the data files elsewhere and point the manifests at them, as data-file.external-paths does
    const ext = path.join(path.dirname(cat.tablePath('db', 'e')), 'external');
    mkdirSync(ext, { recursive: true });
    const schemes = ['FILE:', 'file:', 'file://'];
    const latest = (await t.snapshots.latest())!;
    for (const list of [latest.baseManifestList, latest.deltaManifestList]) {
      for (const m of await readManifestList(t.io, t.path, list)) {
        const entries = await readManifest(t.io, t.path, m.fileName);
        for (const e of entries) {
          const to = path.join(ext, e.file.fileName);
          renameSync(t.dataFilePath(e.partition, e.bucket, e.file.fileName), to);
          e.file.externalPath = `${schemes[Number(/-(\d+)\.parquet$/.exec(e.file.fileName)![1]) % 3]!}${to}`;
        }
        await t.io.write(path.join(t.path, 'manifest', m.fileName), encodeManifest(entries));
      }
    }
    const fresh = await FileStoreTable.open(t.path);
    expect(sortedText(await readTable(fresh))).toEqual(sortedText([[1, 'v1'], [2, 'v2'], [3, 'v3']]));
  });

  it('ORC manifests, ORC data files, data evolution and BLOB fail with errors naming the option or type', () => {
    const schema = (options: Record<string, string>) => ({ version: 3, id: 0, fields: [], highestFieldId: 0, partitionKeys: [], primaryKeys: [], options, timeMillis: 0 });
    expect(() => tableOptions(schema({ 'manifest.format': 'orc' }))).toThrow(/manifest\.format/);
    expect(() => tableOptions(schema({ 'file.format': 'orc' }))).toThrow(/file\.format/);
    expect(() => tableOptions(schema({ 'data-evolution.enabled': 'true' }))).toThrow(/data-evolution\.enabled/);
    expect(() => tableOptions(schema({ 'manifest.format': 'orc' }))).toThrow(ConfigError);
    expect(() => readAvroContainer(Buffer.from('ORC\u0000\u0001'), 'manifest/manifest-x-0')).toThrow(/manifest\.format/);
    expect(() => parseSqlType('BLOB')).toThrow(LakeFormatError);
    expect(() => parseSqlType('BLOB')).toThrow(/BLOB/);
  });
});

describe('64-bit values', () => {
  it('a commit identifier of Long.MAX_VALUE keeps every digit through read, write and `weir lake snapshots`', () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const table = copyTestTable('pk_table_scan_and_read_mor', tmp.dir);
    const file = path.join(table, 'snapshot', 'snapshot-5');
    const text = readFileSync(file, 'utf8').replace(/"commitIdentifier" : \d+/, '"commitIdentifier" : 9223372036854775807');
    writeFileSync(file, text);
    const s = snapshotFromJson(text, file);
    expect(s.commitIdentifier).toBe(9223372036854775807n);
    expect(snapshotToJson(s)).toContain('"commitIdentifier": 9223372036854775807,');
    const bin = path.resolve(import.meta.dirname, '../../../runtime/cli/bin.mjs');
    const out = execFileSync('node', [bin, 'lake', 'snapshots', table], { encoding: 'utf8' });
    expect(out.split('\n')[5]!.split('\t')[4]).toBe('9223372036854775807');
  });

  it('`weir lake files` shows the rows each deletion vector drops; `--branch` reads a branch', () => {
    const bin = path.resolve(import.meta.dirname, '../../../runtime/cli/bin.mjs');
    const dv = path.join(TESTDATA, 'pk_table_scan_and_read_dv.db/pk_table_scan_and_read_dv');
    const lines = execFileSync('node', [bin, 'lake', 'files', dv, '--snapshot', '4'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split('\t'));
    expect(lines[0]![4]).toBe('deleted');
    expect(lines.slice(1).map((l) => `${l[2]}:${l[4]}`)).toEqual(['4:0', '5:1', '5:1', '5:0']);
    const branch = path.join(TESTDATA, 'append_table_with_append_pt_branch.db/append_table_with_append_pt_branch');
    const rows = execFileSync('node', [bin, 'lake', 'dump', branch, '--branch', 'test'], { encoding: 'utf8' }).trim().split('\n');
    expect(rows).toEqual(['{"pt":2,"value":210,"value2":null}', '{"pt":2,"value":220,"value2":2200}']);
  });
});
