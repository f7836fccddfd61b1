/**
 * Lookup join against an external table with async I/O (Flink's AsyncWaitOperator plus a lookup
 * cache). Each record's key is looked up; the record is emitted joined with each row found (or with
 * null in a left join when there is none).
 *
 *  - capacity: at most this many lookups in flight per subtask; processBatch waits for a free slot,
 *    which back-pressures the input.
 *  - ordered mode emits in input order; unordered emits as lookups complete. In both, no record
 *    crosses a watermark, a checkpoint barrier or the end of input: those hooks wait until every
 *    lookup in flight has completed and been emitted, so nothing is in flight when state is
 *    snapshotted (the output before a barrier is exactly that of the input before it).
 *  - each attempt times out after `timeoutMs`; failed attempts are retried with exponential backoff;
 *    when the attempts are used up the job fails with an error naming the table, key and setting.
 *  - completions arrive outside the task's mailbox, so results are emitted only from inside a hook
 *    or from a mail scheduled for that (never concurrently with the rest of the chain).
 *
 * Metrics: lookup-cache-hits, lookup-cache-misses (hit rate = hits / (hits + misses)),
 * lookup-retries, lookup-timeouts, lookup-queries, lookup-cache-reloads.
 */
import { ConfigError, ExternalError, describeRecord, userFunctionError, BadRecordError } from '../../runtime/errors.ts';
import { isStateKey, type StateKey } from '../../state/key-groups.ts';
import type { Operator, OperatorContext, Output } from '../operator.ts';
import { FullCache, PartialCache, validateCacheOptions, type LookupCacheOptions } from './lookup-cache.ts';
import type { LookupClient, LookupTable } from './lookup-table.ts';

export interface LookupRetry {
  /** Tries per lookup, the first included (default 3). */
  attempts: number;
  /** Wait before the second try; doubles each time (default 100 ms) ... */
  backoffMs: number;
  /** ... up to this (default 5000 ms). */
  maxBackoffMs: number;
}

export interface AsyncLookupSpec<T, K extends StateKey, D, R> {
  table: LookupTable<K, D>;
  key(value: T): K;
  join(value: T, row: D | null): R;
  kind: 'inner' | 'left';
  mode: 'ordered' | 'unordered';
  capacity: number;
  timeoutMs: number;
  retry: LookupRetry;
  cache: LookupCacheOptions;
}

export function validateLookupSpec(spec: AsyncLookupSpec<never, StateKey, unknown, unknown>): void {
  const t = spec.table.name;
  if (!(Number.isInteger(spec.capacity) && spec.capacity > 0)) throw new ConfigError('lookup.capacity', `lookup of table '${t}': must be a whole number > 0, got ${spec.capacity}`);
  if (!(spec.timeoutMs > 0)) throw new ConfigError('lookup.timeoutMs', `lookup of table '${t}': must be > 0 ms, got ${spec.timeoutMs}`);
  if (!(Number.isInteger(spec.retry.attempts) && spec.retry.attempts >= 1)) throw new ConfigError('lookup.retry.attempts', `lookup of table '${t}': must be a whole number >= 1, got ${spec.retry.attempts}`);
  if (!(spec.retry.backoffMs >= 0 && spec.retry.maxBackoffMs >= spec.retry.backoffMs)) {
    throw new ConfigError('lookup.retry.backoffMs', `lookup of table '${t}': need 0 <= backoffMs (${spec.retry.backoffMs}) <= maxBackoffMs (${spec.retry.maxBackoffMs})`);
  }
  if (spec.mode !== 'ordered' && spec.mode !== 'unordered') throw new ConfigError('lookup.mode', `lookup of table '${t}': '${String(spec.mode)}' is not a mode: use ordered or unordered`);
  if (spec.kind !== 'inner' && spec.kind !== 'left') throw new ConfigError('lookup.kind', `lookup of table '${t}': '${String(spec.kind)}' is not supported: use inner or left`);
  validateCacheOptions(t, spec.cache);
}

/** One record waiting for its lookup. */
interface Pending<T, D> {
  value: T;
  time: number;
  rows: D[] | undefined;
}

class LookupTimeout extends Error {}

