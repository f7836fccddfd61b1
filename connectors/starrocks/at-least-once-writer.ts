/**
 * The at-least-once writer: plain Stream Loads (`/api/{db}/{table}/_stream_load`), one per full
 * buffer, per flush interval and per barrier, each under its own label. A load whose answer is lost
 * is sent again under the same label: "Label Already Exists" with ExistingJobStatus FINISHED means
 * the first one went through, so it counts as done (no duplicate); RUNNING means wait for the label
 * to finish. After a restore the records since the last checkpoint are loaded again (at-least-once;
 * on a Primary Key table the upserts make that idempotent).
 */
import { randomBytes } from 'node:crypto';
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink/contract.ts';
import { StarRocksError, type StarRocksAnswer } from './errors.ts';
import type { StreamLoadClient } from './http-client.ts';
import { LoadBuffer } from './buffer.ts';
import { flushLabel } from './labels.ts';
import type { ResolvedOptions } from './options.ts';

const LABEL_WAIT_MS = 50;

export class AtLeastOnceWriter<T> implements SinkWriter<T, never> {
  private readonly buffer: LoadBuffer;
  /** A fresh id per writer start: labels of a restarted writer never collide with the last run's. */
  private readonly runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  private flushes = 0;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly client: StreamLoadClient,
    private readonly ctx: SinkWriterContext,
  ) {
    this.buffer = new LoadBuffer(o);
  }

  async write(values: readonly T[]): Promise<void> {
    for (let i = 0; i < values.length; ) {
      const n = this.buffer.room();
      this.buffer.add(values.slice(i, i + n));
      i += n;
      if (this.buffer.full()) await this.flush();
    }
    if (this.buffer.rows > 0 && Date.now() - this.buffer.firstAt >= this.o.flushIntervalMs) await this.flush();
  }

  prepareCommit(): Promise<never[]> {
    return this.flush().then(() => []);
  }

  private async flush(): Promise<void> {
    if (this.buffer.rows === 0) return;
    const label = flushLabel(this.o.labelPrefix, this.o.table, this.ctx.subtaskIndex, this.runId, ++this.flushes);
    const { body, rows } = this.buffer.take();
    const headers = { ...this.buffer.headers, label, timeout: String(this.o.transactionTimeoutS) };
    let answer: StarRocksAnswer | undefined;
    for (let attempt = 1; attempt <= this.o.retry.attempts; attempt++) {
      answer = await this.client.streamLoad(this.o.database, this.o.table, headers, body);
      if (await this.done(label, answer)) {
        this.ctx.metrics.count('starrocks-loads');
        this.ctx.metrics.count('starrocks-rows', rows);
        this.ctx.metrics.count('starrocks-bytes', Buffer.byteLength(body));
        return;
      }
      if (answer.ErrorURL !== undefined || (answer.NumberFilteredRows ?? 0) > 0) break; // rejected rows: sending them again does not help
      this.ctx.metrics.count('starrocks-retries');
      await new Promise((r) => setTimeout(r, Math.min(this.o.retry.backoffMs * 2 ** (attempt - 1), this.o.retry.maxBackoffMs)));
    }
    throw new StarRocksError('Stream Load', label, answer, answer?.ErrorURL ? 'rows were rejected: see ErrorURL, fix the records or the table' : 'the job restarts from its last checkpoint and loads these rows again', { retriable: !answer?.ErrorURL });
  }

  /** Whether the load under `label` is in (now or from an earlier send of the same label). */
  private async done(label: string, answer: StarRocksAnswer): Promise<boolean> {
    if (answer.Status === 'Success' || answer.Status === 'OK' || answer.Status === 'Publish Timeout') return true;
    if (answer.Status !== 'Label Already Exists') return false;
    if (answer.ExistingJobStatus === 'FINISHED') return true;
    // RUNNING: an earlier send is still being loaded; its outcome decides.
    for (;;) {
      const state = await this.client.labelState(this.o.database, label);
      if (state === 'VISIBLE' || state === 'COMMITTED') return true;
      if (state === 'ABORTED' || state === 'UNKNOWN') return false;
      await new Promise((r) => setTimeout(r, LABEL_WAIT_MS));
    }
  }
}
