/**
 * The source contract in a running job: a reader whose I/O is slow does not hold back checkpoint
 * barriers (its poll never waits; the fetch runs in the background), so a checkpoint completes
 * while the fetch is still pending, and the records come after it.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MiniCluster } from '../../runtime/api/index.ts';
import slowIo, { gate, received } from './jobs/slow-io-source.ts';

describe('source contract', () => {
  it('a checkpoint completes while a reader waits for slow I/O, before any of its records', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'weir-slow-io-'));
    const cluster = new MiniCluster({ workers: 0, workDir: path.join(root, 'work'), checkpoints: { intervalMs: 20, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } } });
    const handle = await cluster.submit(slowIo, { params: { count: 1000 }, parallelism: 1 });
    const events: string[] = [];
    await new Promise<void>((resolve) =>
      handle.once('checkpoint-completed', (id) => {
        events.push(`checkpoint ${id} completed with ${handle.collectedSoFar(received).length} records received, fetch pending: ${gate.fetching}`);
        resolve();
      }),
    );
    events.push('fetch released');
    gate.release();
    const result = await handle.result();
    expect(events).toEqual([expect.stringMatching(/^checkpoint \d+ completed with 0 records received, fetch pending: true$/), 'fetch released']);
    expect(result.get(received).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i * 2));
  });
});