export class AsyncLookupJoinOperator<T, K extends StateKey, D, R> implements Operator<T, R> {
  private ctx!: OperatorContext<R>;
  private out!: Output<R>;
  private client!: LookupClient<K, D>;
  private partial: PartialCache<D> | undefined;
  private full: FullCache<D> | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  /** Ordered mode: every record since the oldest not yet emitted; unordered: completed, not yet emitted. */
  private queue: Pending<T, D>[] = [];
  private head = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private drainScheduled = false;
  private closed = false;
  private hits = 0;
  private misses = 0;

  constructor(
    readonly name: string,
    private readonly spec: AsyncLookupSpec<T, K, D, R>,
  ) {
    validateLookupSpec(spec as unknown as AsyncLookupSpec<never, StateKey, unknown, unknown>);
  }

  async open(ctx: OperatorContext<R>): Promise<void> {
    this.ctx = ctx;
    this.out = ctx.output;
    const { cache, table } = this.spec;
    try {
      this.client = await table.connect();
    } catch (e) {
      throw new ExternalError(`lookup join '${this.name}' could not connect to table '${table.name}': ${(e as Error).message}`, { cause: e });
    }
    if (cache.kind === 'partial') this.partial = new PartialCache<D>(cache.maxRows, cache.ttlMs, cache.cacheMissingKeys, () => ctx.processingTime.now());
    if (cache.kind === 'full') {
      if (!this.client.scan) throw new ConfigError('lookup.cache.kind', `table '${table.name}' cannot be read whole, so it cannot have a full cache: use a partial cache`);
      this.full = new FullCache<D>();
      await this.reload();
      this.scheduleReload(cache.reloadIntervalMs);
    }
  }

  private async reload(): Promise<void> {
    let rows: Iterable<[K, D]>;
    try {
      rows = await this.client.scan!();
    } catch (e) {
      throw new ExternalError(`lookup join '${this.name}': reading all of table '${this.spec.table.name}' for the full cache failed: ${(e as Error).message}`, { cause: e });
    }
    this.full!.load(rows);
    this.ctx.metrics.count('lookup-cache-reloads');
  }

  private scheduleReload(every: number): void {
    this.reloadTimer = setTimeout(() => {
      if (this.closed) return;
      this.reload().then(
        () => this.scheduleReload(every),
        (e: unknown) => this.fail(e as Error),
      );
    }, every);
    this.reloadTimer.unref();
  }

  processBatch(values: readonly T[], times: ArrayLike<number>): void | Promise<void> {
    if (this.failure) throw this.failure;
    for (let i = 0; i < values.length; i++) {
      if (this.inFlight >= this.spec.capacity) return this.processRest(values.slice(i), Array.from(times).slice(i));
      this.add(values[i]!, times[i]!);
    }
    this.flushCounts();
    this.drain();
  }

  /** The slow path: the capacity is used up, so wait for free slots record by record. */
  private async processRest(values: T[], times: number[]): Promise<void> {
    for (let i = 0; i < values.length; i++) {
      while (this.inFlight >= this.spec.capacity) await this.nextCompletion();
      this.add(values[i]!, times[i]!);
    }
    this.flushCounts();
    this.drain();
  }

  private add(value: T, time: number): void {
    let key: K;
    try {
      key = this.spec.key(value);
    } catch (e) {
      throw userFunctionError(this.name, value, e);
    }
    if (!isStateKey(key)) throw new BadRecordError(`lookup join '${this.name}': the key selector returned ${describeRecord(key)}, not a string, number, boolean, bigint or tuple of them`, describeRecord(value));
    const cached = this.full ? this.full.get(key) : this.partial?.get(key);
    const ordered = this.spec.mode === 'ordered';
    if (cached !== undefined) {
      this.hits++;
      if (ordered && this.head < this.queue.length) this.queue.push({ value, time, rows: cached });
      else this.emit(value, time, cached);
      return;
    }
    this.misses++;
    const entry: Pending<T, D> = { value, time, rows: undefined };
    if (ordered) this.queue.push(entry);
    this.inFlight++;
    this.fetch(key).then(
      (rows) => {
        this.inFlight--;
        entry.rows = rows;
        this.partial?.put(key, rows);
        if (!ordered) this.queue.push(entry);
        this.completed();
      },
      (e: unknown) => {
        this.inFlight--;
        this.fail(e as Error);
      },
    );
  }

