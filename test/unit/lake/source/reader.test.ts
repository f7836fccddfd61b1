/**
 * The lake source reader without a cluster: positions survive a checkpoint taken before the first
 * poll after a restore, a restore resumes at the row, and a rescale (union state redistributed)
 * hands each bucket to its new subtask without losing or repeating a change.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Catalog, TableCommit, TableWriter, T, type FileStoreTable } from '../../../../connectors/lake/index.ts';
import { lakeSource } from '../../../../connectors/lake/source/index.ts';
import type { LakeEnumeratorState } from '../../../../connectors/lake/source/enumerator.ts';
import type { LakeBucketSplit } from '../../../../connectors/lake/source/positions.ts';
import { SourceHarness, type SourceSnapshot } from '../../../harness/source-harness.ts';
import type { Change } from '../../../../operators/changelog.ts';
import { tempDir } from '../helpers.ts';

const tmp = tempDir('weir-lake-source-reader-');
afterAll(() => tmp.cleanup());

type Row = { id: number; v: string };

async function tableWithSnapshots(name: string): Promise<FileStoreTable> {
  const cat = new Catalog(path.join(tmp.dir, name));
  const table = await cat.createTable('db', 't', {
    fields: [{ name: 'id', type: T.notNull(T.int()) }, { name: 'v', type: T.string() }],
    primaryKeys: ['id'],
    options: { bucket: '4' },
  });
  const writer = new TableWriter(table);
  const commit = new TableCommit(table, 'u');
  for (let s = 1; s <= 5; s++) {
    for (let id = 0; id < 60; id++) if ((id + s) % 3 !== 0) writer.write([id, `s${s}`], (id + s) % 7 === 0 ? 3 : 0);
    await commit.commit(s, await writer.prepareCommit());
  }
  return table;
}

function source(table: FileStoreTable) {
  return lakeSource<Row>({ path: table.path, mode: 'streaming', afterSnapshotId: 0, pollIntervalMs: 10 });
}

function reader(table: FileStoreTable, parallelism: number, restore?: SourceSnapshot): Promise<SourceHarness<Change<Row>, LakeBucketSplit, LakeEnumeratorState>> {
  return new SourceHarness(source(table), parallelism, restore).start();
}

/** Reads subtask `subtask` until `limit` records or until it has nothing more (three empty waits in a row). */
async function drain(h: SourceHarness<Change<Row>, LakeBucketSplit, LakeEnumeratorState>, subtask = 0, limit = Infinity, max = 7): Promise<string[]> {
  const out = h.emitted(subtask);
  const from = out.length;
  let empty = 0;
  while (out.length - from < limit && empty < 3) {
    const status = h.poll(subtask, Math.min(max, limit - (out.length - from)));
    if (status === 'wait') {
      empty++;
      await h.readers[subtask]!.available();
    } else empty = 0;
  }
  return out.slice(from).map((e) => `${e.value.kind}|${e.value.row.id}|${e.value.row.v}`);
}

describe('lake source reader', () => {
  it('a checkpoint before the first poll after a restore keeps the positions', async () => {
    const table = await tableWithSnapshots('restore');
    const all = await drain(await reader(table, 1));
    expect(all.length).toBeGreaterThan(100);

    const a = await reader(table, 1);
    const first = await drain(a, 0, 50);
    const b = await reader(table, 1, a.snapshot(1));
    const c = await reader(table, 1, b.snapshot(2)); // b never polled
    const rest = await drain(c);
    expect([...first, ...rest]).toEqual(all);
  });

  it('a rescale from 2 to 3 subtasks hands each bucket on at its position (by split)', async () => {
    const table = await tableWithSnapshots('rescale');
    const all = (await drain(await reader(table, 1))).sort();
    const old = await reader(table, 2);
    const before = [...(await drain(old, 0, 40)), ...(await drain(old, 1, 25))];
    const snap = old.snapshot(1);
    const restored = await reader(table, 3, snap);
    // 4 bucket splits dealt one by one over 3 readers
    expect(restored.readers.map((r) => r.snapshotState(2).length).sort()).toEqual([1, 1, 2]);
    const after: string[] = [];
    for (let i = 0; i < 3; i++) after.push(...(await drain(restored, i)));
    expect([...before, ...after].sort()).toEqual(all);
  });
});

describe('lake batch source with a filter', () => {
  it('emits only matching rows of the snapshot', async () => {
    const table = await tableWithSnapshots('filtered');
    const src = lakeSource<Row>({ path: table.path, mode: 'batch', filter: [{ field: 'id', op: '<', value: 10 }, { field: 'v', op: '=', value: 's5' }] });
    const h = await new SourceHarness(src, 1).start();
    const out = h.emitted(0);
    for (let i = 0; i < 200 && h.poll(0, 100) !== 'end'; i++) await Promise.race([h.readers[0]!.available(), new Promise((r) => setTimeout(r, 10))]);
    const got = out.map((e) => `${e.value.id}|${e.value.v}`).sort();
    // snapshot 5 wrote ids with (id + 5) % 3 != 0, deleting those with (id + 5) % 7 == 0
    const expected = Array.from({ length: 10 }, (_, id) => id).filter((id) => (id + 5) % 3 !== 0 && (id + 5) % 7 !== 0).map((id) => `${id}|s5`).sort();
    expect(got).toEqual(expected);
  });
});
