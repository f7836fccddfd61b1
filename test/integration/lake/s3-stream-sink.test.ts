/**
 * The lake sink job against a real S3 API server (test/services/s3.sh: s3rver): a job with
 * checkpoints writes a primary-key table under s3:// and the table equals the model; two jobs
 * writing disjoint keys race their commits on one table (commits serialized by the commit lock,
 * losers retry on the next snapshot id) and every row of both lands, no identifier twice.
 * Uses WEIR_S3_ENDPOINT if set, else starts the service and stops it afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { MiniCluster } from 'weir';
import { FileStoreTable, LocalFileLock, S3FileIO, type S3Options } from 'weir/lake';
import job from '../../minicluster/lake/jobs/pk-writes.ts';
import { duplicateCommits, expectedRows, snapshotSummaries, tableText } from '../../minicluster/lake/model.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const script = path.join(root, 'test/services/s3.sh');
const work = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-s3-stream-'));
const lockDir = path.join(work, 'locks');
let startedHere = false;
let s3: S3Options & { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
let bucket: string;
let io: S3FileIO;

beforeAll(async () => {
  let endpoint = process.env.WEIR_S3_ENDPOINT;
  if (!endpoint) {
    endpoint = execFileSync('bash', [script, 'start'], { encoding: 'utf8' }).trim();
    startedHere = true;
  }
  s3 = { endpoint, region: 'us-east-1', accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER' };
  io = new S3FileIO(s3);
  bucket = `weir-lake-stream-${randomUUID().slice(0, 8)}`;
  await (await io.client()).send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  if (io && bucket) {
    for (const f of await io.listRecursive(`s3://${bucket}/`)) await io.delete(f.path);
    await (await io.client()).send(new DeleteBucketCommand({ Bucket: bucket }));
  }
  if (startedHere) execFileSync('bash', [script, 'stop']);
  rmSync(work, { recursive: true, force: true });
});

function cluster(name: string): MiniCluster {
  return new MiniCluster({
    workers: 2,
    workDir: path.join(work, name, 'work'),
    checkpoints: { intervalMs: 300, storage: { kind: 'local', dir: path.join(work, name, 'checkpoints') } },
  });
}

async function open(tablePath: string): Promise<FileStoreTable> {
  return FileStoreTable.open(tablePath, { io, s3, lock: new LocalFileLock({ dir: lockDir }) });
}

describe('lake sink job on S3', () => {
  it('writes a primary-key table under s3:// equal to the model', async () => {
    const tablePath = `s3://${bucket}/wh/accounts`;
    const params = { count: 3000, keys: 300, seed: 21, path: tablePath, writers: 2, ratePerSecond: 2000, s3, lockDir, compactionTrigger: 3 };
    const handle = await cluster('single').submit(job, { params, parallelism: 2 });
    await handle.result();
    const table = await open(tablePath);
    expect(await tableText(table)).toEqual(expectedRows(params.count, params.keys, params.seed));
    const snapshots = await snapshotSummaries(table.snapshots);
    expect(snapshots.filter((s) => s.commitKind === 'APPEND').length).toBeGreaterThanOrEqual(1);
    expect(duplicateCommits(snapshots)).toEqual([]);
  });

  it('two jobs racing commits on one table both land every row', async () => {
    const tablePath = `s3://${bucket}/wh/shared`;
    const common = { count: 2500, keys: 250, path: tablePath, writers: 2, ratePerSecond: 2000, s3, lockDir };
    const a = { ...common, seed: 31, keyOffset: 0 };
    const b = { ...common, seed: 32, keyOffset: 10_000 };
    const [ha, hb] = await Promise.all([cluster('race-a').submit(job, { params: a, parallelism: 2 }), cluster('race-b').submit(job, { params: b, parallelism: 2 })]);
    await Promise.all([ha.result(), hb.result()]);
    const table = await open(tablePath);
    const expected = [...expectedRows(a.count, a.keys, a.seed, a.keyOffset), ...expectedRows(b.count, b.keys, b.seed, b.keyOffset)].sort();
    expect(await tableText(table)).toEqual(expected);
    const snapshots = await snapshotSummaries(table.snapshots);
    expect(new Set(snapshots.map((s) => s.commitUser)).size).toBe(2);
    expect(duplicateCommits(snapshots)).toEqual([]);
    expect(snapshots.map((s) => s.id)).toEqual(snapshots.map((_, i) => i + 1));
  });
});
