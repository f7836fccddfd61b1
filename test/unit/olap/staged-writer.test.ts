/**
 * The OLAP base writer with an in-memory stager: buffering by rows, bytes and time, back-pressure
 * while the store is slow, retries, schema changes in order, metrics.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from 'weir';
import { ExternalError } from '../../../runtime/errors.ts';
import { deletion, insert } from '../../../operators/changelog.ts';
import { DEFAULT_BUFFER, StagedWriter, checkBufferOptions, withRetry, OlapMetrics, type BufferOptions, type FoldedBatch, type OlapInput, type StageContext, type Stager } from '../../../connectors/olap/index.ts';

type Row = { id: number; v: string };

class MemoryStager implements Stager<string> {
  staged: { batch: FoldedBatch; ctx: StageContext }[] = [];
  schemaChanges: string[] = [];
  /** When set, stage() waits for it (a slow store). */
  gate: Promise<void> | undefined;
  failures: Error[] = [];

  async stage(batch: FoldedBatch, ctx: StageContext): Promise<string> {
    if (this.gate) await this.gate;
    const f = this.failures.shift();
    if (f) throw f;
    this.staged.push({ batch, ctx });
    return `batch-${ctx.provisionalCheckpoint}-${ctx.index}`;
  }

  async schemaChanged(change: { kind: string }): Promise<void> {
    this.schemaChanges.push(change.kind);
  }
}

function writer(buffer: BufferOptions, stager = new MemoryStager(), restored = 0) {
  const counters = new Map<string, number>();
  const w = new StagedWriter<Row, string>(
    { sink: 'test-sink', table: { table: 't', primaryKey: ['id'], columns: { id: 'INTEGER' } }, buffer: { ...DEFAULT_BUFFER, flushIntervalMs: 0, ...buffer }, retry: { attempts: 3, backoffMs: 0, maxBackoffMs: 0 } },
    stager,
    { subtaskIndex: 1, restoredCheckpointId: restored, metrics: { count: (n, d = 1) => void counters.set(n, (counters.get(n) ?? 0) + d) } },
  );
  return { w, stager, counters };
}

const rows = (from: number, n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: from + i, v: `v${from + i}` }));

afterEach(() => {
  vi.useRealTimers();
});

