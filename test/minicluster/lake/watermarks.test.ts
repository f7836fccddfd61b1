/**
 * The lake sink records the job's watermark in its snapshots, a downstream wait returns once the
 * watermark passes a time with every earlier row committed, and automatic tags by watermark hold
 * complete hours of event time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import { FileStoreTable, readTable, TagManager, waitForWatermark } from 'weir/lake';
import job, { type EventTimeParams } from './jobs/event-time-writes.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-lake-watermarks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const HOUR = 3_600_000;
const start = Date.parse('2026-12-04T00:00:00Z');

/** Opens the table once the job created it. */
async function tableAt(p: string): Promise<FileStoreTable> {
  for (;;) {
    try {
      return await FileStoreTable.open(p);
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('lake watermarks and tags', () => {
  it('snapshots carry the least writer watermark; wait and tags see complete event time', async () => {
    const tablePath = path.join(root, 'readings');
    // 3000 rows over 5 hours of event time, about 1.5 s of processing at 100 ms checkpoints
    const params: EventTimeParams = { path: tablePath, count: 3000, start, stepMs: (5 * HOUR) / 3000, ratePerSecond: 2000 };
    const cluster = new MiniCluster({
      workers: 2,
      workDir: path.join(root, 'work'),
      checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, 'checkpoints') } },
    });
    const handle = await cluster.submit(job, { params, parallelism: 2 });
    const table = await tableAt(tablePath);
    const target = start + 2 * HOUR;
    const reached = await waitForWatermark(table, target, { pollIntervalMs: 10 });
    await handle.result();

    const tsOf = (id: number): number => start + id * params.stepMs;
    const idsAt = async (opts: Parameters<typeof readTable>[1]): Promise<Set<number>> => new Set((await readTable(table, opts)).map((r) => r[0] as number));
    const before = (t: number): number[] => Array.from({ length: params.count }, (_, i) => i).filter((i) => tsOf(i) <= t);

    // the wait returned at a snapshot that holds every row up to its watermark
    expect(reached.watermark).toBeGreaterThanOrEqual(target);
    const atWait = await idsAt({ snapshotId: reached.id });
    expect(before(target).filter((i) => !atWait.has(i))).toEqual([]);

    // watermarks never go back; every snapshot holds all rows up to its watermark; the end of input is recorded
    const snapshots = await Promise.all((await table.snapshots.listIds()).map((id) => table.snapshots.snapshot(id)));
    const marks = snapshots.map((s) => s.watermark ?? -1);
    expect(marks).toEqual([...marks].sort((a, b) => a - b));
    expect(marks[marks.length - 1]).toBe(Number.MAX_SAFE_INTEGER);
    for (const s of snapshots.filter((x) => x.watermark != null && x.watermark < Number.MAX_SAFE_INTEGER)) {
      const ids = await idsAt({ snapshotId: s.id });
      expect(before(s.watermark!).filter((i) => !ids.has(i))).toEqual([]);
    }

    // hourly tags: each names a full hour whose end the tagged snapshot's watermark passed, and holds that hour
    const tags = await new TagManager(table.io, table.path).list();
    expect(tags.length).toBeGreaterThanOrEqual(2);
    for (const t of tags) {
      const hourStart = Date.parse(`${t.name.replace(' ', 'T')}:00:00Z`);
      expect(t.snapshot.watermark!).toBeGreaterThanOrEqual(hourStart + HOUR);
      const ids = await idsAt({ tag: t.name });
      expect(before(hourStart + HOUR - 1).filter((i) => !ids.has(i))).toEqual([]);
    }
    const hours = tags.map((t) => t.name);
    expect(hours).toEqual([...hours].sort());
    expect(hours[0]).toBe('2026-12-03 23'); // Java's rule: the first tag is the period before the first watermark
  });
});
