/**
 * The processing thread's side of the LMDB writer thread (lmdb-writer.ts). One writer thread per
 * processing thread (a task manager's worker thread) serves all of its LMDB backends, each over a
 * channel: starting a thread per keyed operator subtask cost about 160 ms and a thread each on
 * machines with few cores. The thread is started with the first channel and ended with the last
 * (unless prestartWriterThread kept it: task managers start it at deploy and keep it across
 * attempts); a backend opens its channel with its first batch or snapshot (with the cache, a small
 * state may never need one before its first checkpoint).
 *
 * The writer thread is a sibling of the processing thread, not its child (runtime/sibling-threads.ts):
 * terminating a task manager must not terminate a thread that is inside lmdb-js, which aborts the
 * process. It ends itself once its port to this thread closes.
 */
import type { MessagePort } from 'node:worker_threads';
import { WeirError } from '../../runtime/errors.ts';
import { startSiblingThread } from '../../runtime/sibling-threads.ts';
import type { KeyGroupRange } from '../key-groups.ts';
import type { KeyGroupBlock } from '../snapshot/keyed-state-handle.ts';
import type { WriterRequest, WriterResponse } from './lmdb-writer.ts';

const BOOT = new URL('../../runtime/cluster/worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./lmdb-writer.ts', import.meta.url).href;
/**
 * How long a blocked processing thread waits without seeing any commit before it declares the
 * writer dead and fails its task (the job then fails over). A batch is one synchronous transaction
 * of a few milliseconds, so seconds without progress mean a dead, stuck or starved writer thread;
 * the processing thread must not stay frozen in Atomics.wait for longer (its control calls and
 * heartbeats wait with it). `WEIR_LMDB_COMMIT_TIMEOUT_MS` overrides it.
 */
export const DEFAULT_COMMIT_TIMEOUT_MS = Number(process.env.WEIR_LMDB_COMMIT_TIMEOUT_MS ?? 10_000);
/** Until the writer thread has opened the channel (it may still be starting: loading modules on a busy machine). */
const STARTUP_TIMEOUT_MS = 60_000;

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

/** The writer thread of this thread, shared by its channels. */
class WriterThread {
  /** To the writer thread; closes when it ends. */
  readonly port: MessagePort;
  private channels = 0;
  private nextChannel = 0;
  private nextSnapshot = 0;
  /** Snapshot responses by snapshot id; 'closed' by channel (negative: -1 - ch). */
  readonly waiting = new Map<number, (r: WriterResponse) => void>();
  /** Reasons to keep the process alive (snapshots being read, closes). */
  private refs = 0;
  /** The channel of each snapshot being read. */
  private readonly snapshotChannels = new Map<number, number>();
  exitError: Error | undefined;
  private exited = false;
  /** The thread was asked to end (its last channel closed). */
  private ending = false;
  /** Stays up without channels (prestartWriterThread): a long-lived task manager reuses it. */
  keep = false;
  /** Resolves once the thread loaded lmdb (or ended): see waitForWriterThreadLoaded. */
  readonly loaded: Promise<void>;
  private markLoaded!: () => void;

  constructor() {
    this.loaded = new Promise<void>((resolve) => (this.markLoaded = resolve));
    this.port = startSiblingThread(BOOT, ENTRY);
    this.port.on('message', (m: WriterResponse) => {
      if (m.type === 'loaded') {
        this.markLoaded();
        return;
      }
      if (m.type === 'crashed') {
        this.exitError ??= new Error(`the LMDB writer thread crashed: ${m.message}`);
        return;
      }
      const key = m.type === 'closed' ? -1 - m.ch : m.id;
      if (m.type === 'closed') {
        // A snapshot still being read fails rather than waiting forever.
        for (const [id, ch] of this.snapshotChannels) {
          if (ch !== m.ch) continue;
          this.snapshotChannels.delete(id);
          const w = this.waiting.get(id);
          this.waiting.delete(id);
          w?.({ type: 'snapshot-failed', id, message: 'the state backend was disposed while the snapshot was written' });
        }
      } else if (m.type === 'snapshot-failed' || m.done) {
        this.snapshotChannels.delete(m.id);
      }
      const w = this.waiting.get(key);
      this.waiting.delete(key);
      w?.(m);
    });
    this.port.on('close', () => {
      this.markLoaded();
      this.exited = true;
      // Not asked to end: later writes and waits fail at once instead of waiting for commits.
      if (!this.ending) this.exitError ??= new Error('the LMDB writer thread exited unexpectedly');
      if (this.current()) current = undefined;
      this.failAll('the LMDB writer thread exited');
    });
    // Only snapshots being read and closes keep the process alive (ref()).
    this.port.unref();
  }

