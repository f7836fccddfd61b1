import { mkdtemp, rm, readdir, writeFile, unlink, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointStorageError, LocalCheckpointStorage, type StateFileHandle } from '../../../state/index.ts';

describe('local checkpoint storage', () => {
  let root: string;
  let logs: string[];
  let storage: LocalCheckpointStorage;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'weir-chk-test-'));
    logs = [];
    storage = new LocalCheckpointStorage({ root, jobId: 'job-1', retainedCheckpoints: 2, log: (m) => logs.push(m) });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function complete(id: number): Promise<StateFileHandle> {
    const f = await storage.writeFile(id, 'op-0-keyed.bin', Buffer.from(`state of ${id}`));
    async function* stream(): AsyncIterable<Uint8Array> {
      yield Buffer.from('part one, ');
      yield Buffer.from('part two');
    }
    const g = await storage.writeFile(id, 'op-1-keyed.bin', stream());
    await storage.writeMetadata(id, { operators: { op: { subtasks: [{ file: f }, { file: g }] } } });
    return f;
  }

  it('lays out chk-<id>/<files> with _metadata, reads files back, keeps the last N', async () => {
    const f = await complete(1);
    expect((await readdir(path.join(root, 'job-1', 'chk-1'))).sort()).toEqual(['_metadata', 'op-0-keyed.bin', 'op-1-keyed.bin']);
    expect((await storage.readFile(f)).toString()).toBe('state of 1');
    expect((await storage.readFile(f, { offset: 9, length: 1 })).toString()).toBe('1');
    await complete(2);
    await storage.writeFile(3, 'op-0-keyed.bin', Buffer.from('never completed'));
    await complete(4);
    await complete(5);
    expect(await storage.listCheckpoints()).toEqual([
      { checkpointId: 4, scope: 'checkpoint', hasMetadata: true },
      { checkpointId: 5, scope: 'checkpoint', hasMetadata: true },
    ]);
    const latest = await storage.latestCompleted();
    expect(latest?.checkpointId).toBe(5);
    expect(latest?.files.map((x) => x.name).sort()).toEqual(['op-0-keyed.bin', 'op-1-keyed.bin']);
    expect(latest?.metadata).toMatchObject({ operators: { op: { subtasks: [{}, {}] } } });
  });

  it('savepoints live in their own directory and retention never deletes them', async () => {
    const f = await storage.writeFile(100, 'op-0-keyed.bin', Buffer.from('sp'), { scope: 'savepoint' });
    await storage.writeMetadata(100, { f }, { scope: 'savepoint' });
    for (let i = 1; i <= 4; i++) await complete(i);
    expect(await storage.listSavepoints()).toEqual([{ checkpointId: 100, scope: 'savepoint', hasMetadata: true }]);
    expect((await storage.readCompleted(100, { scope: 'savepoint' })).location).toBe(path.join(root, 'job-1', 'savepoints', 'sp-100'));
    expect((await storage.readFile(f)).toString()).toBe('sp');
  });

  it('a missing _metadata: latestCompleted falls back to the previous checkpoint and says why', async () => {
    await complete(1);
    await complete(2);
    await unlink(path.join(root, 'job-1', 'chk-2', '_metadata'));
    expect((await storage.latestCompleted())?.checkpointId).toBe(1);
    await expect(storage.readCompleted(2)).rejects.toThrow(/no _metadata, so checkpoint 2 never completed/);
  });

  it('a corrupt _metadata is detected by its checksum', async () => {
    await complete(1);
    await complete(2);
    const p = path.join(root, 'job-1', 'chk-2', '_metadata');
    const text = await readFile(p, 'utf8');
    await writeFile(p, text.replace('op-0', 'op-9'));
    expect((await storage.latestCompleted())?.checkpointId).toBe(1);
    expect(logs.join('\n')).toMatch(/skipping checkpoint 2: .*_metadata checksum mismatch/);
    await writeFile(p, text.slice(0, 40));
    await expect(storage.readCompleted(2)).rejects.toThrow(/truncated/);
  });

  it('a missing or damaged state file: clear error, and latestCompleted falls back', async () => {
    await complete(1);
    const f = await complete(2);
    await unlink(path.join(root, 'job-1', 'chk-2', 'op-1-keyed.bin'));
    expect((await storage.latestCompleted())?.checkpointId).toBe(1);
    expect(logs.join('\n')).toMatch(/state file 'op-1-keyed.bin' of checkpoint 2 is missing/);
    await writeFile(path.join(root, 'job-1', 'chk-2', 'op-0-keyed.bin'), 'state of 3');
    const err = await storage.readFile(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointStorageError);
    expect((err as Error).message).toMatch(/is corrupt \(CRC-32 .*\); the checkpoint cannot be restored: restore from an earlier checkpoint/);
  });

  it('refuses to complete a checkpoint whose state files are missing', async () => {
    const f = await storage.writeFile(1, 'a.bin', Buffer.from('x'));
    await unlink(path.join(root, 'job-1', 'chk-1', 'a.bin'));
    await expect(storage.writeMetadata(1, { f })).rejects.toThrow(/state file 'a.bin' of checkpoint 1 is missing/);
    expect(await storage.latestCompleted()).toBeUndefined();
  });

  it('rejects file names that would escape the checkpoint directory', async () => {
    await expect(storage.writeFile(1, '../x', Buffer.from('x'))).rejects.toThrow(/not allowed/);
    await expect(storage.writeFile(1, '_metadata', Buffer.from('x'))).rejects.toThrow(/not allowed/);
  });
});
