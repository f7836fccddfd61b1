/**
 * The LMDB writer thread of one keyed state backend (a worker started through
 * runtime/cluster/worker-boot.mjs). It applies write batches in the order they were sent, one
 * transaction each, and publishes the last committed batch number in shared memory, so the
 * processing thread can tell without the event loop which buffered writes LMDB now holds. It also
 * writes snapshots: a snapshot request is queued behind the batches sent before it, so the read
 * transaction it opens is exactly the state at the snapshot() call; the entries are then read in
 * slices between later batches and handed out as file chunks on request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open, type Transaction } from 'lmdb';
import { type KeyPart, encodeKeyBytes, prefixRange } from '../layout.ts';
import { EntryWriter, forEachEntry } from '../snapshot/entry-file.ts';
import type { KeyGroupRange } from '../key-groups.ts';
import { PUT, forEachWrite } from './write-batch.ts';

export interface WriterData {
  entry: string;
  path: string;
  /** Int32 [0]: last committed batch; [1]: 1 after a failure; [2]: length of the UTF-8 message at byte 16. */
  status: SharedArrayBuffer;
}

export type WriterRequest =
  | { type: 'batch'; gen: number; batch: Uint8Array }
  /** Entries of a snapshot block (snapshot/entry-file.ts format) to put, numbered like a batch. */
  | { type: 'entries'; gen: number; entries: Uint8Array }
  | { type: 'snapshot'; id: number; range: KeyGroupRange; ttlNames: string[]; now: number }
  | { type: 'pull'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'close' };

export type WriterResponse =
  | { type: 'chunks'; id: number; chunks: Uint8Array[]; done: boolean; blocks?: EntryWriter['blocks'] }
  | { type: 'snapshot-failed'; id: number; message: string }
  | { type: 'closed' };

const data = workerData as WriterData;
const status = new Int32Array(data.status);
const env = open({ path: data.path, noSync: true, noMetaSync: true, maxDbs: 4, cache: false });
const db = env.openDB<unknown, KeyPart[]>('state', {});
const raw = env.openDB<Buffer, Buffer>('state', { keyEncoding: 'binary', encoding: 'binary' });
const rawValues = env.openDB<Buffer, KeyPart[]>('state', { encoding: 'binary' });
const decoder = (db as unknown as { decoder: { decode(b: Uint8Array): unknown } }).decoder;

function fail(e: unknown): void {
  const msg = Buffer.from(String((e as Error)?.stack ?? e)).subarray(0, data.status.byteLength - 16);
  new Uint8Array(data.status, 16).set(msg);
  Atomics.store(status, 2, msg.length);
  Atomics.store(status, 1, 1);
  Atomics.notify(status, 0);
}

function applyEntries(gen: number, entries: Uint8Array): void {
  let last: Promise<unknown> | undefined;
  forEachEntry(Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength), (key, value) => {
    last = raw.put(key, value);
  });
  published(gen, last);
}

function published(gen: number, last: Promise<unknown> | undefined): void {
  lastWrite = (last ?? lastWrite).then(
    () => {
      Atomics.store(status, 0, gen);
      Atomics.notify(status, 0);
    },
    (e: unknown) => fail(e),
  );
}

/** The last write of the last batch handed to lmdb-js; resolves once it is committed. */
let lastWrite: Promise<unknown> = Promise.resolve();

/**
 * Hands the batch to lmdb-js as async puts and deletes: lmdb-js applies them in order, natively
 * and in large transactions; the batch is published as committed when its last write resolves.
 */
function applyBatch(gen: number, batch: Uint8Array): void {
  let last: Promise<unknown> | undefined;
  forEachWrite(batch, (op, key, value) => {
    last = op === PUT ? raw.put(key, value!) : raw.remove(key);
  });
  published(gen, last);
}

interface SnapshotRun {
  txn: Transaction;
  writer: EntryWriter;
  entries: Iterator<void>;
}

const snapshots = new Map<number, SnapshotRun>();

function* snapshotEntries(txn: Transaction, range: KeyGroupRange, ttlNames: string[], now: number, w: EntryWriter): Iterator<void> {
  const ttl = new Set(ttlNames);
  let n = 0;
  for (let kg = range.start; kg <= range.end; kg++) {
    w.beginKeyGroup(kg);
    for (const { key, value } of rawValues.getRange({ ...prefixRange([kg]), transaction: txn } as never) as Iterable<{ key: KeyPart[]; value: Buffer }>) {
      // Expired TTL entries (all stored as [expiresAt, value]) are left out: compaction on snapshot.
      if (ttl.size > 0 && ttl.has(key[1] as string) && (decoder.decode(value) as [number])[0] <= now) continue;
      w.add(encodeKeyBytes(key), value);
      if (++n % 4096 === 0) yield;
    }
    w.endKeyGroup();
  }
}

function pull(id: number): void {
  const run = snapshots.get(id);
  if (!run) return;
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
      snapshots.delete(id);
    }
    const chunks = ready.map((c) => new Uint8Array(c));
    const msg: WriterResponse = { type: 'chunks', id, chunks, done, ...(done ? { blocks: run.writer.blocks } : {}) };
    parentPort!.postMessage(msg, chunks.map((c) => c.buffer as ArrayBuffer));
  } catch (e) {
    snapshots.delete(id);
    parentPort!.postMessage({ type: 'snapshot-failed', id, message: (e as Error).message } satisfies WriterResponse);
  }
}

/** Requests are handled strictly in order; a snapshot waits for the writes queued before it. */
let queue: Promise<void> = Promise.resolve();

async function handle(m: WriterRequest): Promise<void> {
  switch (m.type) {
    case 'batch':
      applyBatch(m.gen, m.batch);
      break;
    case 'entries':
      applyEntries(m.gen, m.entries);
      break;
    case 'snapshot': {
      await lastWrite;
      const txn = env.useReadTransaction();
      const writer = new EntryWriter();
      snapshots.set(m.id, { txn, writer, entries: snapshotEntries(txn, m.range, m.ttlNames, m.now, writer) });
      break;
    }
    case 'pull':
      pull(m.id);
      break;
    case 'cancel': {
      // The file could not be written: release the read transaction, or LMDB keeps every page it sees.
      snapshots.get(m.id)?.txn.done();
      snapshots.delete(m.id);
      break;
    }
    case 'close':
      await lastWrite;
      for (const run of snapshots.values()) run.txn.done();
      snapshots.clear();
      await env.close();
      parentPort!.postMessage({ type: 'closed' } satisfies WriterResponse);
      parentPort!.close();
      break;
  }
}

parentPort!.on('message', (m: WriterRequest) => {
  queue = queue.then(() => handle(m)).catch((e: unknown) => fail(e));
});
