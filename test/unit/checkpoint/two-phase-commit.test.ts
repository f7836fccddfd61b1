/**
 * The two-phase-commit sink (a transactional backend on Sink V2's writer and committer) against an
 * in-memory transactional backend: pre-commit at the barrier, commit when the checkpoint completes,
 * intermediate savepoints carried into the next checkpoint, and restore (commit what the restored
 * state lists, abort what came after it).
 */
import { describe, expect, it } from 'vitest';
import { twoPhaseCommitSink, type TransactionalBackend, type TransactionContext } from '../../../connectors/two-phase-commit.ts';
import { SinkHarness, type SinkSnapshot } from '../../harness/sink-harness.ts';

interface Txn {
  name: string;
}

/** A shared "external system": transactions by name, in one of three states. */
class ExternalSystem {
  readonly open = new Map<string, string[]>();
  readonly prepared = new Map<string, string[]>();
  readonly committed = new Map<string, string[]>();
  readonly log: string[] = [];

  visible(): string[] {
    return [...this.committed.values()].flat().sort();
  }
}

class MemoryTransactions implements TransactionalBackend<string, Txn> {
  constructor(private readonly ext: ExternalSystem) {}

  begin(checkpointId: number, ctx: TransactionContext): Txn {
    const txn = { name: `s${ctx.subtaskIndex}-c${checkpointId}` };
    this.ext.open.set(txn.name, []);
    this.ext.log.push(`begin ${txn.name}`);
    return txn;
  }

  write(txn: Txn, values: readonly string[]): void {
    this.ext.open.get(txn.name)!.push(...values);
  }

  async preCommit(txn: Txn): Promise<void> {
    this.ext.prepared.set(txn.name, this.ext.open.get(txn.name)!);
    this.ext.open.delete(txn.name);
    this.ext.log.push(`preCommit ${txn.name}`);
  }

  async commit(txn: Txn): Promise<void> {
    this.ext.log.push(`commit ${txn.name}`);
    if (this.ext.committed.has(txn.name)) return;
    const rows = this.ext.prepared.get(txn.name);
    if (!rows) throw new Error(`transaction ${txn.name} is neither prepared nor committed`);
    this.ext.committed.set(txn.name, rows);
    this.ext.prepared.delete(txn.name);
  }

  async abort(txn: Txn): Promise<void> {
    this.ext.prepared.delete(txn.name);
    this.ext.open.delete(txn.name);
  }

  async abortLingering(restoredId: number, ctx: TransactionContext): Promise<void> {
    this.ext.log.push(`abortLingering ${restoredId}`);
    for (const name of [...this.ext.prepared.keys()]) {
      const m = /^s(\d+)-c(\d+)$/.exec(name)!;
      if (Number(m[1]) % ctx.parallelism === ctx.subtaskIndex && Number(m[2]) > restoredId) this.ext.prepared.delete(name);
    }
  }
}

/** One sink subtask: the writer and its committer, as `sinkTo` wires them. */
async function openWriter(ext: ExternalSystem, restore?: SinkSnapshot) {
  const h = await SinkHarness.open(twoPhaseCommitSink('sink', () => new MemoryTransactions(ext)), { restore });
  return {
    write: (...values: string[]) => h.write(values),
    /** The barrier of checkpoint (or savepoint) `id`: pre-commit, then the subtask's state. */
    barrier: (id: number): Promise<SinkSnapshot> => h.checkpoint(id),
    writer: { notifyCheckpointComplete: (id: number) => h.complete(id) },
  };
}

