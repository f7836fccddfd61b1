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
