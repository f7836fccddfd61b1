/**
 * The LMDB writer thread of a processing thread: one worker (started through
 * runtime/cluster/worker-boot.mjs) serves every LMDB keyed state backend of the thread that started
 * it, each over its own channel with its own environment and shared-memory status. Per channel it
 * applies write batches in the order they were sent and publishes the last committed batch number
 * in that channel's shared memory, so the processing thread can tell without the event loop which
 * buffered writes LMDB now holds. It also writes snapshots: a snapshot request is queued behind the
 * batches of its channel sent before it, so the read transaction it opens is exactly the state at
 * the snapshot() call; the entries are then read in slices between later batches and handed out as
 * file chunks on request. Channels do not wait for each other.
 *
 * It is a sibling of that thread (runtime/sibling-threads.ts), so that terminating a task manager
 * never terminates this thread inside lmdb-js; it ends itself when its port to that thread closes,
 * after closing its environments.
 */
import { workerData } from 'node:worker_threads';
import type { SiblingThreadData } from '../../runtime/sibling-threads.ts';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import { type KeyPart, encodeKeyView, prefixRange } from '../layout.ts';
import { EntryWriter, forEachEntry } from '../snapshot/entry-file.ts';
import type { KeyGroupRange } from '../key-groups.ts';
import { PUT, forEachWrite } from './write-batch.ts';
import { ENVIRONMENT_OPTIONS } from './environment.ts';

export type WriterRequest =
  /** Opens the environment at `path` for channel `ch`. `status` Int32 [0]: last committed batch; [1]: 1 after a failure; [2]: length of the UTF-8 message at byte 16; [3]: 1 once open. */
  | { type: 'open'; ch: number; path: string; status: SharedArrayBuffer }
  | { type: 'batch'; ch: number; gen: number; batch: Uint8Array }
  /** Entries of a snapshot block (snapshot/entry-file.ts format) to put, numbered like a batch. */
  | { type: 'entries'; ch: number; gen: number; entries: Uint8Array }
  | { type: 'snapshot'; ch: number; id: number; range: KeyGroupRange; ttlNames: string[]; now: number }
  | { type: 'pull'; ch: number; id: number }
  | { type: 'cancel'; ch: number; id: number }
  /** Applies everything sent on the channel, closes its environment, answers 'closed'. */
  | { type: 'close'; ch: number }
  /** No channel is open: end the thread. */
  | { type: 'exit' }
  /** Failure injection for tests: end the thread at once, applying nothing more. */
  | { type: 'crash' };

export type WriterResponse =
  | { type: 'loaded' }
  /** An uncaught error is ending the thread. */
  | { type: 'crashed'; message: string }
  | { type: 'chunks'; id: number; chunks: Uint8Array[]; done: boolean; blocks?: EntryWriter['blocks'] }
  | { type: 'snapshot-failed'; id: number; message: string }
  | { type: 'closed'; ch: number };

interface SnapshotRun {
  txn: Transaction;
  writer: EntryWriter;
  entries: Iterator<void>;
}

class Channel {
  readonly status: Int32Array;
  readonly env: RootDatabase;
  readonly raw: Database<Buffer, Buffer>;
  readonly rawValues: Database<Buffer, KeyPart[]>;
  readonly decoder: { decode(b: Uint8Array): unknown };
  /** Requests are handled strictly in order per channel; a snapshot waits for the writes queued before it. */
  queue: Promise<void> = Promise.resolve();
  readonly snapshots = new Map<number, SnapshotRun>();

