/**
 * runtime/sibling-threads.ts: a thread started for a worker thread runs beside it, on the thread
 * that offered the starter, and ends itself once the worker that asked for it is terminated.
 */
import { Worker, threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SiblingThreadStarter } from '../../../runtime/sibling-threads.ts';

const boot = new URL('../../../runtime/cluster/worker-boot.mjs', import.meta.url);
const entry = new URL('./threads/sibling-asker.ts', import.meta.url).href;

describe('SiblingThreadStarter', () => {
  it('starts the thread a worker asks for on this thread; the thread ends itself once the worker is terminated', async () => {
    const starter = new SiblingThreadStarter();
    const asker = new Worker(boot, { workerData: { entry, siblingThreads: starter.port }, transferList: [starter.port] });
    const answer = await new Promise<{ echo: string; threadId: number }>((resolve) => asker.once('message', resolve));
    expect(answer.echo).toBe('ping');
    expect(answer.threadId).not.toBe(asker.threadId);
    expect(answer.threadId).not.toBe(threadId);
    // Started by this thread: the starter counts it as running.
    expect(await starter.whenEnded(50)).toBe(false);
    await asker.terminate();
    expect(await starter.whenEnded(10_000)).toBe(true);
    starter.close();
  });

  it('a worker given no starter still gets its thread (as its own child)', async () => {
    const asker = new Worker(boot, { workerData: { entry } });
    const answer = await new Promise<{ echo: string }>((resolve) => asker.once('message', resolve));
    expect(answer.echo).toBe('ping');
    await asker.terminate();
  });
});
