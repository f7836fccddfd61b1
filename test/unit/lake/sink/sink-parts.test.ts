/**
 * Parts of the lake sink without a cluster: the background compactor plans only the writer's
 * buckets, runs in the side-work pool, leaves a bucket alone until its compaction is committed;
 * the committer-side conflict rule; bucket routing keys; Change detection.
 */
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { Catalog, TableCommit, TableWriter, readTable, runCompactTask, T, type CommitMessage } from '../../../../connectors/lake/index.ts';
import { BackgroundCompactor } from '../../../../connectors/lake/sink/background-compactor.ts';
import { bucketedRowBuilder, rowAndKind, rowReader, subtaskKeys } from '../../../../connectors/lake/sink/records.ts';
import { keyGroupOf, subtaskForKeyGroup } from '../../../../state/key-groups.ts';
import { SideWorkPool } from '../../../../runtime/cluster/side-work-pool.ts';
import { planCompaction, type CompactTask } from '../../../../connectors/lake/table/compact.ts';
import { sortedText, tempDir } from '../helpers.ts';

const tmp = tempDir('weir-lake-sink-parts-');
const sideWork = new SideWorkPool();
afterAll(async () => {
  await sideWork.close();
  tmp.cleanup();
});

async function tableWithRuns(name: string, runs: number) {
  const cat = new Catalog(path.join(tmp.dir, name));
  const table = await cat.createTable('db', 't', {
    fields: [{ name: 'id', type: T.notNull(T.int()) }, { name: 'v', type: T.string() }],
    primaryKeys: ['id'],
    options: { bucket: '2', 'num-sorted-run.compaction-trigger': '3' },
  });
  const writer = new TableWriter(table);
  const commit = new TableCommit(table, 'user');
  for (let r = 1; r <= runs; r++) {
    for (let id = 0; id < 40; id++) writer.write([id, `r${r}`], id % 7 === r % 7 ? 3 : 0);
    await commit.commit(r, await writer.prepareCommit());
  }
  return { table, commit };
}

describe('background compactor', () => {
  it('compacts only the owned bucket, in the side-work pool, and holds the bucket until committed', async () => {
    const { table, commit } = await tableWithRuns('owned', 4);
    const before = sortedText(await readTable(table));
    const compactor = new BackgroundCompactor(table, (task: CompactTask) =>
      sideWork.run<CompactTask, CommitMessage>(new URL('../../../../connectors/lake/sink/compact-side-work.ts', import.meta.url), task));
    compactor.start((b) => b === 1);
    await compactor.drain();
    expect(compactor.failures).toBe(0);
    const results = compactor.take(5);
    expect(results.map((m) => m.bucket)).toEqual([1]);
    expect(results[0]!.compactBefore.length).toBe(4);

    // not committed yet: the bucket is busy until checkpoint 5 + 2 completes
    compactor.start((b) => b === 1);
    await compactor.drain();
    expect(compactor.take(6)).toEqual([]);

    await commit.commit(5, results);
    expect(sortedText(await readTable(table))).toEqual(before);
    compactor.checkpointCompleted(7);
    compactor.start((b) => b === 1);
    await compactor.drain();
    expect(compactor.take(8)).toEqual([]); // bucket 1 is one sorted run now
  });

  it('a compaction of files another commit replaced conflicts after the append landed', async () => {
    const { table, commit } = await tableWithRuns('conflict', 3);
    const tasks = await planCompaction(table);
    const first = await runCompactTask(tasks[0]!, table.io);
    const second = await runCompactTask({ ...tasks[0]!, outputFileName: 'data-other.parquet' }, table.io);
    await commit.commit(4, [first]);
    const writer = new TableWriter(table);
    writer.write([1000, 'late'], 0);
    const appended = await writer.prepareCommit();
    await expect(commit.commit(5, [...appended, second])).rejects.toThrow(/conflicts/);
    const ids = (await readTable(table)).map((r) => r[0]);
    expect(ids).toContain(1000);
  });
});

describe('routing', () => {
  it('subtask keys land on their subtask for several parallelisms', () => {
    for (const p of [1, 2, 3, 4, 7]) {
      const keys = subtaskKeys(p, 128);
      keys.forEach((k, t) => expect(subtaskForKeyGroup(keyGroupOf(k, 128), p, 128)).toBe(t));
    }
  });

  it('Change records are recognised by kind and row; other values are inserts', () => {
    expect(rowAndKind({ kind: '-D', row: { id: 1 } })).toEqual({ row: { id: 1 }, kind: 3 });
    expect(rowAndKind({ kind: 'x', row: 1 } as unknown)).toEqual({ row: { kind: 'x', row: 1 }, kind: 0 });
    expect(rowAndKind({ id: 1 })).toEqual({ row: { id: 1 }, kind: 0 });
  });

  it('bucketed rows are flat and give the row back in field order, from objects or arrays', () => {
    const build = bucketedRowBuilder(['id', 'v']);
    const read = rowReader(['id', 'v']);
    expect(build(3, 2, { v: 'a', id: 1 })).toEqual({ __bucket: 3, __kind: 2, id: 1, v: 'a' });
    expect(read(build(0, 0, [5, 'b']))).toEqual([5, 'b']);
  });
});

describe('lake committer watermark', () => {
  it('commits the least watermark over all writers, once every writer reported one', async () => {
    const { LakeCommitter } = await import('../../../../connectors/lake/sink/committer.ts');
    const { OperatorStateStore } = await import('../../../../state/operator-state.ts');
    const tablePath = path.join(tmp.dir, 'wm-committer');
    const schema = { fields: [{ name: 'id', type: T.notNull(T.int()) }], primaryKeys: ['id'], options: { bucket: '1' } };
    const committer = new LakeCommitter({ location: { path: tablePath }, schema, commitUser: 'u', expireEvery: 0, expire: {} });
    await committer.open({ subtaskIndex: 0, parallelism: 1, operatorState: new OperatorStateStore('lake-committer', 0), metrics: { count: () => undefined } });
    const { FileStoreTable } = await import('../../../../connectors/lake/index.ts');
    const table = await FileStoreTable.open(tablePath);
    const latestWatermark = async () => (await table.snapshots.latest())?.watermark;
    // writer 0 alone: writer 1 has not said anything yet, so no watermark
    await committer.commit([{ writer: 0, messages: [], watermark: 500, writers: 2 }], 1);
    expect(await table.snapshots.latest()).toBeNull();
    await committer.commit([{ writer: 1, messages: [], watermark: 300, writers: 2 }], 2);
    expect(await latestWatermark()).toBe(300);
    // writer 1 moves past writer 0: the least is writer 0's 500
    await committer.commit([{ writer: 1, messages: [], watermark: 900, writers: 2 }], 3);
    expect(await latestWatermark()).toBe(500);
    await committer.commit([{ writer: 0, messages: [], watermark: 1200, writers: 2 }], 4);
    expect(await latestWatermark()).toBe(900);
    await committer.close();
  });
});