  constructor(
    path: string,
    readonly statusBuffer: SharedArrayBuffer,
  ) {
    this.status = new Int32Array(statusBuffer);
    // eventTurnBatching off: with it (lmdb-js 3.5.6's default) an async write can lose its commit,
    // so that the promise of a batch's last put never settles (FACTS.md: 64 messages of about 780
    // puts hung in about half the rounds; restores of that size hung the task thread). Without it
    // lmdb-js still groups the writes queued so far into one transaction (txnStartThreshold), and
    // the same test ran clean (test/unit/state/lmdb-writer.test.ts). Synchronous transactions would
    // avoid the async queue altogether, but lmdb-js 3.5.6's sync removeSync missed existing keys
    // there (some 31-byte ordered keys), so the async path stays.
    this.env = open({ path, ...ENVIRONMENT_OPTIONS, eventTurnBatching: false });
    const db = this.env.openDB<unknown, KeyPart[]>('state', {});
    this.raw = this.env.openDB<Buffer, Buffer>('state', { keyEncoding: 'binary', encoding: 'binary' });
    this.rawValues = this.env.openDB<Buffer, KeyPart[]>('state', { encoding: 'binary' });
    this.decoder = (db as unknown as { decoder: { decode(b: Uint8Array): unknown } }).decoder;
  }

  fail(e: unknown): void {
    const msg = Buffer.from(String((e as Error)?.stack ?? e)).subarray(0, this.statusBuffer.byteLength - 16);
    new Uint8Array(this.statusBuffer, 16).set(msg);
    Atomics.store(this.status, 2, msg.length);
    Atomics.store(this.status, 1, 1);
    Atomics.notify(this.status, 0);
  }

  /** The last write of the last batch handed to lmdb-js; resolves once it is committed. */
  lastWrite: Promise<unknown> = Promise.resolve();

  /** Batch `gen` is committed once its last write is (lmdb-js commits writes in order). */
  published(gen: number, last: Promise<unknown> | undefined): void {
    this.lastWrite = (last ?? this.lastWrite).then(
      () => {
        Atomics.store(this.status, 0, gen);
        Atomics.notify(this.status, 0);
      },
      (e: unknown) => this.fail(e),
    );
  }

  applyEntries(gen: number, entries: Uint8Array): void {
    let last: Promise<unknown> | undefined;
    const raw = this.raw;
    forEachEntry(Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength), (key, value) => {
      last = raw.put(key, value);
    });
    this.published(gen, last);
  }

  /**
   * Hands the batch to lmdb-js as async puts and deletes: lmdb-js applies them in order, natively
   * and in large transactions; the batch is published as committed when its last write resolves.
   */
  applyBatch(gen: number, batch: Uint8Array): void {
    let last: Promise<unknown> | undefined;
    const raw = this.raw;
    forEachWrite(batch, (op, key, value) => {
      last = op === PUT ? raw.put(key, value!) : raw.remove(key);
    });
    this.published(gen, last);
  }

  *snapshotEntries(txn: Transaction, range: KeyGroupRange, ttlNames: string[], now: number, w: EntryWriter): Iterator<void> {
    const ttl = new Set(ttlNames);
    const decoder = this.decoder;
    let n = 0;
    for (let kg = range.start; kg <= range.end; kg++) {
      w.beginKeyGroup(kg);
      for (const { key, value } of this.rawValues.getRange({ ...prefixRange([kg]), transaction: txn } as never) as Iterable<{ key: KeyPart[]; value: Buffer }>) {
        // Expired TTL entries (all stored as [expiresAt, value]) are left out: compaction on snapshot.
        if (ttl.size > 0 && ttl.has(key[1] as string) && (decoder.decode(value) as [number])[0] <= now) continue;
        w.add(encodeKeyView(key), value); // copied into the chunk at once
        if (++n % 4096 === 0) yield;
      }
      w.endKeyGroup();
    }
  }

  pull(id: number): void {
    const run = this.snapshots.get(id);
    if (!run) {
      port.postMessage({ type: 'snapshot-failed', id, message: 'the snapshot was cancelled or its backend closed' } satisfies WriterResponse);
      return;
    }
    try {
      let ready = run.writer.takeReady();
      let done = false;
      while (ready.length === 0) {
        if (run.entries.next().done) {
          ready = run.writer.finish();
          done = true;
          break;
        }
        ready = run.writer.takeReady();
      }
      if (done) {
        run.txn.done();
        this.snapshots.delete(id);
      }
      const chunks = ready.map((c) => new Uint8Array(c));
      const msg: WriterResponse = { type: 'chunks', id, chunks, done, ...(done ? { blocks: run.writer.blocks } : {}) };
      port.postMessage(msg, chunks.map((c) => c.buffer as ArrayBuffer));
    } catch (e) {
      this.snapshots.delete(id);
      port.postMessage({ type: 'snapshot-failed', id, message: (e as Error).message } satisfies WriterResponse);
    }
  }

  async handle(m: Exclude<WriterRequest, { type: 'open' } | { type: 'exit' } | { type: 'crash' }>): Promise<void> {
    switch (m.type) {
      case 'batch':
        this.applyBatch(m.gen, m.batch);
        break;
      case 'entries':
        this.applyEntries(m.gen, m.entries);
        break;
      case 'snapshot': {
        await this.lastWrite;
        const txn = this.env.useReadTransaction();
        const writer = new EntryWriter();
        this.snapshots.set(m.id, { txn, writer, entries: this.snapshotEntries(txn, m.range, m.ttlNames, m.now, writer) });
        break;
      }
      case 'pull':
        this.pull(m.id);
        break;
      case 'cancel': {
        // The file could not be written: release the read transaction, or LMDB keeps every page it sees.
        this.snapshots.get(m.id)?.txn.done();
        this.snapshots.delete(m.id);
        break;
      }
      case 'close':
        await this.lastWrite;
        for (const run of this.snapshots.values()) run.txn.done();
        this.snapshots.clear();
        await this.env.close();
        port.postMessage({ type: 'closed', ch: m.ch } satisfies WriterResponse);
        break;
    }
  }
}

