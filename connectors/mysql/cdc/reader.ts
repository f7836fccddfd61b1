/**
 * The MySQL CDC reader (one per source subtask). It reads the snapshot chunks it is given, one at a
 * time in the background, and emits each chunk whole in one poll, so a checkpoint barrier never
 * falls inside a chunk: a chunk is either in the output entirely (and finished, with its position)
 * or not at all (read again after a restore). After each chunk it asks the enumerator for the next
 * one and reports the finished chunk's binlog position. Finished chunks stay in its state (a few
 * bytes each) and are reported again after a restore: the report is not ordered with the
 * checkpoint, so the enumerator's snapshot may have missed it.
 *
 * The reader that gets the binlog split reads the binlog (binlog-reader.ts).
 */
import type { PollStatus, ReaderOutput, SourceReader, SourceReaderContext } from '../../../runtime/source/contract.ts';
import { WeirError, ExternalError } from '../../../runtime/errors.ts';
import { BinlogReading } from './binlog-reader.ts';
import { RecordMaker } from './records.ts';
import { ChunkReader, type ChunkResult } from './snapshot-reader.ts';
import type { BinlogSplit, CdcRecord, ChunkFinishedEvent, MySqlCdcOptions, MySqlCdcSplit, SnapshotSplit } from './types.ts';

export class MySqlCdcReader implements SourceReader<CdcRecord, MySqlCdcSplit> {
  private readonly maker: RecordMaker;
  private readonly chunks: SnapshotSplit[] = [];
  private readonly finished: SnapshotSplit[] = [];
  private readonly toRelease: string[] = [];
  private readonly chunkReader: ChunkReader;
  private reading: Promise<void> | null = null;
  /** Chunks read and not yet emitted, by id: the reader reads ahead while the head chunk waits. */
  private readonly results = new Map<string, ChunkResult>();
  private error: WeirError | null = null;
  private binlog: BinlogReading | null = null;
  private wake: (() => void) | null = null;
  private asked = false;

  constructor(
    private readonly ctx: SourceReaderContext,
    private readonly options: MySqlCdcOptions,
  ) {
    this.maker = new RecordMaker(options);
    this.chunkReader = new ChunkReader(options, this.maker);
  }

  addSplits(splits: readonly MySqlCdcSplit[]): void {
    for (const s of splits) {
      if (s.kind === 'binlog') this.startBinlog(s);
      else if (s.finishedAt) {
        // restored: finished before the checkpoint; report it again
        this.finished.push({ ...s });
        this.toRelease.push(s.id);
        this.report(s);
      } else this.chunks.push({ ...s });
    }
    this.asked = false;
    this.wakeUp();
  }

  private startBinlog(s: BinlogSplit): void {
    if (this.binlog) throw new WeirError('MySQL CDC reader got a second binlog split', { domain: 'internal' });
    // The binlog split carries every finished chunk: this reader's own reports are no longer needed.
    this.finished.length = 0;
    this.binlog = new BinlogReading(s, this.options, this.maker);
    this.binlog.start();
  }

  private report(s: SnapshotSplit): void {
    const event: ChunkFinishedEvent = { type: 'chunk-finished', id: s.id, chunk: { table: s.table, lo: s.lo, hi: s.hi }, at: s.finishedAt! };
    if (!this.ctx.sendSourceEvent) throw new WeirError('the MySQL CDC source needs a runtime with source events (SourceReaderContext.sendSourceEvent)', { domain: 'internal' });
    this.ctx.sendSourceEvent(event);
  }

  notifyNoMoreSplits(): void {}

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  poll(output: ReaderOutput<CdcRecord>, max: number): PollStatus {
    if (this.error) throw this.error;
    while (this.toRelease.length > 0) output.releaseSplit(this.toRelease.pop()!);
    let emitted = 0;
    const head = this.chunks[0];
    const read = head && this.results.get(head.id);
    if (head && read) {
      // The whole chunk in one poll: no barrier inside it.
      const out = output.forSplit(head.id);
      for (const r of read.records) out.collect(r);
      emitted += read.records.length;
      head.finishedAt = read.at;
      this.results.delete(head.id);
      this.chunks.shift();
      this.finished.push(head);
      output.releaseSplit(head.id);
      this.report(head);
    }
    this.startChunkRead();
    // Ask for the next chunk while this one is read or emitted (one chunk of look-ahead).
    if (this.chunks.length < 2 && !this.asked && !this.binlog) {
      this.asked = true;
      this.ctx.sendSplitRequest();
    }
    if (this.binlog) {
      const out = output.forSplit('binlog');
      emitted += this.binlog.drain((r) => out.collect(r), Math.max(1, max - emitted));
    }
    const ready = this.chunks.length > 0 && this.results.has(this.chunks[0]!.id);
    return emitted > 0 || (this.binlog?.buffered ?? 0) > 0 || ready ? 'more' : 'wait';
  }

  /** Reads the first chunk not read yet (one at a time: one connection). */
  private startChunkRead(): void {
    if (this.reading) return;
    const next = this.chunks.find((c) => !this.results.has(c.id));
    if (!next || this.results.size >= 2) return;
    const head = next;
    this.reading = this.chunkReader.read(head).then(
      (r) => {
        this.results.set(head.id, r);
        this.reading = null;
        this.startChunkRead();
        this.wakeUp();
      },
      (e) => {
        this.reading = null;
        this.error = e instanceof WeirError ? e : new ExternalError(`MySQL CDC: reading chunk ${head.id} failed: ${(e as Error).message}`, { cause: e });
        this.wakeUp();
      },
    );
  }

  available(): Promise<void> {
    if (this.error || (this.chunks.length > 0 && this.results.has(this.chunks[0]!.id))) return Promise.resolve();
    const waits: Promise<void>[] = [new Promise<void>((r) => (this.wake = r))];
    if (this.binlog) waits.push(this.binlog.available());
    return Promise.race(waits);
  }

  snapshotState(): MySqlCdcSplit[] {
    // A finished chunk is kept only to be reported again: its range and position, not its schema.
    const finished = this.finished.map((s) => ({ ...s, schema: { table: s.table, columns: [], primaryKeys: [] } }));
    const out: MySqlCdcSplit[] = [...finished, ...this.chunks.map((s) => ({ ...s }))];
    if (this.binlog) out.push(this.binlog.snapshot());
    return out;
  }

  async close(): Promise<void> {
    await this.reading?.catch(() => {});
    await this.chunkReader.close();
    await this.binlog?.close();
  }
}
