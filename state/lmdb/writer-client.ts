/** The processing thread's side of the LMDB writer thread (lmdb-writer.ts). */
import { Worker } from 'node:worker_threads';
import { WeirError } from '../../runtime/errors.ts';
import type { KeyGroupRange } from '../key-groups.ts';
import type { KeyGroupBlock } from '../snapshot/keyed-state-handle.ts';
import type { WriterData, WriterRequest, WriterResponse } from './lmdb-writer.ts';

const BOOT = new URL('../../runtime/cluster/worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./lmdb-writer.ts', import.meta.url).href;
/** How long a blocked processing thread waits for one commit before declaring the writer dead. */
const COMMIT_TIMEOUT_MS = 120_000;

export class StateWriterError extends WeirError {
  constructor(message: string, cause?: unknown) {
    super(message, { domain: 'internal', cause });
  }
}

export interface SnapshotStream {
  chunks: AsyncIterable<Uint8Array>;
  /** Valid once `chunks` is exhausted. */
  blocks(): KeyGroupBlock[];
}

export class LmdbWriterClient {
  private readonly worker: Worker;
  private readonly sab = new SharedArrayBuffer(16 + 4096);
  private readonly status = new Int32Array(this.sab);
  private sent = 0;
  private snapshotIds = 0;
  private readonly waiting = new Map<number, (r: WriterResponse) => void>();
  private closed: Promise<void> | undefined;
  private exitError: Error | undefined;

  constructor(path: string) {
    const workerData: WriterData = { entry: ENTRY, path, status: this.sab };
    this.worker = new Worker(BOOT, { workerData });
    this.worker.unref();
    this.worker.on('message', (m: WriterResponse) => {
      if (m.type === 'chunks' || m.type === 'snapshot-failed') {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        w?.(m);
      }
    });
    this.worker.on('error', (e) => {
      this.exitError = e;
      for (const w of this.waiting.values()) w({ type: 'snapshot-failed', id: -1, message: e.message });
      this.waiting.clear();
    });
  }

  /** Batches sent so far; batch n is the n-th send. */
  get sentCount(): number {
    return this.sent;
  }

  send(batch: Uint8Array): number {
    this.check();
    const gen = ++this.sent;
    this.worker.postMessage({ type: 'batch', gen, batch } satisfies WriterRequest, [batch.buffer as ArrayBuffer]);
    return gen;
  }

  /** Sends snapshot entries (a restored key-group block) to be put; numbered like a batch. */
  sendEntries(entries: Uint8Array): number {
    this.check();
    const gen = ++this.sent;
    const own = entries.byteOffset === 0 && entries.byteLength === entries.buffer.byteLength ? entries : Uint8Array.from(entries);
    this.worker.postMessage({ type: 'entries', gen, entries: own } satisfies WriterRequest, [own.buffer as ArrayBuffer]);
    return gen;
  }

  /** The last batch LMDB has committed (read from shared memory; no event loop needed). */
  committed(): number {
    this.check();
    return Atomics.load(this.status, 0);
  }

  /** Blocks the thread until batch `gen` is committed. */
  waitFor(gen: number): void {
    const deadline = Date.now() + COMMIT_TIMEOUT_MS;
    for (;;) {
      const c = this.committed();
      if (c >= gen) return;
      if (Date.now() > deadline) {
        throw new StateWriterError(`the LMDB writer thread has not committed write batch ${gen} within ${COMMIT_TIMEOUT_MS / 1000} s (last committed ${c}); the disk may be full or stalled`);
      }
      Atomics.wait(this.status, 0, c, 100);
    }
  }

  private check(): void {
    if (Atomics.load(this.status, 1) === 1) {
      const len = Atomics.load(this.status, 2);
      const msg = Buffer.from(new Uint8Array(this.sab, 16, len)).toString();
      throw new StateWriterError(`the LMDB writer thread failed, so keyed state writes are lost; restart from the last checkpoint. Cause: ${msg}`);
    }
    if (this.exitError) throw new StateWriterError(`the LMDB writer thread died: ${this.exitError.message}; restart from the last checkpoint`, this.exitError);
  }

  /** Queues a snapshot behind every batch sent so far; the view is fixed at this call. */
  snapshot(range: KeyGroupRange, ttlNames: string[], now: number): SnapshotStream {
    this.check();
    const id = ++this.snapshotIds;
    this.worker.postMessage({ type: 'snapshot', id, range, ttlNames, now } satisfies WriterRequest);
    let blocks: KeyGroupBlock[] | undefined;
    const pull = (): Promise<WriterResponse> =>
      new Promise((resolve) => {
        this.waiting.set(id, resolve);
        this.worker.postMessage({ type: 'pull', id } satisfies WriterRequest);
      });
    const self = this;
    async function* chunks(): AsyncIterable<Uint8Array> {
      self.worker.ref();
      let done = false;
      try {
        for (;;) {
          const r = await pull();
          if (r.type === 'snapshot-failed') {
            done = true;
            throw new StateWriterError(`snapshot of keyed state failed in the LMDB writer thread: ${r.message}`);
          }
          if (r.type !== 'chunks') continue;
          if (r.done) {
            done = true;
            blocks = r.blocks ?? [];
          }
          for (const c of r.chunks) yield c;
          if (done) return;
        }
      } finally {
        if (!done && !self.closed) self.worker.postMessage({ type: 'cancel', id } satisfies WriterRequest);
        self.worker.unref();
      }
    }
    return {
      chunks: chunks(),
      blocks: () => {
        if (!blocks) throw new StateWriterError('snapshot blocks read before the snapshot file was complete');
        return blocks;
      },
    };
  }

  /** Applies everything sent, closes the environment in the writer thread and ends it. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = new Promise<void>((resolve) => {
        this.worker.ref();
        this.worker.once('exit', () => {
          // A snapshot still being read fails rather than waiting forever.
          for (const w of this.waiting.values()) w({ type: 'snapshot-failed', id: -1, message: 'the state backend was disposed while the snapshot was written' });
          this.waiting.clear();
          resolve();
        });
        this.worker.postMessage({ type: 'close' } satisfies WriterRequest);
      });
    }
    return this.closed;
  }
}