  private async fetch(key: K): Promise<D[]> {
    const { retry, timeoutMs, table } = this.spec;
    let last: unknown;
    for (let attempt = 1; attempt <= retry.attempts; attempt++) {
      if (attempt > 1) {
        this.ctx.metrics.count('lookup-retries');
        await sleep(Math.min(retry.backoffMs * 2 ** (attempt - 2), retry.maxBackoffMs));
        if (this.closed) break;
      }
      try {
        this.ctx.metrics.count('lookup-queries');
        return await withTimeout(this.client.lookup(key), timeoutMs);
      } catch (e) {
        if (e instanceof LookupTimeout) this.ctx.metrics.count('lookup-timeouts');
        last = e;
      }
    }
    const why = last instanceof LookupTimeout ? `timed out after ${timeoutMs} ms (lookup.timeoutMs)` : `failed: ${(last as Error)?.message ?? String(last)}`;
    return Promise.reject(
      new ExternalError(
        `lookup join '${this.name}': looking up key ${describeRecord(key)} in table '${table.name}' ${why}, ${retry.attempts} attempt(s) (lookup.retry.attempts); check that the table's server is reachable or raise lookup.timeoutMs / lookup.retry.attempts`,
        { cause: last },
      ),
    );
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.completed();
  }

  /** A lookup finished: wake a waiting hook, or have a mail emit what is ready. */
  private completed(): void {
    if (this.wake) {
      const w = this.wake;
      this.wake = undefined;
      w();
      return;
    }
    if (this.drainScheduled || this.closed) return;
    this.drainScheduled = true;
    this.ctx.processingTime.schedule(this.ctx.processingTime.now(), () => {
      this.drainScheduled = false;
      if (this.failure) throw this.failure;
      this.drain();
    });
  }

  private nextCompletion(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve)).then(() => {
      if (this.failure) throw this.failure;
    });
  }

  /** Emits every record whose turn has come. */
  private drain(): void {
    const q = this.queue;
    if (this.spec.mode === 'ordered') {
      let h = this.head;
      while (h < q.length && q[h]!.rows !== undefined) {
        const p = q[h]!;
        this.emit(p.value, p.time, p.rows!);
        h++;
      }
      if (h === q.length) {
        q.length = 0;
        this.head = 0;
      } else if (h > 1024 && h * 2 > q.length) {
        this.queue = q.slice(h);
        this.head = 0;
      } else this.head = h;
      return;
    }
    for (let i = 0; i < q.length; i++) this.emit(q[i]!.value, q[i]!.time, q[i]!.rows!);
    q.length = 0;
  }

  private emit(value: T, time: number, rows: D[]): void {
    const { join, kind } = this.spec;
    try {
      if (rows.length === 0) {
        if (kind === 'left') this.out.emit(join(value, null), time);
        return;
      }
      for (let j = 0; j < rows.length; j++) this.out.emit(join(value, rows[j]!), time);
    } catch (e) {
      throw userFunctionError(this.name, value, e);
    }
  }

  private flushCounts(): void {
    if (this.hits > 0) this.ctx.metrics.count('lookup-cache-hits', this.hits);
    if (this.misses > 0) this.ctx.metrics.count('lookup-cache-misses', this.misses);
    this.hits = 0;
    this.misses = 0;
  }

  /** Waits for every lookup in flight and emits everything. */
  private async flush(): Promise<void> {
    this.flushCounts();
    while (this.inFlight > 0) await this.nextCompletion();
    if (this.failure) throw this.failure;
    this.drain();
  }

  processWatermark(): void | Promise<void> {
    if (this.inFlight > 0) return this.flush();
    if (this.failure) throw this.failure;
    this.drain();
  }

  snapshotState(): Promise<void> {
    return this.flush();
  }

  endInput(): Promise<void> {
    return this.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    await this.client?.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<X>(p: Promise<X>, ms: number): Promise<X> {
  return new Promise<X>((resolve, reject) => {
    const t = setTimeout(() => reject(new LookupTimeout()), ms);
    p.then(
      (x) => {
        clearTimeout(t);
        resolve(x);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}
