/**
 * What Weir writes has Java Paimon's shape: manifests decode with a stock Avro reader (avsc's own
 * container decoder) under Java's record names, snapshot and schema JSON carry Java's fields; plus
 * schema evolution through the catalog, local writers racing for snapshot ids, and the CLI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { inflateRaw } from 'node:zlib';
import path from 'node:path';
import avsc from 'avsc';
import { Catalog, TableWriter, TableCommit, readTable, T } from '../../../connectors/lake/index.ts';
import { TESTDATA, sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

function decodeWithAvsc(file: string): Promise<{ schema: { name: string; namespace: string }; records: Array<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const records: Array<Record<string, unknown>> = [];
    let schema: { name: string; namespace: string } | undefined;
    avsc.createFileDecoder(file, { codecs: { deflate: inflateRaw, null: (b: Buffer, cb: (e: Error | null, r?: Buffer) => void) => cb(null, b) } })
      .on('metadata', (_type: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => { schema = JSON.parse(header.meta['avro.schema']!.toString()) as typeof schema; })
      .on('data', (r: Record<string, unknown>) => records.push(r))
      .on('error', reject)
      .on('end', () => resolve({ schema: schema!, records }));
  });
}

async function smallTable() {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const cat = new Catalog(tmp.dir);
  const t = await cat.createTable('db', 't', {
    fields: [{ name: 'id', type: T.int() }, { name: 'p', type: T.int() }, { name: 'v', type: T.string() }],
    primaryKeys: ['id', 'p'], partitionKeys: ['p'], options: { bucket: '2' },
  });
  return { cat, t };
}

describe('lake format compatibility', () => {
  it('manifests and manifest lists decode with a stock Avro reader under Java names and _VERSION 2', async () => {
    const { t } = await smallTable();
    const w = new TableWriter(t);
    for (let i = 0; i < 20; i++) w.write([i, i % 2, `v${i}`]);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    const dir = path.join(t.path, 'manifest');
    const names = readdirSync(dir);
    expect(names.some((n) => /^manifest-list-[0-9a-f-]{36}-\d+$/.test(n))).toBe(true);
    expect(names.some((n) => /^manifest-[0-9a-f-]{36}-\d+$/.test(n))).toBe(true);
    for (const n of names) {
      const { schema, records } = await decodeWithAvsc(path.join(dir, n));
      expect(schema.namespace).toBe('org.apache.paimon.avro.generated');
      for (const r of records) expect(r._VERSION).toBe(2);
      if (n.startsWith('manifest-list-')) continue;
      for (const r of records) {
        expect(r._KIND).toBe(0);
        expect(r._TOTAL_BUCKETS).toBe(2);
        const file = r._FILE as Record<string, unknown>;
        expect(file._FILE_NAME).toMatch(/^data-[0-9a-f-]{36}-\d+\.parquet$/);
        // key is the primary key without the partition field: arity 1
        expect((file._MIN_KEY as Buffer).readInt32BE(0)).toBe(1);
      }
    }
    const javaManifest = readdirSync(path.join(TESTDATA, 'pk_table_scan_and_read_mor.db/pk_table_scan_and_read_mor/manifest'));
    expect(javaManifest.length).toBeGreaterThan(0);
  });

  it('snapshot and schema JSON have the fields Java writes', async () => {
    const { t } = await smallTable();
    const w = new TableWriter(t);
    w.write([1, 1, 'x']);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    const java = JSON.parse(readFileSync(path.join(TESTDATA, 'append_complex_data.db/append_complex_data/snapshot/snapshot-1'), 'utf8')) as object;
    const ours = JSON.parse(readFileSync(path.join(t.path, 'snapshot/snapshot-1'), 'utf8')) as object;
    expect(Object.keys(ours)).toEqual(Object.keys(java));
    expect(readFileSync(path.join(t.path, 'snapshot/LATEST'), 'utf8')).toBe('1');
    expect(readFileSync(path.join(t.path, 'snapshot/EARLIEST'), 'utf8')).toBe('1');
    const javaSchema = JSON.parse(readFileSync(path.join(TESTDATA, 'pk_table_scan_and_read_mor.db/pk_table_scan_and_read_mor/schema/schema-0'), 'utf8')) as object;
    const ourSchema = JSON.parse(readFileSync(path.join(t.path, 'schema/schema-0'), 'utf8')) as { fields: Array<{ type: string }> };
    expect(Object.keys(ourSchema)).toEqual(Object.keys(javaSchema));
    expect(ourSchema.fields.map((f) => f.type)).toEqual(['INT NOT NULL', 'INT NOT NULL', 'STRING']);
  });

  it('alter table adds, renames and drops columns; old files read under the new schema', async () => {
    const { cat, t } = await smallTable();
    const w = new TableWriter(t);
    w.write([1, 1, 'old']);
    await new TableCommit(t, 'u').commit(1, await w.prepareCommit());
    await cat.alterTable('db', 't', [{ kind: 'addColumn', name: 'extra', type: T.bigint() }, { kind: 'setOption', key: 'snapshot.num-retained.min', value: '3' }]);
    const t2 = await cat.getTable('db', 't');
    expect(t2.schema.id).toBe(1);
    const w2 = new TableWriter(t2);
    w2.write([2, 1, 'new', 5n]);
    await new TableCommit(t2, 'u').commit(2, await w2.prepareCommit());
    expect(sortedText(await readTable(t2))).toEqual(sortedText([[1, 1, 'old', null], [2, 1, 'new', 5n]]));
    await cat.alterTable('db', 't', [{ kind: 'renameColumn', from: 'v', to: 'value' }, { kind: 'dropColumn', name: 'extra' }]);
    const t3 = await cat.getTable('db', 't');
    expect(t3.schema.fields.map((f) => f.name)).toEqual(['id', 'p', 'value']);
    expect(sortedText(await readTable(t3))).toEqual(sortedText([[1, 1, 'old'], [2, 1, 'new']]));
    expect(await cat.listTables('db')).toEqual(['t']);
    await cat.dropTable('db', 't');
    expect(await cat.tableExists('db', 't')).toBe(false);
  });

  it('writers racing for snapshot ids on local disk all land on distinct ids', async () => {
    const { t } = await smallTable();
    const commits = Array.from({ length: 4 }, (_, w) => ({ w, writer: new TableWriter(t), commit: new TableCommit(t, `w${w}`) }));
    for (let round = 1; round <= 3; round++) {
      const prepared = await Promise.all(commits.map(async (c) => { c.writer.write([round * 10 + c.w, 0, `r${round}`]); return c.writer.prepareCommit(); }));
      await Promise.all(commits.map((c, i) => c.commit.commit(round, prepared[i]!)));
    }
    expect(await t.snapshots.listIds()).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await readTable(t)).length).toBe(12);
    expect(commits.reduce((s, c) => s + c.commit.lostRaces, 0)).toBeGreaterThan(0);
  });

  it('weir lake dump prints rows as JSON lines sorted by primary key', () => {
    const bin = path.resolve(import.meta.dirname, '../../../runtime/cli/bin.mjs');
    const table = path.join(TESTDATA, 'pk_table_scan_and_read_mor.db/pk_table_scan_and_read_mor');
    const out = execFileSync('node', [bin, 'lake', 'dump', table, '--snapshot', '2'], { encoding: 'utf8' });
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.f0)).toEqual(['Alex', 'Alice', 'Bob', 'David', 'Emily', 'Lucy', 'Paul', 'Two roads diverged in a wood, and I took the one less traveled by, And that has made all the difference.']);
    expect(rows[1]).toEqual({ f0: 'Alice', f1: 10, f2: 1, f3: 19.1 });
    const snaps = execFileSync('node', [bin, 'lake', 'snapshots', table], { encoding: 'utf8' }).trim().split('\n');
    expect(snaps.length).toBe(6);
    const append = execFileSync('node', [bin, 'lake', 'dump', path.join(TESTDATA, 'append_complex_data.db/append_complex_data')], { encoding: 'utf8' });
    expect(append).toContain('"f4":"2024-10-10T10:10:10.1001001","f5":"1728551410100.10010","f6":null');
  });
});
