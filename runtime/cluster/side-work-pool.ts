/**
 * A pool of worker threads (piscina) for CPU-heavy or blocking work that is not per record:
 * Parquet encoding, compaction, snapshot uploads. Each task manager owns one pool and offers it to
 * its operators as `ctx.sideWork`, so their actor loops keep processing while the work runs; the
 * pool ends with the task manager. A side-work module is a TypeScript module whose default export
 * takes plain data and returns plain data (it runs in another thread: no closures cross).
 *
 *     const merged = await ctx.sideWork.run<CompactTask, CommitMessage>(new URL('./compact-task.ts', import.meta.url), task);
 *
 * Threads start on the first task and end when idle, so a task manager whose operators never use
 * side work never starts one.
 */
import os from 'node:os';
import type { Piscina } from 'piscina';
import type { SideWork } from '../../operators/operator.ts';

export interface SideWorkPoolOptions {
  /** Threads at most (default: one less than the cores, at least 1, at most 2). */
  maxThreads?: number;
  /** A thread ends after this long without work (ms; default 2000). */
  idleTimeoutMs?: number;
}

export class SideWorkPool implements SideWork {
  private pool: Promise<Piscina> | undefined;
  private closed = false;

  constructor(private readonly options: SideWorkPoolOptions = {}) {}

  run<I, O>(module: URL | string, input: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error(`side work ${String(module)} was handed to a closed pool: the task manager has shut down`));
    return this.piscina().then((p) => p.run({ module: typeof module === 'string' ? module : module.href, input }) as Promise<O>);
  }

  /** Ends the pool's threads; work still running is abandoned. */
  async close(): Promise<void> {
    this.closed = true;
    const p = this.pool;
    this.pool = undefined;
    await (await p)?.destroy();
  }

  private piscina(): Promise<Piscina> {
    // piscina is loaded with the first task, so task managers without side work do not load it.
    return (this.pool ??= import('piscina').then(
      ({ Piscina }) =>
        new Piscina({
          filename: new URL('./side-work-boot.mjs', import.meta.url).href,
          minThreads: 0,
          maxThreads: this.options.maxThreads ?? Math.max(1, Math.min(2, os.availableParallelism() - 1)),
          idleTimeout: this.options.idleTimeoutMs ?? 2_000,
        }),
    ));
  }
}
