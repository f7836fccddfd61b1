/**
 * Compaction output rolled at `target-file-size`: several files at the output level, each holding a
 * contiguous key range, read back equal to the table before; also for deletion-vector tables (not
 * for append tables, whose compaction counts files); bad sizes are named.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, TableCommit, TableWriter, compactTable, readTable, T, type FileStoreTable } from '../../../connectors/lake/index.ts';
import { decodeSerializedRow } from '../../../connectors/lake/format/binary-row.ts';
import { mergeEntries } from '../../../connectors/lake/format/manifest.ts';
import { parseMemorySize } from '../../../connectors/lake/table/options.ts';
import { sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

async function table(options: Record<string, string>, primaryKey = true): Promise<FileStoreTable> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return new Catalog(t.dir).createTable('db', 't', {
    fields: [{ name: 'k', type: T.notNull(T.int()) }, { name: 'v', type: T.string() }],
    primaryKeys: primaryKey ? ['k'] : [],
    options: { bucket: '1', ...options },
  });
}

async function writeRuns(t: FileStoreTable, runs: number, rows: number): Promise<void> {
  const commit = new TableCommit(t, 'u');
  for (let r = 0; r < runs; r++) {
    const w = new TableWriter(t);
    for (let i = 0; i < rows; i++) w.write({ k: (i * 7 + r) % (rows * 2), v: `value-${r}-${i}-${'x'.repeat(20)}` }, 0);
    await commit.commit(r + 1, await w.prepareCommit());
  }
}

async function liveFiles(t: FileStoreTable) {
  return mergeEntries(await t.liveEntries((await t.snapshots.latest())!)).map((e) => e.file);
}

describe('target-file-size', () => {
  it('parses memory sizes and names a bad one', () => {
    expect(parseMemorySize('128 mb', 'x')).toBe(128 * 1024 * 1024);
    expect(parseMemorySize('64kb', 'x')).toBe(65536);
    expect(parseMemorySize('1 GiB', 'x')).toBe(1024 ** 3);
    expect(() => parseMemorySize('huge', 'target-file-size')).toThrow(/target-file-size.*'huge' is not a memory size/);
  });

  it('rolls a full compaction into several files with disjoint key ranges, read back equal', async () => {
    const t = await table({ 'target-file-size': '4 kb' });
    await writeRuns(t, 3, 800);
    const before = sortedText(await readTable(t));
    await compactTable(t, { full: true });
    const files = await liveFiles(t);
    expect(files.length).toBeGreaterThan(1);
    expect(new Set(files.map((f) => f.level))).toEqual(new Set([t.options.numLevels - 1]));
    const ranges = files
      .map((f) => [decodeSerializedRow([T.int()], Buffer.from(f.minKey, 'base64'))[0] as number, decodeSerializedRow([T.int()], Buffer.from(f.maxKey, 'base64'))[0] as number])
      .sort((a, b) => a[0]! - b[0]!);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]!).toBeGreaterThan(ranges[i - 1]![1]!);
    expect(sortedText(await readTable(t))).toEqual(before);
  });

  it('the default target keeps one file; deletion-vector tables roll too; append tables keep one file', async () => {
    const plain = await table({});
    await writeRuns(plain, 3, 800);
    await compactTable(plain, { full: true });
    expect((await liveFiles(plain)).length).toBe(1);

    const dv = await table({ 'target-file-size': '4 kb', 'deletion-vectors.enabled': 'true' });
    await writeRuns(dv, 3, 800);
    await compactTable(dv, {});
    await compactTable(dv, { full: true });
    expect((await liveFiles(dv)).length).toBeGreaterThan(1);
    expect(sortedText(await readTable(dv))).toEqual(sortedText(await readTable(plain)));

    const append = await table({ 'target-file-size': '4 kb', 'bucket': '1', 'bucket-key': 'k' }, false);
    await writeRuns(append, 3, 800);
    const before = sortedText(await readTable(append));
    await compactTable(append, { full: true });
    expect((await liveFiles(append)).length).toBe(1); // rolled output would be compacted again every round
    expect(sortedText(await readTable(append))).toEqual(before);
  });
});
