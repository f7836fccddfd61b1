/**
 * The async lookup join against a fake table: order in both modes, the capacity bound, timeouts
 * and retries (with an error naming table, key and setting), and both caches.
 */
import { describe, expect, it } from 'vitest';
import { AsyncLookupJoinOperator, type AsyncLookupSpec } from '../../../operators/join/async-lookup-join.ts';
import type { LookupClient, LookupTable } from '../../../operators/join/lookup-table.ts';
import { ConfigError } from '../../../runtime/errors.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';

interface Row {
  id: number;
  name: string;
}

/** A table whose lookups resolve when the test says so (or after `delay(key)` ms). */
class FakeTable implements LookupTable<number, Row> {
  readonly name = 'shop.rooms';
  rows = new Map<number, Row[]>();
  calls: number[] = [];
  scans = 0;
  inFlight = 0;
  maxInFlight = 0;
  failuresLeft = new Map<number, number>();
  hang = new Set<number>();
  constructor(private readonly delay: (key: number) => number = () => 0) {}

  async connect(): Promise<LookupClient<number, Row>> {
    return {
      lookup: (key) => {
        this.calls.push(key);
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        return new Promise<Row[]>((resolve, reject) => {
          if (this.hang.has(key)) return;
          setTimeout(() => {
            this.inFlight--;
            const f = this.failuresLeft.get(key) ?? 0;
            if (f > 0) {
              this.failuresLeft.set(key, f - 1);
              reject(new Error('connection reset'));
            } else resolve(this.rows.get(key) ?? []);
          }, this.delay(key));
        });
      },
      scan: async () => {
        this.scans++;
        return [...this.rows].flatMap(([k, rs]) => rs.map((r): [number, Row] => [k, r]));
      },
      close: async () => {},
    };
  }
}

function spec(table: FakeTable, over: Partial<AsyncLookupSpec<number, number, Row, string>> = {}): AsyncLookupSpec<number, number, Row, string> {
  return {
    table,
    key: (v) => v,
    join: (v, row) => `${v}:${row?.name ?? 'none'}`,
    kind: 'left',
    mode: 'ordered',
    capacity: 4,
    timeoutMs: 1000,
    retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 4 },
    cache: { kind: 'none' },
    ...over,
  };
}

function harness(s: AsyncLookupSpec<number, number, Row, string>) {
  return new OperatorHarness(() => new AsyncLookupJoinOperator('lookup', s), { backend: 'none' });
}

function tableOf(n: number, delay?: (key: number) => number): FakeTable {
  const t = new FakeTable(delay);
  for (let i = 0; i < n; i++) t.rows.set(i, [{ id: i, name: `room${i}` }]);
  return t;
}

describe('async lookup join', () => {
  it('ordered mode emits in input order although lookups finish out of order; never more than capacity in flight', async () => {
    const table = tableOf(20, (k) => (k % 3) * 5);
    const h = harness(spec(table, { capacity: 3 }));
    const input = Array.from({ length: 30 }, (_, i) => i % 25);
    await h.processBatch(input, input.map((i) => i));
    await h.endInput();
    expect(h.values()).toEqual(input.map((i) => (i < 20 ? `${i}:room${i}` : `${i}:none`)));
    expect(h.output().map((o) => o.time)).toEqual(input);
    expect(table.maxInFlight).toBeLessThanOrEqual(3);
    await h.close();
  });

  it('unordered mode emits every record once; inner join drops records without rows', async () => {
    const table = tableOf(20, (k) => ((k * 7) % 5) * 3);
    const h = harness(spec(table, { mode: 'unordered', kind: 'inner', capacity: 8 }));
    const input = Array.from({ length: 40 }, (_, i) => i);
    await h.processBatch(input, input);
    await h.processWatermark(100);
    expect(h.values().sort()).toEqual(input.filter((i) => i < 20).map((i) => `${i}:room${i}`).sort());
    await h.close();
  });

  it('a watermark waits for the lookups before it: no record crosses it', async () => {
    const table = tableOf(5, () => 10);
    const h = harness(spec(table, { mode: 'unordered' }));
    await h.processBatch([1, 2, 3], [1, 2, 3]);
    await h.processWatermark(3);
    expect(h.values().length).toBe(3);
    await h.close();
  });

  it('retries failed lookups with backoff, then succeeds', async () => {
    const table = tableOf(5);
    table.failuresLeft.set(2, 2);
    const h = harness(spec(table));
    await h.processBatch([2], [0]);
    await h.endInput();
    expect(h.values()).toEqual(['2:room2']);
    expect(table.calls.filter((k) => k === 2).length).toBe(3);
    await h.close();
  });

  it('fails with the table, key and setting when every attempt times out', async () => {
    const table = tableOf(5);
    table.hang.add(4);
    const h = harness(spec(table, { timeoutMs: 10, retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 1 } }));
    await h.processBatch([4], [0]);
    const error = await h.endInput().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain("table 'shop.rooms'");
    expect(error?.message).toContain('key 4');
    expect(error?.message).toContain('lookup.timeoutMs');
    expect(error?.message).toContain('2 attempt(s)');
    await h.close();
  });

  it('partial cache: hits skip the table, least recently used keys are evicted, entries expire', async () => {
    const table = tableOf(10);
    const h = harness(spec(table, { cache: { kind: 'partial', maxRows: 2, ttlMs: 1000 } }));
    let wm = 0;
    const one = async (k: number) => {
      // One record, then a watermark that waits for its lookup: the next record finds the cache filled.
      await h.processBatch([k], [wm]);
      await h.processWatermark(++wm);
    };
    for (const k of [1, 1, 2, 1, 3]) await one(k);
    // 1 miss, 1 hit, 2 miss, 1 hit, 3 miss (evicts 2, the least recently used)
    expect(table.calls).toEqual([1, 2, 3]);
    // 3 hit, 2 miss (evicts 1)
    for (const k of [3, 2]) await one(k);
    expect(table.calls).toEqual([1, 2, 3, 2]);
    // Past the TTL, a cached key is looked up again.
    await h.setProcessingTime(5000);
    await one(3);
    expect(table.calls).toEqual([1, 2, 3, 2, 3]);
    await h.close();
  });

  it('full cache: the whole table is read at open and again on reload; lookups never query', async () => {
    const table = tableOf(3);
    const h = harness(spec(table, { cache: { kind: 'full', reloadIntervalMs: 10 } }));
    await h.processBatch([0, 1, 7], [0, 0, 0]);
    await h.processWatermark(1);
    expect(h.values()).toEqual(['0:room0', '1:room1', '7:none']);
    table.rows.set(7, [{ id: 7, name: 'new' }]);
    const before = table.scans;
    while (table.scans === before) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 5));
    h.clearOutput();
    await h.processBatch([7], [1]);
    await h.endInput();
    expect(h.values()).toEqual(['7:new']);
    expect(table.calls).toEqual([]);
    await h.close();
  });

  it('bad settings fail at construction, naming the setting', () => {
    const table = tableOf(1);
    expect(() => new AsyncLookupJoinOperator('x', spec(table, { capacity: 0 }))).toThrow(ConfigError);
    expect(() => new AsyncLookupJoinOperator('x', spec(table, { capacity: 0 }))).toThrow(/lookup\.capacity.*shop\.rooms/);
    expect(() => new AsyncLookupJoinOperator('x', spec(table, { cache: { kind: 'partial', maxRows: -1 } }))).toThrow(/lookup\.cache\.maxRows/);
  });
});