  private current(): boolean {
    return current === this;
  }

  private failAll(message: string): void {
    for (const [key, w] of this.waiting) w(key < 0 ? { type: 'closed', ch: -1 - key } : { type: 'snapshot-failed', id: key, message });
    this.waiting.clear();
  }

  post(m: WriterRequest, transfer?: ArrayBuffer[]): void {
    this.port.postMessage(m, transfer);
  }

  openChannel(path: string, status: SharedArrayBuffer): number {
    const ch = this.nextChannel++;
    this.channels++;
    this.post({ type: 'open', ch, path, status });
    return ch;
  }

  snapshotId(ch: number): number {
    const id = ++this.nextSnapshot;
    this.snapshotChannels.set(id, ch);
    return id;
  }

  ref(): void {
    if (this.refs++ === 0) this.port.ref();
  }

  unref(): void {
    if (--this.refs === 0) this.port.unref();
  }

  /** Resolves once the thread has ended (its port closed). */
  ended(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.ref();
      this.port.once('close', () => {
        this.unref();
        resolve();
      });
    });
  }

  closeChannel(ch: number): Promise<void> {
    // A dead thread has nothing left to apply or close.
    if (this.exited) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.ref();
      this.waiting.set(-1 - ch, () => {
        this.unref();
        if (--this.channels === 0 && !this.exited && !this.keep) {
          // The last channel: end the thread (a backend opened later starts a new one).
          if (this.current()) current = undefined;
          this.ending = true;
          void this.ended().then(resolve);
          this.post({ type: 'exit' });
        } else {
          resolve();
        }
      });
      this.post({ type: 'close', ch });
    });
  }
}

let current: WriterThread | undefined;

/**
 * Starts this thread's LMDB writer thread now, and keeps it when its last channel closes: a task
 * manager calls it at deploy, so that the thread (0.6-0.8 s to start: a worker loading its
 * modules) starts while tasks are deployed, and is already up for the next attempt's restore.
 */
export function prestartWriterThread(): void {
  current ??= new WriterThread();
  current.keep = true;
}

/**
 * Resolves once this thread's LMDB writer thread (if any) has loaded lmdb's native module, or after
 * `timeoutMs`. A task manager waits for it in prepare (a warm start: the job's first restore does
 * not wait for the thread to boot) and before it reports a deployment done (the thread's boot takes
 * a core for a few hundred milliseconds, which would otherwise overlap the job's first records).
 */
export async function waitForWriterThreadLoaded(timeoutMs = 15_000): Promise<void> {
  const thread = current;
  if (!thread) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([thread.loaded, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]).finally(() => clearTimeout(timer));
}

