/** State far larger than the JS heap: 5M keys through the LMDB backend in a 96 MiB heap. */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

it('writes and reads back 5M keys with --max-old-space-size=96', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weir-large-state-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--max-old-space-size=96', '--import', 'tsx', path.join(here, 'fixtures', 'large-state-child.ts'), dir, '5000000'],
      { cwd: path.resolve(here, '../../..'), maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { written: number; found: number; maxHeapMiB: number };
    expect(result.written).toBe(5_000_000);
    expect(result.found).toBe(5_000_000);
    expect(result.maxHeapMiB).toBeLessThan(96);
    // dispose removed the working LMDB files
    expect((await readdir(dir)).filter((f) => f.startsWith('state-'))).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 600_000);
