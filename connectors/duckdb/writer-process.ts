/**
 * The committer's handle on its DuckDB writer process (duckdb-process.mjs): starts it on first
 * use (and again after it died), sends one request at a time, rejects what is pending when the
 * process exits. A dead process is an ExternalError (retriable): the committer's commit is retried
 * and a new process opens the database, which DuckDB recovers to its last commit.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ExternalError } from '../../runtime/errors.ts';

const SCRIPT = fileURLToPath(new URL('./duckdb-process.mjs', import.meta.url));

type Answer = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string };

export class DuckDbWriterProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  constructor(
    private readonly dbPath: string,
    private readonly sink: string,
  ) {}

  private start(): ChildProcess {
    const child = fork(SCRIPT, [this.dbPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    child.on('message', (m: Answer) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new ExternalError(`${this.sink}: DuckDB '${this.dbPath}': ${m.message}`, { retriable: !/Binder|Parser|Catalog|Conversion|Constraint/.test(m.message) }));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const e = new ExternalError(`${this.sink}: the DuckDB writer process for '${this.dbPath}' exited (${signal ?? `code ${code}`})`);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    child.on('error', () => {}); // 'exit' follows and rejects what is pending
    return child;
  }

  request<R>(msg: Record<string, unknown>): Promise<R> {
    const child = (this.child ??= this.start());
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...msg, id }, (e) => {
        if (e && this.pending.delete(id)) reject(new ExternalError(`${this.sink}: could not reach the DuckDB writer process: ${e.message}`, { cause: e }));
      });
    });
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    await this.request({ op: 'close' }).catch(() => {});
    await exited;
  }
}
