/**
 * The sink workload shared by the unit (local disk) and integration (S3) tests: a seeded random mix
 * of inserts, updates and deletes through TableWriter/TableCommit, with failures injected at every
 * step of the two-phase commit, checked against an in-memory model.
 */
import { expect } from 'vitest';
import {
  Catalog, TableWriter, TableCommit, readTable, compactTable, FileStoreTable, T, DELETE, UPDATE_AFTER,
  type CommitMessage, type FileIO, type FileStatus,
} from '../../../connectors/lake/index.ts';
import { rng, sortedText } from './helpers.ts';

export class InjectedFailure extends Error {}

/** Wraps a FileIO and fails one chosen write, before or after the bytes land. */
export class FaultyFileIO implements FileIO {
  private rule: { match: RegExp; after: boolean } | null = null;
  constructor(private readonly inner: FileIO) {}
  get atomicCreate(): boolean { return this.inner.atomicCreate; }
  failNext(match: RegExp, after = false): void { this.rule = { match, after }; }
  get armed(): boolean { return this.rule !== null; }
  disarm(): void { this.rule = null; }
  private async guard<R>(path: string, op: () => Promise<R>): Promise<R> {
    const rule = this.rule;
    if (!rule || !rule.match.test(path)) return op();
    this.rule = null;
    if (!rule.after) throw new InjectedFailure(`injected failure before writing ${path}`);
    await op();
    throw new InjectedFailure(`injected failure after writing ${path}`);
  }
  write(path: string, data: Uint8Array | string): Promise<void> { return this.guard(path, () => this.inner.write(path, data)); }
  writeIfAbsent(path: string, data: Uint8Array | string): Promise<boolean> { return this.guard(path, () => this.inner.writeIfAbsent(path, data)); }
  read(path: string): Promise<Uint8Array> { return this.inner.read(path); }
  readRange(path: string, offset: number, length: number): Promise<Uint8Array> { return this.inner.readRange(path, offset, length); }
  exists(path: string): Promise<boolean> { return this.inner.exists(path); }
  list(dir: string): Promise<FileStatus[]> { return this.inner.list(dir); }
  listRecursive(dir: string): Promise<FileStatus[]> { return this.inner.listRecursive(dir); }
  delete(path: string): Promise<void> { return this.inner.delete(path); }
  size(path: string): Promise<number | null> { return this.inner.size(path); }
}

type Op = { key: number; part: string; kind: number; row: unknown[] };

export interface SinkWorkloadOptions {
  /** extra table options, e.g. deletion-vectors.enabled */
  options?: Record<string, string>;
  /** compact every this many checkpoints (default 13) */
  compactEvery?: number;
}

