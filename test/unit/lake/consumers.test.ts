/**
 * Consumers: Java's file layout, expiration stops at the least live consumer and drops idle ones;
 * the per-reader progress writes the consumer only once every reader said, with the least position,
 * and reader 0 removes progress files of a higher parallelism.
 */
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, ConsumerManager, expireSnapshots, TableCommit, TableWriter, T, type FileStoreTable } from '../../../connectors/lake/index.ts';
import { ConsumerProgress } from '../../../connectors/lake/source/consumer-progress.ts';
import { tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

async function tableWithSnapshots(n: number, options: Record<string, string> = {}): Promise<FileStoreTable> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const table = await new Catalog(t.dir).createTable('db', 't', { fields: [{ name: 'k', type: T.int() }], primaryKeys: ['k'], options: { bucket: '1', ...options } });
  for (let i = 1; i <= n; i++) {
    const w = new TableWriter(table);
    w.write({ k: i }, 0);
    await new TableCommit(table, 'u').commit(i, await w.prepareCommit());
  }
  return table;
}

describe('consumers', () => {
  it('are JSON {"nextSnapshot": N} files that stop expiration at the least one', async () => {
    const table = await tableWithSnapshots(6);
    const consumers = new ConsumerManager(table.io, table.path);
    await consumers.reset('a', 5);
    await consumers.reset('b', 3);
    expect(JSON.parse(readFileSync(path.join(table.path, 'consumer', 'consumer-a'), 'utf8'))).toEqual({ nextSnapshot: 5 });
    expect(await expireSnapshots(table, { retainMin: 1, retainMax: 1 })).toEqual([1, 2]);
    await consumers.delete('b');
    expect(await expireSnapshots(table, { retainMin: 1, retainMax: 1 })).toEqual([3, 4]);
    expect((await consumers.list()).map((c) => [c.id, c.nextSnapshot])).toEqual([['a', 5]]);
  });

  it('an idle consumer past consumer.expiration-time is deleted and no longer holds expiration', async () => {
    const table = await tableWithSnapshots(4, { 'consumer.expiration-time': '1 h' });
    const consumers = new ConsumerManager(table.io, table.path);
    await consumers.reset('old', 1);
    const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
    utimesSync(consumers.consumerPath('old'), twoHoursAgo, twoHoursAgo);
    expect(await expireSnapshots(table, { retainMin: 1, retainMax: 1 })).toEqual([1, 2, 3]);
    expect(await consumers.list()).toEqual([]);
  });

  it('reader progress writes the least position once every reader reported', async () => {
    const table = await tableWithSnapshots(1);
    const consumers = new ConsumerManager(table.io, table.path);
    const r0 = new ConsumerProgress('job', 0, 2);
    const r1 = new ConsumerProgress('job', 1, 2);
    r0.atCheckpoint(1, 7);
    r1.atCheckpoint(1, 4);
    await r0.checkpointCompleted(table, 1);
    expect(await consumers.get('job')).toBeNull(); // reader 1 has not said yet
    await r1.checkpointCompleted(table, 1);
    expect(await consumers.get('job')).toBe(4);
    r1.atCheckpoint(2, 9);
    r1.atCheckpoint(3, 10);
    await r1.checkpointCompleted(table, 2);
    expect(await consumers.get('job')).toBe(7); // reader 0 is at 7
    await r1.checkpointCompleted(table, 2); // again: nothing pending for 2
    expect(await consumers.get('job')).toBe(7);
    // a reader without buckets does not hold the consumer back
    r0.atCheckpoint(4, null);
    await r0.checkpointCompleted(table, 4);
    expect(await consumers.get('job')).toBe(9);
    // after a rescale to 1 reader, reader 0 drops reader 1's file and speaks alone
    const solo = new ConsumerProgress('job', 0, 1);
    solo.atCheckpoint(5, 12);
    await solo.checkpointCompleted(table, 5);
    expect(await consumers.get('job')).toBe(12);
    expect(readdirSync(path.join(table.path, 'consumer')).sort()).toEqual(['consumer-job', 'weir-progress-job-0']);
  });
});
