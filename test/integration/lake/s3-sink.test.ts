/**
 * The sink/commit workload against a real S3 API server (test/services/s3.sh: s3rver), commits
 * serialized by the commit lock since the server has no conditional PUT; two writers racing for
 * the same snapshot id both land, on different ids; the CLI reads the table from s3://.
 * Uses WEIR_S3_ENDPOINT if set, else starts the service and stops it afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { Catalog, LocalFileLock, readTable, S3FileIO, type S3Options, T, TableCommit, TableWriter } from 'weir/lake';
import { FaultyFileIO, runSinkWorkload } from '../../unit/lake/sink-workload.ts';
import { sortedText, tempDir } from '../../unit/lake/helpers.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const script = path.join(root, 'test/services/s3.sh');
let startedHere = false;
let s3: S3Options;
let bucket: string;
let io: S3FileIO;
const locks = tempDir('weir-lake-locks-');

beforeAll(async () => {
  let endpoint = process.env.WEIR_S3_ENDPOINT;
  if (!endpoint) {
    endpoint = execFileSync('bash', [script, 'start'], { encoding: 'utf8' }).trim();
    startedHere = true;
  }
  s3 = { endpoint, region: 'us-east-1', accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER' };
  io = new S3FileIO(s3);
  bucket = `weir-lake-${randomUUID().slice(0, 8)}`;
  await (await io.client()).send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  if (io && bucket) {
    for (const f of await io.listRecursive(`s3://${bucket}/`)) await io.delete(f.path);
    await (await io.client()).send(new DeleteBucketCommand({ Bucket: bucket }));
  }
  if (startedHere) execFileSync('bash', [script, 'stop']);
  locks.cleanup();
});

describe('lake on S3', () => {
  it('sink workload with injected failures commits exactly once', async () => {
    const faulty = new FaultyFileIO(io);
    const cat = new Catalog(`s3://${bucket}/wh1`, { io: faulty, lock: new LocalFileLock({ dir: locks.dir }) });
    await runSinkWorkload(cat, faulty, 16);
  });

  it('two writers racing for one snapshot id both land on different ids', async () => {
    const cat = new Catalog(`s3://${bucket}/wh2`, { io, lock: new LocalFileLock({ dir: locks.dir }) });
    const t = await cat.createTable('db', 'race', {
      fields: [{ name: 'id', type: T.int() }, { name: 'writer', type: T.string() }, { name: 'round', type: T.int() }],
      primaryKeys: ['id'], options: { bucket: '2' },
    });
    const expected: unknown[][] = [];
    const writers = ['a', 'b'].map((name, w) => ({ name, w, writer: new TableWriter(t), commit: new TableCommit(t, `writer-${name}`) }));
    for (let round = 1; round <= 5; round++) {
      const prepared = await Promise.all(writers.map(async (x) => {
        for (let i = 0; i < 10; i++) {
          const id = round * 1000 + x.w * 100 + i;
          x.writer.write([id, x.name, round]);
          expected.push([id, x.name, round]);
        }
        return x.writer.prepareCommit();
      }));
      // both commits see the same latest snapshot and go for the same next id
      const ids = await Promise.all(writers.map((x, i) => x.commit.commit(round, prepared[i]!)));
      expect(ids.flat().length).toBe(2);
      expect(new Set(ids.flat()).size).toBe(2);
    }
    expect(writers[0]!.commit.lostRaces + writers[1]!.commit.lostRaces).toBeGreaterThan(0);
    const snapshots = await t.snapshots.listIds();
    expect(snapshots).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(sortedText(await readTable(t))).toEqual(sortedText(expected));
    // the CLI reads the same table from s3://
    const out = execFileSync('node', [path.join(root, 'runtime/cli/bin.mjs'), 'lake', 'dump', t.path], {
      encoding: 'utf8',
      env: { ...process.env, WEIR_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: 'us-east-1' },
    });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { id: number });
    expect(lines.length).toBe(100);
    expect(lines.map((l) => l.id)).toEqual([...lines.map((l) => l.id)].sort((a, b) => a - b));
  });
});
