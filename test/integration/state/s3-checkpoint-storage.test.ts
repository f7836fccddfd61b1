/** S3 checkpoint storage against a real S3 API server (test/services/s3.sh: s3rver on loopback). */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  S3CheckpointStorage,
  type S3CheckpointStorageOptions,
  createKeyedStateBackend,
  keyGroupOf,
  keyGroupRangeFor,
  listState,
  valueState,
} from '../../../state/index.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const script = path.join(root, 'test/services/s3.sh');
let startedHere = false;
let endpoint: string;
const bucket = `weir-chk-${randomUUID().slice(0, 8)}`;
let admin: S3CheckpointStorage;
let workDir: string;

function running(): string | undefined {
  try {
    return execFileSync('bash', [script, 'endpoint'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function storage(jobId: string, extra: Partial<S3CheckpointStorageOptions> = {}, logs?: string[]): S3CheckpointStorage {
  return new S3CheckpointStorage({
    bucket,
    prefix: 'checkpoints',
    jobId,
    endpoint,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    retainedCheckpoints: 2,
    ...(logs ? { log: (m: string) => logs.push(m) } : {}),
    ...extra,
  });
}

beforeAll(async () => {
  const existing = process.env.WEIR_S3_ENDPOINT ?? running();
  if (existing) endpoint = existing;
  else {
    endpoint = execFileSync('bash', [script, 'start'], { encoding: 'utf8' }).trim();
    startedHere = true;
  }
  admin = storage('admin');
  await (await admin.client()).send(new CreateBucketCommand({ Bucket: bucket }));
  workDir = await mkdtemp(path.join(os.tmpdir(), 'weir-s3-state-'));
});

afterAll(async () => {
  if (admin) {
    for (;;) {
      const r = await (await admin.client()).send(new ListObjectsV2Command({ Bucket: bucket }));
      if (!r.Contents?.length) break;
      for (const o of r.Contents) await (await admin.client()).send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
    }
    await (await admin.client()).send(new DeleteBucketCommand({ Bucket: bucket }));
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
  if (startedHere) execFileSync('bash', [script, 'stop']);
});

async function complete(s: S3CheckpointStorage, id: number): Promise<void> {
  const f = await s.writeFile(id, 'op-0-keyed.bin', Buffer.from(`state ${id}`));
  await s.writeMetadata(id, { op: [f] });
}

describe('S3 checkpoint storage', () => {
  it('writes small and multipart files, reads them whole and by explicit range', async () => {
    const s = storage('files', { partSize: 5 << 20 });
    const big = Buffer.alloc(12 << 20);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let o = 0; o < big.length; o += 1 << 20) yield big.subarray(o, o + (1 << 20));
    }
    const f = await s.writeFile(1, 'big.bin', chunks());
    expect(f.size).toBe(big.length);
    expect((await s.readFile(f)).equals(big)).toBe(true);
    expect((await s.readFile(f, { offset: 7 << 20, length: 100 })).equals(big.subarray(7 << 20, (7 << 20) + 100))).toBe(true);
    const small = await s.writeFile(1, 'small.bin', Buffer.from('hello'));
    await s.writeMetadata(1, { files: [f, small] });
    const done = await s.readCompleted(1);
    expect(done.location).toBe(`s3://${bucket}/checkpoints/files/chk-1`);
    expect(done.files.map((x) => x.name)).toEqual(['big.bin', 'small.bin']);
  });

  it('retention keeps the last N completed; savepoints are never deleted', async () => {
    const s = storage('retention');
    const sp = await s.writeFile(50, 'op-0-keyed.bin', Buffer.from('savepoint'), { scope: 'savepoint' });
    await s.writeMetadata(50, { sp }, { scope: 'savepoint' });
    for (let id = 1; id <= 5; id++) await complete(s, id);
    // Retention runs in the background after each completion; run it once more to wait for it.
    await s.applyRetention(2);
    expect((await s.listCheckpoints()).map((c) => c.checkpointId)).toEqual([4, 5]);
    expect(await s.listSavepoints()).toEqual([{ checkpointId: 50, scope: 'savepoint', hasMetadata: true }]);
    expect((await s.latestCompleted())?.checkpointId).toBe(5);
  });

  it('latestCompleted skips a checkpoint with missing or corrupt _metadata or a missing file, saying why', async () => {
    const logs: string[] = [];
    const s = storage('broken', { retainedCheckpoints: 10 }, logs);
    for (let id = 1; id <= 4; id++) await complete(s, id);
    await (await s.client()).send(new DeleteObjectCommand({ Bucket: bucket, Key: 'checkpoints/broken/chk-4/_metadata' }));
    await (await s.client()).send(new PutObjectCommand({ Bucket: bucket, Key: 'checkpoints/broken/chk-3/_metadata', Body: '{"format":"weir.checkpoint-metadata/1"}\ncrc32=00000000\n' }));
    await (await s.client()).send(new DeleteObjectCommand({ Bucket: bucket, Key: 'checkpoints/broken/chk-2/op-0-keyed.bin' }));
    expect((await s.latestCompleted())?.checkpointId).toBe(1);
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatch(/checkpoint 4: .*no _metadata/);
    expect(logs[1]).toMatch(/checkpoint 3: .*_metadata checksum mismatch/);
    expect(logs[2]).toMatch(/checkpoint 2: .*state file 'op-0-keyed.bin' of checkpoint 2 is missing/);
    await expect(s.readCompleted(4)).rejects.toThrow(/no _metadata, so checkpoint 4 never completed/);
  });

  it('keyed state snapshots go through S3 and restore at another parallelism', async () => {
    const s = storage('keyed', { retainedCheckpoints: 10 });
    const value = valueState<number>('v');
    const list = listState<string>('l');
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const a = await createKeyedStateBackend({ kind: 'lmdb', workDir, operatorUid: 'op', subtask: 0, keyGroupRange: { start: 0, end: 127 }, maxParallelism: 128, storage: s });
    for (const [i, k] of keys.entries()) {
      a.setCurrentKey(k, keyGroupOf(k, 128));
      a.getValueState(value).update(i);
      a.getListState(list).addAll([k, k]);
      a.timers.register('event', i, k, a.currentKeyGroup());
    }
    const handle = await a.snapshot(9);
    await a.dispose();
    await s.writeMetadata(9, { op: [handle] });
    const restored = (await s.latestCompleted())!.metadata as { op: [typeof handle] };
    let found = 0;
    let timers = 0;
    for (let i = 0; i < 2; i++) {
      const b = await createKeyedStateBackend({ kind: 'lmdb', workDir, operatorUid: 'op', subtask: i, keyGroupRange: keyGroupRangeFor(i, 2, 128), maxParallelism: 128, storage: s, restore: restored.op });
      for (const [j, k] of keys.entries()) {
        b.setCurrentKey(k, keyGroupOf(k, 128));
        const v = b.getValueState(value).value();
        if (v === undefined) continue;
        expect(v).toBe(j);
        expect(b.getListState(list).get()).toEqual([k, k]);
        found++;
      }
      timers += b.timers.size('event');
      await b.dispose();
    }
    expect(found).toBe(keys.length);
    expect(timers).toBe(keys.length);
  });
});
