/**
 * Changelog producers: `input` keeps the input records (kinds and order) in changelog files;
 * `lookup` writes the difference of each commit against the table before it, after the merge
 * engine (deduplicate, partial-update, aggregation), nothing for unchanged rows, and a failed commit
 * leaves its cache as it was. Files are in Java's layout (changelog manifest list, changelog-* files)
 * and expire with their snapshot.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, TableCommit, TableWriter, readTable, expireSnapshots, T, type FileStoreTable, type SchemaDefinition } from '../../../connectors/lake/index.ts';
import { LookupChangelogProducer, changelogProducer } from '../../../connectors/lake/table/changelog.ts';
import { sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

const KIND = ['+I', '-U', '+U', '-D'];

async function newTable(options: Record<string, string>, fields: SchemaDefinition['fields'] = [{ name: 'k', type: T.int() }, { name: 'v', type: T.string() }]): Promise<FileStoreTable> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return new Catalog(t.dir).createTable('db', 't', { fields, primaryKeys: ['k'], options: { bucket: '1', ...options } });
}

/** The changelog of snapshot `id` as "kind k,v..." lines in file order. */
async function changelogOf(table: FileStoreTable, id: number): Promise<string[]> {
  const s = await table.snapshots.snapshot(id);
  const out: string[] = [];
  for (const e of await table.changelogEntries(s)) {
    const b = await table.readDataFile(e);
    b.rows.forEach((r, i) => out.push(`${KIND[b.kinds[i]!]} ${r.join(',')}`));
  }
  return out;
}

async function commitWith(table: FileStoreTable, id: number, rows: Array<[Record<string, unknown>, number]>, lookup?: LookupChangelogProducer): Promise<number[]> {
  const w = new TableWriter(table);
  for (const [r, k] of rows) w.write(r, k);
  let messages = await w.prepareCommit();
  const produced = lookup ? await lookup.produce(messages) : undefined;
  if (produced) messages = produced.messages;
  const ids = await new TableCommit(table, 'job').commit(id, messages);
  produced?.apply();
  lookup?.committed(ids[ids.length - 1] ?? null);
  return ids;
}