/** Runs `checkpoints` checkpoints into table db.t of the catalog (created here) and checks it. */
export async function runSinkWorkload(cat: Catalog, io: FaultyFileIO, checkpoints = 40, wopts: SinkWorkloadOptions = {}): Promise<{ compactions: number; compactionFailures: number }> {
  await cat.createTable('db', 't', {
    fields: [{ name: 'id', type: T.int() }, { name: 'part', type: T.string() }, { name: 'v', type: T.bigint() }, { name: 's', type: T.string() }],
    primaryKeys: ['part', 'id'], partitionKeys: ['part'], options: { bucket: '3', ...(wopts.options ?? {}) },
  });
  const compactEvery = wopts.compactEvery ?? 13;
  let compactions = 0;
  let compactionFailures = 0;
  // every file of a compaction commit, in turn: data file, index file, manifest, index manifest, snapshot (before and after)
  const compactionFaults: Array<[RegExp, boolean] | null> = [
    null, [/\/bucket-\d+\/data-/, false], null, [/\/index\/index-/, false], null, [/\/manifest\/manifest-/, false],
    null, [/\/manifest\/index-manifest-/, false], null, [/\/snapshot\/snapshot-\d+$/, false], null, [/\/snapshot\/snapshot-\d+$/, true],
  ];
  /** every level, merged on read: what the table holds whether or not batch reads see level 0 yet */
  const readAll = async () => readTable(table, { allLevels: true });
  const open = async () => FileStoreTable.open(cat.tablePath('db', 't'), { io, lock: cat.lock });
    const random = rng(20261121);
    const commitUser = 'sink-job-1';
    const model = new Map<string, unknown[]>();
    const applyOps = (ops: Op[]) => {
      for (const op of ops) {
        const k = `${op.part}/${op.key}`;
        if (op.kind === DELETE) model.delete(k);
        else model.set(k, op.row);
      }
    };
    /** checkpoint state: prepared but maybe not committed */
    let pending: Array<{ id: number; messages: CommitMessage[]; ops: Op[] }> = [];
    let table = await open();
    let writer = new TableWriter(table);
    let committer = new TableCommit(table, commitUser);
    let unflushed: Op[] = [];
    const failures = { betweenPrepareAndCommit: 0, beforeSnapshot: 0, afterSnapshot: 0, inDataFile: 0, inManifest: 0 };

    const restart = async () => {
      table = await open();
      writer = new TableWriter(table);
      committer = new TableCommit(table, commitUser);
      // a restarted sink commits what its last checkpoint prepared, then replays the source
      const todo = await committer.filterCommitted(pending.map((p) => p.id));
      for (const p of pending) if (todo.includes(p.id)) await committer.commit(p.id, p.messages);
      for (const p of pending) applyOps(p.ops);
      pending = [];
      for (const op of unflushed) writer.write(op.row, op.kind);
    };

    for (let checkpoint = 1; checkpoint <= checkpoints; checkpoint++) {
      for (let i = 0; i < 40; i++) {
        const key = Math.floor(random() * 60);
        const part = random() < 0.5 ? 'a' : 'b';
        const k = `${part}/${key}`;
        const exists = model.has(k) || unflushed.some((o) => `${o.part}/${o.key}` === k);
        const kind = exists && random() < 0.3 ? DELETE : exists ? UPDATE_AFTER : 0;
        const row = [key, part, BigInt(Math.floor(random() * 1e12)), `s${checkpoint}-${i}`];
        writer.write(row, kind);
        unflushed.push({ key, part, kind, row });
      }
      // every kind of failure, in turn, with clean checkpoints between them
      const dice = [0.05, 0.9, 0.15, 0.25, 0.9, 0.35, 0.42, 0.9][checkpoint % 8]!;
      let messages: CommitMessage[];
      try {
        if (dice < 0.1) { io.failNext(/\/bucket-\d+\/data-/); failures.inDataFile++; }
        messages = await writer.prepareCommit();
      } catch (e) {
        expect(e).toBeInstanceOf(InjectedFailure);
        await restart();
        continue;
      }
      pending.push({ id: checkpoint, messages, ops: unflushed });
      unflushed = [];
      if (dice >= 0.1 && dice < 0.2) { failures.betweenPrepareAndCommit++; await restart(); continue; }
      try {
        if (dice >= 0.2 && dice < 0.3) { io.failNext(/\/snapshot\/snapshot-\d+$/); failures.beforeSnapshot++; }
        else if (dice >= 0.3 && dice < 0.4) { io.failNext(/\/snapshot\/snapshot-\d+$/, true); failures.afterSnapshot++; }
        else if (dice >= 0.4 && dice < 0.45) { io.failNext(/\/manifest\/manifest-/); failures.inManifest++; }
        await committer.commit(checkpoint, messages);
        applyOps(pending.flatMap((p) => p.ops));
        pending = [];
      } catch (e) {
        expect(e).toBeInstanceOf(InjectedFailure);
        await restart();
      }
      if (checkpoint % compactEvery === 0) {
        const fault = compactionFaults[compactions % compactionFaults.length];
        compactions++;
        if (fault) io.failNext(fault[0], fault[1]);
        try {
          await compactTable(table);
        } catch (e) {
          expect(e).toBeInstanceOf(InjectedFailure);
          compactionFailures++;
        }
        io.disarm(); // a fault whose file this round did not write
        if (pending.length === 0) {
          // compacted (or not, after a failure): a batch read sees every row unless level-0 files wait
          const live = await table.liveEntries((await table.snapshots.latest())!);
          if (!table.options.batchScanSkipLevel0 || live.every((e) => e.file.level > 0)) {
            expect(sortedText(await readTable(table))).toEqual(sortedText([...model.values()]));
          }
        }
      }
      expect(io.armed).toBe(false);
      if (pending.length === 0) {
        expect(sortedText(await readAll())).toEqual(sortedText([...model.values()]));
      }
    }
    await restart();
    expect(sortedText(await readAll())).toEqual(sortedText([...model.values()]));
    await compactTable(table);
    expect(sortedText(await readTable(table))).toEqual(sortedText([...model.values()]));
    // snapshot ids without gaps; each checkpoint of the sink committed at most once
    const ids = await table.snapshots.listIds();
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const committed: number[] = [];
    for (const id of ids) {
      const s = await table.snapshots.snapshot(id);
      if (s.commitUser === commitUser) committed.push(Number(s.commitIdentifier));
    }
    expect(new Set(committed).size).toBe(committed.length);
    expect(committed).toEqual([...committed].sort((a, b) => a - b));
    // every kind of failure happened
    expect(Object.values(failures).every((n) => n > 0)).toBe(true);
    return { compactions, compactionFailures };
}
