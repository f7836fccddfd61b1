/**
 * Failover with checkpoints in S3 (a real S3 API server from test/services/s3.sh): a worker is
 * killed twice and the job's committed output equals a failure-free run.
 */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { readCommitted } from '../../harness/transactional-sink.ts';
import job, { type ShopSecond } from '../../chaos/jobs/keyed-aggregation.ts';

const endpoint = process.env.WEIR_S3_ENDPOINT;
if (!endpoint) throw new Error('WEIR_S3_ENDPOINT is not set: run the tests with `npm test` (it starts test/services/s3.sh) or export what `bash test/services/s3.sh env` prints');
const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER' };
const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
const bucket = `weir-failover-${randomUUID().slice(0, 8)}`;
const root = mkdtempSync(path.join(os.tmpdir(), 'weir-s3-failover-'));

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  for (;;) {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } })).catch(async () => {
      // s3rver and some servers want Content-MD5 on DeleteObjects; delete one by one then.
      const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
      for (const k of keys) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k.Key }));
    });
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  rmSync(root, { recursive: true, force: true });
});

const params = { count: 12_000, ratePerSecond: 3_000, seed: 9 };

function cluster(name: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs: 150, storage: { kind: 's3', bucket, prefix: name, endpoint, region: 'us-east-1', credentials } },
    restartStrategy: { kind: 'fixed-delay', attempts: 10, delayMs: 20 },
  });
}

function canonical(rows: ShopSecond[]): string[] {
  return rows.map((r) => `${r.shop}@${r.second}:${r.orders}:${r.cents}`).sort();
}

describe('checkpoints in S3', () => {
  it('a job killed twice restores from S3 and commits the failure-free output', { timeout: 180_000 }, async () => {
    const reference = path.join(root, 'reference-out');
    await cluster('reference').execute(job, { params: { ...params, outDir: reference }, parallelism: 2 });
    const expected = canonical(readCommitted<ShopSecond>(reference));
    expect(expected.length).toBeGreaterThan(0);

    const outDir = path.join(root, 'killed-out');
    const handle = await cluster('killed').submit(job, { params: { ...params, outDir }, parallelism: 2 });
    // Kill a worker after the first completed checkpoint of each of the first two attempts.
    let kills = 0;
    let armed = true;
    handle.on('restarted', () => (armed = true));
    handle.on('checkpoint-completed', () => {
      if (!armed || kills >= 2 || handle.liveTaskManagers !== 2) return;
      armed = false;
      kills++;
      setTimeout(() => handle.killTaskManager(kills % 2), 20);
    });
    await handle.result();
    const history = JSON.stringify(handle.checkpoints().map((c) => [c.id, c.status, c.durationMs, c.reason]));
    expect(kills, history).toBe(2);
    expect(handle.restarts).toBe(2);
    expect(handle.checkpoints().some((c) => c.status === 'completed' && c.location?.startsWith('s3://'))).toBe(true);
    expect(canonical(readCommitted<ShopSecond>(outDir))).toEqual(expected);
  });
});
