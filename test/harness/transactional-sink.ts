/**
 * An exactly-once test sink on Sink V2 through the transactional-backend adapter, backed by files: a transaction is a
 * file written to `pending/` at pre-commit and renamed into `committed/` at commit. What is in
 * `committed/` is the sink's visible output, to compare with a failure-free run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { type Sink, type TransactionalBackend, type TransactionContext, twoPhaseCommitSink } from 'weir';

interface FileTxn {
  name: string;
}

export class FileTransactions<T> implements TransactionalBackend<T, FileTxn> {
  private readonly buffered = new Map<string, T[]>();

  constructor(private readonly dir: string) {}

  private file(kind: 'pending' | 'committed', txn: FileTxn): string {
    return path.join(this.dir, kind, `${txn.name}.json`);
  }

  async begin(checkpointId: number, ctx: TransactionContext): Promise<FileTxn> {
    await mkdir(path.join(this.dir, 'pending'), { recursive: true });
    await mkdir(path.join(this.dir, 'committed'), { recursive: true });
    // A name of its own per transaction, not per checkpoint id: after a failover falls back past a
    // checkpoint whose transaction some subtask already committed (its successor was corrupt), the
    // replay opens a transaction for the same checkpoint id with other records; under the same name,
    // its commit found the file committed and dropped them (rows lost, not repeated).
    const txn = { name: `s${ctx.subtaskIndex}-c${checkpointId}-${randomUUID().slice(0, 8)}` };
    this.buffered.set(txn.name, []);
    return txn;
  }

  write(txn: FileTxn, values: readonly T[]): void {
    const list = this.buffered.get(txn.name)!;
    for (const v of values) list.push(v);
  }

  async preCommit(txn: FileTxn): Promise<void> {
    const tmp = `${this.file('pending', txn)}.tmp`;
    await writeFile(tmp, JSON.stringify(this.buffered.get(txn.name) ?? []));
    await rename(tmp, this.file('pending', txn));
    this.buffered.delete(txn.name);
  }

  async commit(txn: FileTxn): Promise<void> {
    const committed = this.file('committed', txn);
    if (existsSync(committed)) return;
    const pending = this.file('pending', txn);
    if (!existsSync(pending)) throw new Error(`transaction ${txn.name} is neither pending nor committed: its data is lost`);
    await rename(pending, committed);
  }

  async abort(txn: FileTxn): Promise<void> {
    this.buffered.delete(txn.name);
    await rm(this.file('pending', txn), { force: true });
  }

  async abortLingering(restoredId: number, ctx: TransactionContext): Promise<void> {
    const dir = path.join(this.dir, 'pending');
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      const m = /^s(\d+)-c(\d+)-[0-9a-f]+\.json(\.tmp)?$/.exec(f);
      if (!m) continue;
      const subtask = Number(m[1]);
      if (subtask % ctx.parallelism === ctx.subtaskIndex && Number(m[2]) > restoredId) await rm(path.join(dir, f), { force: true });
    }
  }
}

/** A sink whose committed output ends up in `dir/committed/*.json`. */
export function transactionalFileSink<T>(dir: string, name = 'transactional-file-sink'): Sink<T, FileTxn> {
  return twoPhaseCommitSink<T, FileTxn>(name, () => new FileTransactions<T>(dir));
}

/** Everything committed so far, in no particular order. */
export function readCommitted<T>(dir: string): T[] {
  const committed = path.join(dir, 'committed');
  if (!existsSync(committed)) return [];
  return readdirSync(committed)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => JSON.parse(readFileSync(path.join(committed, f), 'utf8')) as T[]);
}

/** Transactions pre-committed and never committed nor aborted. */
export function listPending(dir: string): string[] {
  const pending = path.join(dir, 'pending');
  return existsSync(pending) ? readdirSync(pending) : [];
}
