/**
 * File pruning by statistics: append tables skip files whose value stats exclude a match; primary-key
 * tables skip by key ranges only, never by a value column (an older version of a row must not come
 * back because its newer file was skipped); results equal the unpruned read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, TableCommit, TableWriter, planSplits, readTable, T, type Condition, type FileStoreTable, type SchemaDefinition } from '../../../connectors/lake/index.ts';
import { sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

async function table(def: SchemaDefinition): Promise<FileStoreTable> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return new Catalog(t.dir).createTable('db', 't', def);
}

async function commit(t: FileStoreTable, id: number, rows: Array<Record<string, unknown>>): Promise<void> {
  const w = new TableWriter(t);
  for (const r of rows) w.write(r, 0);
  await new TableCommit(t, 'u').commit(id, await w.prepareCommit());
}

const filesRead = async (t: FileStoreTable, filter: Condition[]): Promise<number> => (await planSplits(t, { filter })).splits.reduce((n, s) => n + s.files.length, 0);

describe('stats pruning', () => {
  it('append table: files outside the range, all-null files and IN lists are skipped', async () => {
    const t = await table({ fields: [{ name: 'id', type: T.int() }, { name: 'city', type: T.string() }, { name: 'note', type: T.string() }], options: { bucket: '-1' } });
    await commit(t, 1, Array.from({ length: 10 }, (_, i) => ({ id: i, city: 'amsterdam', note: null })));
    await commit(t, 2, Array.from({ length: 10 }, (_, i) => ({ id: 100 + i, city: 'berlin', note: 'x' })));
    await commit(t, 3, Array.from({ length: 10 }, (_, i) => ({ id: 200 + i, city: 'cairo-with-a-name-longer-than-sixteen', note: null })));
    const cases: Array<[Condition[], number]> = [
      [[], 3],
      [[{ field: 'id', op: '>=', value: 150 }], 1],
      [[{ field: 'id', op: '<', value: 5 }], 1],
      [[{ field: 'id', op: '=', value: 50 }], 0],
      [[{ field: 'id', op: 'in', value: [3, 205] }], 2],
      [[{ field: 'city', op: '=', value: 'berlin' }], 1],
      [[{ field: 'city', op: '=', value: 'cairo-with-a-name-longer-than-sixteen' }], 1],
      [[{ field: 'note', op: 'isNotNull' }], 1],
      [[{ field: 'note', op: 'isNull' }], 2],
      [[{ field: 'id', op: '>', value: 100 }, { field: 'note', op: 'isNull' }], 1],
    ];
    for (const [filter, files] of cases) {
      expect([filter, await filesRead(t, filter)]).toEqual([filter, files]);
      const all = (await readTable(t)).filter((r) => filter.every((c) => matches(c, r[['id', 'city', 'note'].indexOf(c.field)])));
      expect(sortedText(await readTable(t, { filter }))).toEqual(sortedText(all));
    }
  });

  it('primary-key table: key ranges prune, value conditions never hide a newer version', async () => {
    const t = await table({ fields: [{ name: 'k', type: T.int() }, { name: 'v', type: T.int() }], primaryKeys: ['k'], options: { bucket: '1' } });
    await commit(t, 1, Array.from({ length: 10 }, (_, i) => ({ k: i, v: 1 })));
    await commit(t, 2, Array.from({ length: 10 }, (_, i) => ({ k: 100 + i, v: 1 })));
    await commit(t, 3, [{ k: 5, v: 99 }]); // a newer version of key 5
    expect(await filesRead(t, [{ field: 'k', op: '>=', value: 100 }])).toBe(1);
    expect(await filesRead(t, [{ field: 'k', op: '=', value: 5 }])).toBe(2);
    // v = 1 matches the old version of key 5 only: the newer file must still be read, and the row is gone
    expect(await filesRead(t, [{ field: 'v', op: '=', value: 1 }])).toBe(3);
    const rows = await readTable(t, { filter: [{ field: 'v', op: '=', value: 1 }] });
    expect(rows.some((r) => r[0] === 5)).toBe(false);
    expect(rows.length).toBe(19);
  });
});

function matches(c: Condition, v: unknown): boolean {
  switch (c.op) {
    case 'isNull': return v === null;
    case 'isNotNull': return v !== null;
    case '=': return v === c.value;
    case '>=': return v !== null && (v as number) >= (c.value as number);
    case '>': return v !== null && (v as number) > (c.value as number);
    case '<': return v !== null && (v as number) < (c.value as number);
    case 'in': return (c.value as unknown[]).includes(v);
    default: throw new Error(`no model for ${c.op}`);
  }
}