export class LmdbWriterClient {
  /** Set on the first write or snapshot: a backend that never writes to LMDB starts no thread. */
  private channel: { thread: WriterThread; ch: number } | undefined;
  private readonly sab = new SharedArrayBuffer(16 + 4096);
  private readonly status = new Int32Array(this.sab);
  private sent = 0;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly commitTimeoutMs = DEFAULT_COMMIT_TIMEOUT_MS,
  ) {}

  private open(): { thread: WriterThread; ch: number } {
    if (this.channel === undefined) {
      current ??= new WriterThread();
      this.channel = { thread: current, ch: current.openChannel(this.path, this.sab) };
    }
    return this.channel;
  }

  /** Batches sent so far; batch n is the n-th send. */
  get sentCount(): number {
    return this.sent;
  }

  send(batch: Uint8Array): number {
    this.check();
    const { thread, ch } = this.open();
    const gen = ++this.sent;
    thread.post({ type: 'batch', ch, gen, batch }, [batch.buffer as ArrayBuffer]);
    return gen;
  }

  /** Sends snapshot entries (a restored key-group block) to be put; numbered like a batch. */
  sendEntries(entries: Uint8Array): number {
    this.check();
    const { thread, ch } = this.open();
    const gen = ++this.sent;
    const own = entries.byteOffset === 0 && entries.byteLength === entries.buffer.byteLength ? entries : Uint8Array.from(entries);
    thread.post({ type: 'entries', ch, gen, entries: own }, [own.buffer as ArrayBuffer]);
    return gen;
  }

  /** The last batch LMDB has committed (read from shared memory; no event loop needed). */
  committed(): number {
    this.check();
    return Atomics.load(this.status, 0);
  }

  /**
   * Blocks the thread until batch `gen` is committed; throws StateWriterError when no batch commits
   * for `commitTimeoutMs` (the deadline moves with every commit seen, so a long queue is not a failure).
   */
  waitFor(gen: number): void {
    let seen = this.committed();
    const opened = (): boolean => Atomics.load(this.status, 3) === 1;
    let wasOpen = opened();
    let deadline = Date.now() + (wasOpen ? this.commitTimeoutMs : STARTUP_TIMEOUT_MS);
    for (;;) {
      const c = this.committed();
      if (c >= gen) return;
      const now = Date.now();
      if (c !== seen || (!wasOpen && opened())) {
        seen = c;
        wasOpen = opened();
        deadline = now + this.commitTimeoutMs;
      } else if (now > deadline) {
        throw new StateWriterError(
          `the LMDB writer thread committed nothing for ${this.commitTimeoutMs} ms while write batch ${gen} waited (last committed ${c}); ` +
            'the writer thread is dead or stuck (or the disk is full or stalled); the task fails and the job restarts from its last checkpoint',
        );
      }
      Atomics.wait(this.status, 0, c, Math.min(100, Math.max(1, deadline - now)));
    }
  }

  /** Failure injection for tests: ends the writer thread at once, as a crash would (nothing more is applied). */
  async killWriterThread(): Promise<void> {
    const thread = this.channel?.thread;
    if (!thread) return;
    thread.post({ type: 'crash' });
    await thread.ended();
  }

  private check(): void {
    if (Atomics.load(this.status, 1) === 1) {
      const len = Atomics.load(this.status, 2);
      const msg = Buffer.from(new Uint8Array(this.sab, 16, len)).toString();
      throw new StateWriterError(`the LMDB writer thread failed, so keyed state writes are lost; restart from the last checkpoint. Cause: ${msg}`);
    }
    const e = this.channel?.thread.exitError;
    if (e) throw new StateWriterError(`the LMDB writer thread died: ${e.message}; restart from the last checkpoint`, e);
  }

  /** Queues a snapshot behind every batch sent so far; the view is fixed at this call. */
  snapshot(range: KeyGroupRange, ttlNames: string[], now: number): SnapshotStream {
    this.check();
    const { thread, ch } = this.open();
    const id = thread.snapshotId(ch);
    thread.post({ type: 'snapshot', ch, id, range, ttlNames, now });
    let blocks: KeyGroupBlock[] | undefined;
    const pull = (): Promise<WriterResponse> =>
      new Promise((resolve) => {
        if (self.closed) {
          resolve({ type: 'snapshot-failed', id, message: 'the state backend was disposed while the snapshot was written' });
          return;
        }
        thread.waiting.set(id, resolve);
        thread.post({ type: 'pull', ch, id });
      });
    const self = this;
    async function* chunks(): AsyncIterable<Uint8Array> {
      thread.ref();
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
        if (!done && !self.closed) thread.post({ type: 'cancel', ch, id });
        thread.unref();
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

  /** Applies everything sent, closes the environment in the writer thread (and ends the thread with its last channel). */
  close(): Promise<void> {
    this.closed ??= this.channel === undefined ? Promise.resolve() : this.channel.thread.closeChannel(this.channel.ch);
    return this.closed;
  }
}