const port = (workerData as SiblingThreadData).port;
const channels = new Map<number, Channel>();

process.on('uncaughtException', (e) => {
  port.postMessage({ type: 'crashed', message: String(e?.stack ?? e) } satisfies WriterResponse);
  process.exit(1);
});

// The processing thread ended (terminated, or done with this thread): close every environment, then
// end this thread from here, outside any native call.
port.on('close', () => {
  const closing = [...channels.values()].map((c) => c.queue.then(() => c.lastWrite).catch(() => {}).then(() => c.env.close()).catch(() => {}));
  channels.clear();
  void Promise.all(closing).then(() => process.exit(0));
});

// Tells the processing thread that lmdb's native module is loaded (a warm start waits for it:
// waitForWriterThreadLoaded in writer-client.ts).
port.postMessage({ type: 'loaded' } satisfies WriterResponse);

port.on('message', (m: WriterRequest) => {
  if (m.type === 'exit') {
    port.close();
    return;
  }
  if (m.type === 'crash') {
    process.exit(1);
    return;
  }
  if (m.type === 'open') {
    try {
      channels.set(m.ch, new Channel(m.path, m.status));
      const status = new Int32Array(m.status);
      Atomics.store(status, 3, 1);
      Atomics.notify(status, 0);
    } catch (e) {
      const status = new Int32Array(m.status);
      const msg = Buffer.from(String((e as Error)?.stack ?? e)).subarray(0, m.status.byteLength - 16);
      new Uint8Array(m.status, 16).set(msg);
      Atomics.store(status, 2, msg.length);
      Atomics.store(status, 1, 1);
      Atomics.notify(status, 0);
    }
    return;
  }
  const c = channels.get(m.ch);
  if (!c) {
    if (m.type === 'pull') port.postMessage({ type: 'snapshot-failed', id: m.id, message: 'the state backend was disposed while the snapshot was written' } satisfies WriterResponse);
    if (m.type === 'close') port.postMessage({ type: 'closed', ch: m.ch } satisfies WriterResponse);
    return;
  }
  if (m.type === 'close') channels.delete(m.ch);
  c.queue = c.queue
    .then(() => c.handle(m))
    .catch((e: unknown) => {
      c.fail(e);
      if (m.type === 'close') port.postMessage({ type: 'closed', ch: m.ch } satisfies WriterResponse);
    });
});
