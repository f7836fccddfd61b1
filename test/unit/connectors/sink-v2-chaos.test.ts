/**
 * Sink V2 writer and committer under failure injection: the transactional file sink (through the
 * transactional-backend adapter) crashes before and after every backend call of a run (begin,
 * write, preCommit, commit, abortLingering); the crashed subtask is dropped and a fresh one restores
 * from the last completed checkpoint, its input replayed from there. The committed output must
 * equal a failure-free run's, with nothing left pending. Also: commits are retried with backoff, and
 * a commit that keeps failing fails with the store's answer.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { twoPhaseCommitSink, type TransactionalBackend } from '../../../connectors/two-phase-commit.ts';
import { FileTransactions, listPending, readCommitted } from '../../harness/transactional-sink.ts';
import { SinkHarness, type SinkSnapshot } from '../../harness/sink-harness.ts';
import type { Committer, SinkWriter } from '../../../runtime/sink/contract.ts';
import type { Sink } from '../../../runtime/api/sink.ts';

const CHUNKS = 5;
const PER_CHUNK = 10;
const input = (c: number): number[] => Array.from({ length: PER_CHUNK }, (_, i) => c * PER_CHUNK + i);

class Crash extends Error {}

interface Fault {
  call: number;
  when: 'before' | 'after';
}

/** Counts every backend call of the run (all backend instances) and crashes at one of them. */
function faulty<T, Txn>(backend: TransactionalBackend<T, Txn>, calls: { n: number; log: string[] }, fault: Fault | undefined): TransactionalBackend<T, Txn> {
  const wrap =
    <A extends unknown[], R>(name: string, fn: (...a: A) => R) =>
    async (...a: A): Promise<Awaited<R>> => {
      const n = ++calls.n;
      calls.log.push(name);
      if (fault?.call === n && fault.when === 'before') throw new Crash(`crash before ${name} (call ${n})`);
      const r = await fn.apply(backend, a);
      if (fault?.call === n && fault.when === 'after') throw new Crash(`crash after ${name} (call ${n})`);
      return r;
    };
  return {
    begin: wrap('begin', backend.begin),
    write: wrap('write', backend.write),
    preCommit: wrap('preCommit', backend.preCommit),
    commit: wrap('commit', backend.commit),
    abort: wrap('abort', backend.abort),
    abortLingering: wrap('abortLingering', backend.abortLingering),
  };
}

/** Runs the job to its end, restarting from the last completed checkpoint after a crash. */
async function run(fault?: Fault): Promise<{ dir: string; calls: { n: number; log: string[] }; restarts: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-sink-v2-chaos-'));
  const calls = { n: 0, log: [] as string[] };
  const sink = twoPhaseCommitSink<number, { name: string }>('files', () => faulty(new FileTransactions<number>(dir), calls, fault), { commitRetry: { attempts: 1 } });
  let completed: SinkSnapshot | undefined;
  let done = 0; // chunks covered by the completed checkpoint
  let checkpointId = 0; // ids keep growing across restarts, as the job manager's do
  let restarts = 0;
  for (;;) {
    try {
      const h = await SinkHarness.open(sink, { restore: completed });
      for (let c = done; c < CHUNKS; c++) {
        await h.write(input(c));
        const snap = await h.checkpoint(++checkpointId);
        // Every task acknowledged: the checkpoint is complete, then the tasks hear of it.
        completed = snap;
        done = c + 1;
        await h.complete(checkpointId);
      }
      return { dir, calls, restarts };
    } catch (e) {
      // the committer reports a failed commit as an ExternalError caused by the crash
      if (!(e instanceof Crash) && !((e as Error).cause instanceof Crash)) throw e;
      restarts++;
    }
  }
}

describe('Sink V2 writer and committer under failure injection', () => {
  it('a crash before or after every backend call commits exactly what a failure-free run commits', async () => {
    const clean = await run();
    const expected = readCommitted<number>(clean.dir).sort((a, b) => a - b);
    expect(expected).toEqual(Array.from({ length: CHUNKS * PER_CHUNK }, (_, i) => i));
    expect(new Set(clean.calls.log)).toEqual(new Set(['abortLingering', 'begin', 'write', 'preCommit', 'commit']));
    for (let call = 1; call <= clean.calls.n; call++) {
      for (const when of ['before', 'after'] as const) {
        const r = await run({ call, when });
        expect(r.restarts, `crash ${when} call ${call} (${clean.calls.log[call - 1]})`).toBe(1);
        expect(readCommitted<number>(r.dir).sort((a, b) => a - b), `crash ${when} call ${call} (${clean.calls.log[call - 1]})`).toEqual(expected);
        expect(listPending(r.dir)).toEqual([]);
      }
    }
  });

  it('retries a failing commit with backoff and commits once', async () => {
    const committed: number[][] = [];
    let failures = 2;
    const sink: Sink<number, number[]> = {
      name: 'flaky',
      commitRetry: { attempts: 3, backoffMs: 0 },
      createWriter: (): SinkWriter<number, number[]> => {
        let buffered: number[] = [];
        return {
          write: (v) => void buffered.push(...v),
          prepareCommit: () => {
            const out = buffered.length > 0 ? [buffered] : [];
            buffered = [];
            return out;
          },
        };
      },
      createCommitter: (): Committer<number[]> => ({
        async commit(batches) {
          if (failures-- > 0) throw new Error('store busy');
          committed.push(...batches);
        },
      }),
    };
    const h = await SinkHarness.open(sink);
    await h.write([1, 2]);
    await h.checkpoint(1);
    await h.complete(1);
    expect(committed).toEqual([[1, 2]]);
    expect(h.counters.get('commit-retries')).toBe(2);
    expect(h.counters.get('commits')).toBe(1);
  });

  it('a commit that keeps failing fails with the store answer, and is committed after the restore', async () => {
    let answer: string | undefined = 'table is locked by another writer';
    const committed: number[][] = [];
    const sink: Sink<number, number[]> = {
      name: 'locked',
      commitRetry: { attempts: 2, backoffMs: 0 },
      createWriter: () => ({ write: () => {}, prepareCommit: () => [[7]] }),
      createCommitter: () => ({
        async commit(batches) {
          if (answer) throw new Error(answer);
          committed.push(...batches);
        },
      }),
    };
    const h = await SinkHarness.open(sink);
    await h.write([7]);
    const snap = await h.checkpoint(1);
    await expect(h.complete(1)).rejects.toThrow(/locked-committer could not commit checkpoint 1 after 2 attempts: table is locked by another writer/);
    answer = undefined;
    await SinkHarness.open(sink, { restore: snap });
    expect(committed).toEqual([[7]]);
  });

  it('an intermediate savepoint commits nothing; its committables go with the next completed checkpoint', async () => {
    const committed: { id: number; batches: number[][] }[] = [];
    const sink: Sink<number, number[]> = {
      name: 'carry',
      createWriter: () => {
        let buffered: number[] = [];
        return {
          write: (v) => void buffered.push(...v),
          prepareCommit: () => {
            const out = buffered.length > 0 ? [buffered] : [];
            buffered = [];
            return out;
          },
        };
      },
      createCommitter: () => ({
        async commit(batches, id) {
          committed.push({ id, batches: [...batches] });
        },
      }),
    };
    const h = await SinkHarness.open(sink);
    await h.write([1]);
    await h.checkpoint(1); // a savepoint: the runtime does not notify its completion
    await h.write([2]);
    await h.checkpoint(2);
    await h.complete(2);
    expect(committed).toEqual([
      { id: 1, batches: [[1]] },
      { id: 2, batches: [[2]] },
    ]);
  });
});
