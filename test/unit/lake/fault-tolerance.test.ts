/**
 * Exactly-once under failures on local disk: see sink-workload.ts for the workload and the checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, TableWriter, TableCommit, readTable, LocalFileIO, T } from '../../../connectors/lake/index.ts';
import { tempDir } from './helpers.ts';
import { FaultyFileIO, InjectedFailure, runSinkWorkload } from './sink-workload.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

describe('lake sink exactly-once under failures', () => {
  it('random workload with failures matches the model', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const io = new FaultyFileIO(new LocalFileIO());
    await runSinkWorkload(new Catalog(tmp.dir, { io }), io);
  });

  it('deletion-vector table: random workload, compactions write deletion vectors, failures at every commit step, matches the model', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const io = new FaultyFileIO(new LocalFileIO());
    const cat = new Catalog(tmp.dir, { io });
    const { compactions, compactionFailures } = await runSinkWorkload(cat, io, 40, { options: { 'deletion-vectors.enabled': 'true' }, compactEvery: 1 });
    expect(compactions).toBeGreaterThanOrEqual(12); // every fault of the cycle once at least
    expect(compactionFailures).toBeGreaterThan(0);
    // compaction wrote deletion vectors instead of rewriting the last level
    const t = await cat.getTable('db', 't');
    let vectors = 0;
    for (const id of await t.snapshots.listIds()) {
      const s = await t.snapshots.snapshot(id);
      if (s.commitKind === 'COMPACT') for (const e of await t.indexEntries(s)) vectors += e.ranges?.length ?? 0;
    }
    expect(vectors).toBeGreaterThan(0);
  });

  it('a commit that failed after its snapshot landed is not committed again', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const io = new FaultyFileIO(new LocalFileIO());
    const cat = new Catalog(tmp.dir, { io });
    const t = await cat.createTable('db', 't', { fields: [{ name: 'id', type: T.int() }, { name: 'v', type: T.int() }], primaryKeys: ['id'], options: { bucket: '1' } });
    const w = new TableWriter(t);
    w.write([1, 1]);
    const messages = await w.prepareCommit();
    io.failNext(/snapshot-1$/, true);
    await expect(new TableCommit(t, 'u').commit(7, messages)).rejects.toBeInstanceOf(InjectedFailure);
    const again = new TableCommit(t, 'u');
    expect(await again.filterCommitted([7, 8])).toEqual([8]);
    expect(await again.commit(7, messages)).toEqual([]);
    expect(await t.snapshots.listIds()).toEqual([1]);
    expect(await readTable(t)).toEqual([[1, 1]]);
  });
});