describe('two-phase-commit sink', () => {
  it('pre-commits at the barrier and commits only when the checkpoint completes', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.write('a', 'b');
    expect(ext.log).toEqual(['abortLingering 0', 'begin s0-c1']);
    await w.barrier(1);
    expect([...ext.prepared.keys()]).toEqual(['s0-c1']);
    expect(ext.visible()).toEqual([]);
    await w.write('c');
    await w.writer.notifyCheckpointComplete(1);
    expect(ext.visible()).toEqual(['a', 'b']);
    // 'c' is in the transaction of the next checkpoint, still open
    expect([...ext.open.keys()]).toEqual(['s0-c2']);
  });

  it('a checkpoint without records pre-commits nothing', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.barrier(1);
    await w.writer.notifyCheckpointComplete(1);
    expect(ext.log).toEqual(['abortLingering 0']);
  });

  it('an intermediate savepoint is never notified: its transaction is committed with the next completed checkpoint', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.write('a');
    await w.barrier(1);
    await w.writer.notifyCheckpointComplete(1);
    await w.write('b');
    await w.barrier(2); // savepoint: no notification follows
    await w.write('c');
    await w.barrier(3);
    expect(ext.visible()).toEqual(['a']);
    expect([...ext.prepared.keys()]).toEqual(['s0-c2', 's0-c3']);
    await w.writer.notifyCheckpointComplete(3);
    expect(ext.visible()).toEqual(['a', 'b', 'c']);
    // in checkpoint order
    expect(ext.log.filter((l) => l.startsWith('commit'))).toEqual(['commit s0-c1', 'commit s0-c2', 'commit s0-c3']);
  });

  it('an aborted checkpoint\'s transaction stays pending and commits with the next completed one', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.write('a');
    await w.barrier(1); // checkpoint 1 is aborted: no notification
    await w.write('b');
    await w.barrier(2);
    await w.writer.notifyCheckpointComplete(2);
    expect(ext.visible()).toEqual(['a', 'b']);
  });

  it('failover after a savepoint restores the older checkpoint: the savepoint\'s transaction is aborted, not committed', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.write('a');
    const cp1 = await w.barrier(1);
    await w.writer.notifyCheckpointComplete(1);
    await w.write('b');
    await w.barrier(2); // savepoint 2
    await w.write('c');
    await w.barrier(3); // checkpoint 3 never completes: the worker dies
    const restored = await openWriter(ext, cp1);
    expect(ext.visible()).toEqual(['a']);
    expect(ext.prepared.size).toBe(0); // s0-c2 and s0-c3 aborted: 'b' and 'c' will be replayed
    await restored.write('b', 'c');
    await restored.barrier(2);
    await restored.writer.notifyCheckpointComplete(2);
    expect(ext.visible()).toEqual(['a', 'b', 'c']);
  });

  it('restore from a checkpoint commits the transactions its state lists (savepoint ones included) and aborts later ones', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.write('a');
    await w.barrier(1); // savepoint 1
    await w.write('b');
    const cp2 = await w.barrier(2); // checkpoint 2 completes, but the worker dies before the notification arrives
    await w.write('c');
    await w.barrier(3);
    const restored = await openWriter(ext, cp2);
    expect(ext.visible()).toEqual(['a', 'b']);
    expect([...ext.prepared.keys()]).toEqual([]);
    expect(ext.log.slice(-3)).toEqual(['commit s0-c1', 'commit s0-c2', 'abortLingering 2']);
    // new transactions start after the restored checkpoint
    await restored.write('c');
    await restored.barrier(3);
    await restored.writer.notifyCheckpointComplete(3);
    expect(ext.visible()).toEqual(['a', 'b', 'c']);
  });

  it('restore from a savepoint commits what the savepoint pre-committed (a job resumed from it)', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.write('a');
    const sp = await w.barrier(1); // stop-savepoint; its notification never came
    await openWriter(ext, sp);
    expect(ext.visible()).toEqual(['a']);
  });

  it('committing twice is harmless (restore after the commit already happened)', async () => {
    const ext = new ExternalSystem();
    const w = await openWriter(ext);
    await w.write('a');
    const cp1 = await w.barrier(1);
    await w.writer.notifyCheckpointComplete(1);
    await openWriter(ext, cp1);
    expect(ext.visible()).toEqual(['a']);
  });
});
