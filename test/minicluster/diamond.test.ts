import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { out } from './jobs/diamond.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-diamond-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a diamond (one source, two branches, one sink) with checkpoints', () => {
  for (const keyed of [false, true]) {
    it(`${keyed ? 'with a keyed branch' : 'with chained branches'}: checkpoints complete and every record arrives once`, async () => {
      const cluster = new MiniCluster({ workers: 2, stateBackend: 'heap', checkpoints: { intervalMs: 100, storage: { kind: 'local', dir } } });
      const handle = await cluster.submit(job, { params: { count: 12_000, rate: 8_000, keyed }, parallelism: 2 });
      const result = await handle.result();
      expect(result.get(out).sort((a, b) => a - b)).toEqual(Array.from({ length: 12_000 }, (_, i) => i));
      expect(handle.checkpoints().filter((c) => c.status === 'completed').length).toBeGreaterThanOrEqual(2);
    });
  }
});
