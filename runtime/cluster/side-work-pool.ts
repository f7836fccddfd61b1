/**
 * A pool of worker threads (piscina) for CPU-heavy or blocking work that is not per record:
 * Parquet encoding, compaction, snapshot uploads. Tasks and operators hand such work here so their
 * actor loops keep processing. A side-work module is a TypeScript module whose default export takes
 * plain data and returns plain data (it runs in another thread: no closures cross).
 *
 *     const files = await runSideWork(new URL('./compact-task.ts', import.meta.url), task);
 */
import os from 'node:os';
import { Piscina } from 'piscina';

let pool: Piscina | undefined;

function sideWorkPool(): Piscina {
  pool ??= new Piscina({
    filename: new URL('./side-work-boot.mjs', import.meta.url).href,
    minThreads: 0,
    maxThreads: Math.max(1, Math.min(2, os.availableParallelism() - 1)),
    idleTimeout: 2_000,
  });
  return pool;
}

export function runSideWork<I, O>(module: URL | string, input: I): Promise<O> {
  return sideWorkPool().run({ module: typeof module === 'string' ? module : module.href, input }) as Promise<O>;
}

/** Ends the pool's threads (they also end by themselves when idle). */
export async function closeSideWorkPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
