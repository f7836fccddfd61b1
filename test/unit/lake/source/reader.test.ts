/**
 * The lake source reader without a cluster: positions survive a checkpoint taken before the first
 * poll after a restore, a restore resumes at the row, and a rescale (union state redistributed)
 * hands each bucket to its new subtask without losing or repeating a change.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Catalog, TableCommit, TableWriter, T, type FileStoreTable } from '../../../../connectors/lake/index.ts';
import { LakeSourceReader, type LakeReadSettings } from '../../../../connectors/lake/source/reader.ts';
import { OperatorStateStore, redistributeOperatorState, type OperatorStateHandle } from '../../../../state/operator-state.ts';
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

function settings(table: FileStoreTable): LakeReadSettings {
  return { location: { path: table.path }, bounded: false, snapshotId: 0, startFrom: 'initial', pollIntervalMs: 10 };
}

function reader(table: FileStoreTable, subtask: number, parallelism: number, handle?: OperatorStateHandle): { r: LakeSourceReader<Row>; store: OperatorStateStore } {
  const store = new OperatorStateStore('lake', subtask, handle);
  return { r: new LakeSourceReader<Row>(settings(table), { subtaskIndex: subtask, parallelism, operatorState: store, restored: handle !== undefined }), store };
}

async function drain(r: LakeSourceReader<Row>, limit = Infinity, max = 7): Promise<string[]> {
  const out: string[] = [];
  const output = { collect: (v: Row | Change<Row>) => { const c = v as Change<Row>; out.push(`${c.kind}|${c.row.id}|${c.row.v}`); } };
  while (out.length < limit) {
    const status = await r.poll(output, Math.min(max, limit - out.length));
    if (status === 'wait') break;
  }
  return out;
}

describe('lake source reader', () => {
  it('a checkpoint before the first poll after a restore keeps the positions', async () => {
    const table = await tableWithSnapshots('restore');
    const all = await drain(reader(table, 0, 1).r);
    expect(all.length).toBeGreaterThan(100);

    const a = reader(table, 0, 1);
    const first = await drain(a.r, 50);
    a.r.snapshotState();
    const b = reader(table, 0, 1, a.store.snapshot(1));
    b.r.snapshotState(); // before any poll
    const c = reader(table, 0, 1, b.store.snapshot(2));
    const rest = await drain(c.r);
    expect([...first, ...rest]).toEqual(all);
  });

  it('a rescale from 2 to 3 subtasks hands each bucket on at its position', async () => {
    const table = await tableWithSnapshots('rescale');
    const all = (await drain(reader(table, 0, 1).r)).sort();
    const old = [reader(table, 0, 2), reader(table, 1, 2)];
    const before = [...(await drain(old[0]!.r, 40)), ...(await drain(old[1]!.r, 25))];
    old.forEach((o) => o.r.snapshotState());
    const handles = redistributeOperatorState(old.map((o, i) => ({ ...o.store.snapshot(1), subtask: i })), 3);
    const after: string[] = [];
    for (let i = 0; i < 3; i++) after.push(...(await drain(reader(table, i, 3, handles[i]).r)));
    expect([...before, ...after].sort()).toEqual(all);
  });
});
