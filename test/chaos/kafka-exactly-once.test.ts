/**
 * Kafka -> Weir -> Kafka exactly-once under failure injection, against librdkafka's mock cluster
 * (test/services/kafka.sh). Input arrives in chunks while the job runs; worker threads are killed
 * at seeded points (and right after checkpoints complete, when commits are in flight). The job
 * restarts from its latest checkpoint: the source goes back to the checkpointed offsets, the
 * committer commits the restored checkpoint's transactions by producer id and epoch. What a
 * read_committed consumer sees (the test applies the transaction markers itself: the mock does not
 * filter aborted records) must be the failure-free output: every input record once.
 */
import { describe, expect, it } from 'vitest';
import { type JobHandle, MiniCluster, SeededRandom } from 'weir';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import job, { type PipeParams } from './jobs/kafka-pipe.ts';
import { committedValues, createTopic, kafkaEnv, produceJson, readLog } from '../integration/kafka/mock.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-kafka-chaos-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const { brokers } = kafkaEnv();
const CHUNKS = 5;
const CHUNK = 300;
const TOTAL = CHUNKS * CHUNK;

function expectedOutput(): string[] {
  return Array.from({ length: TOTAL }, (_, id) => JSON.stringify({ id, doubled: id * 2 })).sort();
}

async function committedOutput(topic: string): Promise<string[]> {
  return committedValues(await readLog(topic)).sort();
}

/**
 * Runs the pipe at parallelism 2 with 150 ms checkpoints, producing a chunk whenever the committed
 * output caught up with the previous one; `kill` acts after each chunk. Returns the committed output.
 */
async function run(
  name: string,
  kill: (handle: JobHandle, chunk: number) => void,
  onEvents?: (handle: JobHandle) => void,
  guarantee: PipeParams['guarantee'] = 'exactly-once',
): Promise<{ output: string[]; restarts: number }> {
  const inTopic = await createTopic(`chaos-in-${name}`, 4);
  const outTopic = await createTopic(`chaos-out-${name}`, 3);
  const params: PipeParams = { brokers, inTopic, outTopic, guarantee, transactionalIdPrefix: `chaos-${outTopic}` };
  const handle = await new MiniCluster({
    workers: 2,
    workDir: path.join(root, name, 'work'),
    checkpoints: { intervalMs: 150, storage: { kind: 'local', dir: path.join(root, name, 'checkpoints') } },
    restartStrategy: { kind: 'fixed-delay', attempts: 20, delayMs: 20 },
  }).submit(job, { params, parallelism: 2 });
  onEvents?.(handle);
  try {
    for (let c = 0; c < CHUNKS; c++) {
      await produceJson(inTopic, 4, Array.from({ length: CHUNK }, (_, i) => ({ id: c * CHUNK + i })), c * CHUNK);
      kill(handle, c);
      // Wait (on a condition, not a time) until this chunk is committed before the next one.
      for (let attempt = 0; ; attempt++) {
        const got = new Set(await committedOutput(outTopic)).size;
        if (got >= (c + 1) * CHUNK) break;
        if (handle.status !== 'running') throw new Error(`job ${handle.status} after ${got} committed records`);
        if (attempt > 2000) throw new Error(`only ${got} of ${(c + 1) * CHUNK} records committed`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  } finally {
    await handle.cancel();
  }
  return { output: await committedOutput(outTopic), restarts: handle.restarts };
}

describe('Kafka exactly-once with worker kills', () => {
  it('a failure-free run commits every record once', async () => {
    const r = await run('reference', () => {});
    expect(r.restarts).toBe(0);
    expect(r.output).toEqual(expectedOutput());
  });

  for (let runNo = 1; runNo <= 2; runNo++) {
    it(`run ${runNo}: kills at seeded random points commit the failure-free output`, async () => {
      const random = new SeededRandom(500 + runNo);
      const killAfter = new Set([1 + random.int(2), 3]);
      const r = await run(`random-${runNo}`, (handle, chunk) => {
        if (!killAfter.has(chunk)) return;
        const worker = random.int(2);
        setTimeout(() => {
          if (handle.status === 'running' && handle.liveTaskManagers === 2) handle.killTaskManager(worker);
        }, random.int(150));
      });
      expect(r.restarts).toBeGreaterThanOrEqual(1);
      expect(r.output).toEqual(expectedOutput());
    });
  }

  it('kills right after checkpoints complete (commits in flight) commit the failure-free output', async () => {
    let kills = 0;
    const r = await run(
      'at-commit',
      () => {},
      (handle) => {
        handle.on('checkpoint-completed', (id) => {
          if (kills < 2 && id % 4 === 2 && handle.liveTaskManagers === 2) {
            kills++;
            handle.killTaskManager(id % 2);
          }
        });
      },
    );
    expect(kills).toBeGreaterThanOrEqual(1);
    expect(r.output).toEqual(expectedOutput());
  });

  it('at-least-once with the same kills loses nothing (and may repeat)', async () => {
    const random = new SeededRandom(501);
    const killAfter = new Set([1 + random.int(2), 3]);
    const r = await run(
      'alo',
      (handle, chunk) => {
        if (!killAfter.has(chunk)) return;
        const worker = random.int(2);
        setTimeout(() => {
          if (handle.status === 'running' && handle.liveTaskManagers === 2) handle.killTaskManager(worker);
        }, random.int(150));
      },
      undefined,
      'at-least-once',
    );
    expect(r.restarts).toBeGreaterThanOrEqual(1);
    expect([...new Set(r.output)].sort()).toEqual(expectedOutput());
  });
});