describe('changelog producers', () => {
  it('rejects unknown producers and append tables', () => {
    expect(() => changelogProducer({ 'changelog-producer': 'magic' }, true)).toThrow(/none, input, lookup or full-compaction/);
    expect(() => changelogProducer({ 'changelog-producer': 'input' }, false)).toThrow(/needs a primary-key table/);
  });

  it('input: the records as they came, with their kinds, in Java layout', async () => {
    const table = await newTable({ 'changelog-producer': 'input' });
    await commitWith(table, 1, [[{ k: 1, v: 'a' }, 0], [{ k: 1, v: 'a' }, 1], [{ k: 1, v: 'b' }, 2], [{ k: 2, v: 'x' }, 0]]);
    expect(await changelogOf(table, 1)).toEqual(['+I 1,a', '-U 1,a', '+U 1,b', '+I 2,x']);
    const s = await table.snapshots.snapshot(1);
    expect(s.changelogRecordCount).toBe(4);
    expect(s.changelogManifestList).toMatch(/^manifest-list-/);
    expect(readdirSync(`${table.path}/bucket-0`).filter((f) => f.startsWith('changelog-')).length).toBe(1);
    expect(sortedText(await readTable(table))).toEqual(sortedText([[1, 'b'], [2, 'x']]));
  });

  it('lookup: the difference against the table before the commit; unchanged rows give nothing', async () => {
    const table = await newTable({ 'changelog-producer': 'lookup' });
    const lookup = new LookupChangelogProducer(table);
    await commitWith(table, 1, [[{ k: 1, v: 'a' }, 0], [{ k: 2, v: 'b' }, 0], [{ k: 3, v: 'gone' }, 0], [{ k: 3, v: 'gone' }, 3]], lookup);
    expect(await changelogOf(table, 1)).toEqual(['+I 1,a', '+I 2,b']);
    await commitWith(table, 2, [[{ k: 1, v: 'a2' }, 0], [{ k: 1, v: 'a3' }, 0], [{ k: 2, v: 'b' }, 0], [{ k: 4, v: 'd' }, 0]], lookup);
    expect(await changelogOf(table, 2)).toEqual(['-U 1,a', '+U 1,a3', '+I 4,d']);
    await commitWith(table, 3, [[{ k: 4, v: 'd' }, 3]], lookup);
    expect(await changelogOf(table, 3)).toEqual(['-D 4,d']);
    // a fresh producer (a restarted committer) starts from the table
    await commitWith(table, 4, [[{ k: 2, v: 'b2' }, 0]], new LookupChangelogProducer(table));
    expect(await changelogOf(table, 4)).toEqual(['-U 2,b', '+U 2,b2']);
  });

  it('lookup after the merge engine: aggregation and partial-update tables', async () => {
    const agg = await newTable({ 'changelog-producer': 'lookup', 'merge-engine': 'aggregation', 'fields.n.aggregate-function': 'sum' }, [{ name: 'k', type: T.int() }, { name: 'n', type: T.bigint() }]);
    const lookup = new LookupChangelogProducer(agg);
    await commitWith(agg, 1, [[{ k: 1, n: 5n }, 0], [{ k: 1, n: 2n }, 0]], lookup);
    await commitWith(agg, 2, [[{ k: 1, n: 10n }, 0]], lookup);
    expect(await changelogOf(agg, 1)).toEqual(['+I 1,7']);
    expect(await changelogOf(agg, 2)).toEqual(['-U 1,7', '+U 1,17']);

    const partial = await newTable({ 'changelog-producer': 'lookup', 'merge-engine': 'partial-update' }, [{ name: 'k', type: T.int() }, { name: 'a', type: T.string() }, { name: 'b', type: T.string() }]);
    const p = new LookupChangelogProducer(partial);
    await commitWith(partial, 1, [[{ k: 1, a: 'x', b: null }, 0]], p);
    await commitWith(partial, 2, [[{ k: 1, a: null, b: 'y' }, 0]], p);
    expect(await changelogOf(partial, 2)).toEqual(['-U 1,x,', '+U 1,x,y']);
  });

  it('lookup: a commit that did not land leaves the cache as it was; another writer makes it reload', async () => {
    const table = await newTable({ 'changelog-producer': 'lookup' });
    const lookup = new LookupChangelogProducer(table);
    await commitWith(table, 1, [[{ k: 1, v: 'a' }, 0]], lookup);
    // produced but never applied (the commit failed): the retry must see the same before-state
    const w = new TableWriter(table);
    w.write({ k: 1, v: 'b' }, 0);
    const messages = await w.prepareCommit();
    await lookup.produce(messages);
    const retry = await lookup.produce(messages);
    await new TableCommit(table, 'job').commit(2, retry.messages);
    retry.apply();
    lookup.committed(2);
    expect(await changelogOf(table, 2)).toEqual(['-U 1,a', '+U 1,b']);
    // another commit user writes k=1 behind the producer's back
    const other = new TableWriter(table);
    other.write({ k: 1, v: 'c' }, 0);
    await new TableCommit(table, 'other').commit(1, await other.prepareCommit());
    await commitWith(table, 3, [[{ k: 1, v: 'd' }, 0]], lookup);
    expect(await changelogOf(table, 4)).toEqual(['-U 1,c', '+U 1,d']);
  });

  it('changelog files expire with their snapshot', async () => {
    const table = await newTable({ 'changelog-producer': 'input' });
    await commitWith(table, 1, [[{ k: 1, v: 'a' }, 0]]);
    await commitWith(table, 2, [[{ k: 1, v: 'b' }, 0]]);
    const changelogFiles = (): string[] => readdirSync(`${table.path}/bucket-0`).filter((f) => f.startsWith('changelog-'));
    expect(changelogFiles().length).toBe(2);
    expect(await expireSnapshots(table, { retainMin: 1, retainMax: 1 })).toEqual([1]);
    expect(changelogFiles().length).toBe(1);
  });
});