describe('StagedWriter', () => {
  it('stages a batch whenever maxRows keys are held, the rest at the barrier, numbered in order', async () => {
    const { w, stager, counters } = writer({ maxRows: 3 });
    await w.write(rows(0, 7));
    // two full batches staged before the barrier; one row held
    await Promise.resolve();
    expect(stager.staged.map((s) => s.batch.rows.length)).toEqual([3, 3]);
    const [c] = await w.prepareCommit(5, false);
    expect(stager.staged.map((s) => s.batch.rows.length)).toEqual([3, 3, 1]);
    expect(stager.staged.map((s) => s.batch.firstSeq)).toEqual([0, 3, 6]);
    expect(c).toEqual({
      subtask: 1,
      provisionalCheckpoint: 1,
      schema: { table: 't', primaryKey: ['id'], columns: [{ name: 'id', type: 'INTEGER', nullable: false }, { name: 'v', type: 'VARCHAR', nullable: true }] },
      items: [
        { kind: 'rows', batch: 'batch-1-0', rows: 3 },
        { kind: 'rows', batch: 'batch-1-1', rows: 3 },
        { kind: 'rows', batch: 'batch-1-2', rows: 1 },
      ],
    });
    expect(counters.get('olap-rows')).toBe(7);
    expect(counters.get('olap-flushes')).toBe(3);
    expect(counters.get('olap-bytes')).toBeGreaterThan(0);
    // the next checkpoint starts its numbering anew and expects checkpoint 6
    await w.write(rows(10, 1));
    const [d] = await w.prepareCommit(6, false);
    expect(d!.provisionalCheckpoint).toBe(6);
    expect(stager.staged.at(-1)!.batch.firstSeq).toBe(0);
    expect(await w.prepareCommit(7, false)).toEqual([]);
  });

  it('changes of one key fold to one row per batch', async () => {
    const { w, stager } = writer({ maxRows: 100 });
    await w.write([insert({ id: 1, v: 'a' }), insert({ id: 2, v: 'b' }), deletion({ id: 1, v: 'a' }), { id: 2, v: 'c' }]);
    await w.prepareCommit(1, false);
    expect(stager.staged[0]!.batch.rows).toEqual([[1, 'a'], [2, 'c']]);
    expect([...stager.staged[0]!.batch.deleted]).toEqual([1, 0]);
  });

  it('stages when maxBytes is reached', async () => {
    const { w, stager } = writer({ maxRows: 1000, maxBytes: 200 });
    await w.write(rows(0, 10).map((r) => ({ ...r, v: 'x'.repeat(40) })));
    await w.prepareCommit(1, false);
    expect(stager.staged.length).toBeGreaterThan(1);
    expect(stager.staged.every((s) => s.batch.bytes <= 200 + 200)).toBe(true);
    expect(stager.staged.reduce((n, s) => n + s.batch.rows.length, 0)).toBe(10);
  });

  it('stages held rows when the flush interval passes', async () => {
    vi.useFakeTimers();
    const { w, stager } = writer({ maxRows: 1000, flushIntervalMs: 500 });
    await w.write(rows(0, 2));
    expect(stager.staged.length).toBe(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(stager.staged.map((s) => s.batch.rows.length)).toEqual([2]);
    // nothing held: the timer is not armed again until a row arrives
    await vi.advanceTimersByTimeAsync(5000);
    expect(stager.staged.length).toBe(1);
    await w.write(rows(2, 1));
    await vi.advanceTimersByTimeAsync(500);
    expect(stager.staged.length).toBe(2);
  });

  it('a full buffer waits for the batch being staged (back-pressure): at most one batch in flight', async () => {
    const { w, stager } = writer({ maxRows: 2 });
    let open!: () => void;
    stager.gate = new Promise((r) => (open = r));
    await w.write(rows(0, 2)); // fills: staging starts, the write returns
    let secondDone = false;
    const second = Promise.resolve(w.write(rows(2, 2))).then(() => (secondDone = true));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(secondDone).toBe(false); // waits: the store has not taken the first batch
    expect(stager.staged.length).toBe(0);
    open();
    await second;
    expect(secondDone).toBe(true);
    stager.gate = undefined;
    await w.prepareCommit(1, false);
    expect(stager.staged.map((s) => s.batch.rows.map((r) => r[0]))).toEqual([[0, 1], [2, 3]]);
  });

  it('retries staging with backoff and fails with a non-retriable error at once', async () => {
    const { w, stager, counters } = writer({ maxRows: 100 });
    stager.failures = [new ExternalError('busy'), new ExternalError('busy again')];
    await w.write(rows(0, 1));
    await w.prepareCommit(1, false);
    expect(stager.staged.length).toBe(1);
    expect(counters.get('olap-retries')).toBe(2);

    const other = writer({ maxRows: 100 });
    other.stager.failures = [new ConfigError('table', 'rejected')];
    await other.w.write(rows(0, 1));
    await expect(other.w.prepareCommit(1, false)).rejects.toThrow(/rejected/);
    expect(other.counters.get('olap-retries')).toBeUndefined();
  });

  it('a failed time-triggered flush fails the next write', async () => {
    vi.useFakeTimers();
    const { w, stager } = writer({ maxRows: 100, flushIntervalMs: 100 });
    stager.failures = [new ConfigError('x', 'no'), new ConfigError('x', 'no')];
    await w.write(rows(0, 1));
    await vi.advanceTimersByTimeAsync(100);
    expect(() => w.write(rows(1, 1))).toThrow(/no/);
  });

  it('schema changes go in order between the rows staged under the old and the new schema', async () => {
    const { w, stager } = writer({ maxRows: 100 });
    const input: OlapInput<Row & { extra?: number }>[] = [{ id: 1, v: 'a' }, { schemaChange: { kind: 'addColumn', column: 'extra', type: 'DOUBLE' } }, { id: 2, v: 'b', extra: 2 }];
    await w.write(input as OlapInput<Row>[]);
    const [c] = await w.prepareCommit(1, false);
    expect(c!.items.map((i) => i.kind)).toEqual(['rows', 'schema', 'rows']);
    expect(c!.schema.columns.map((x) => x.name)).toEqual(['id', 'v']);
    const after = c!.items[1]!;
    expect(after.kind === 'schema' && after.schema.columns.map((x) => x.name)).toEqual(['id', 'v', 'extra']);
    expect(stager.staged.map((s) => s.batch.rows)).toEqual([[[1, 'a']], [[2, 'b', 2]]]);
    expect(stager.schemaChanges).toEqual(['addColumn']);
  });

  it('the provisional checkpoint after a restore is the restored one + 1', async () => {
    const { w } = writer({ maxRows: 100 }, new MemoryStager(), 41);
    await w.write(rows(0, 1));
    const [c] = await w.prepareCommit(45, false);
    expect(c!.provisionalCheckpoint).toBe(42);
  });

  it('checks buffer options', () => {
    expect(() => checkBufferOptions({ maxRows: 0 }, 'duckdb')).toThrow(/duckdb.buffer.maxRows: must be a whole number >= 1, got 0/);
    expect(checkBufferOptions({ flushIntervalMs: 0 }, 's').flushIntervalMs).toBe(0);
  });
});

describe('withRetry and OlapMetrics', () => {
  it('backs off exponentially up to the maximum', async () => {
    const waits: number[] = [];
    let calls = 0;
    const r = await withRetry(
      async () => {
        if (++calls < 5) throw new Error('again');
        return 'ok';
      },
      { attempts: 5, backoffMs: 10, maxBackoffMs: 50 },
      () => {},
      async (ms) => void waits.push(ms),
    );
    expect(r).toBe('ok');
    expect(waits).toEqual([10, 20, 40, 50]);
    await expect(withRetry(async () => Promise.reject(new Error('down')), { attempts: 2, backoffMs: 0, maxBackoffMs: 0 })).rejects.toThrow('down');
  });

  it('counts commits and keeps latencies for median and p99', async () => {
    const counters = new Map<string, number>();
    const m = new OlapMetrics({ count: (n, d = 1) => void counters.set(n, (counters.get(n) ?? 0) + d) });
    expect(m.commitLatency()).toBeUndefined();
    for (let i = 1; i <= 100; i++) m.committed(i);
    expect(m.commitLatency()).toEqual({ median: 51, p99: 100 });
    expect(counters.get('olap-commits')).toBe(100);
    expect(counters.get('olap-commit-ms')).toBe(5050);
    await m.timeCommit(async () => 1);
    expect(counters.get('olap-commits')).toBe(101);
  });
});
