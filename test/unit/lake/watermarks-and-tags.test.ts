/**
 * Watermarks in snapshots, `waitForWatermark`, tags and automatic tag creation on a real table on
 * disk: snapshots record the writer's watermark and never go back, a watermark that rises without
 * data still commits, the wait returns at the first snapshot that passes the time and not before,
 * automatic tags follow Java Paimon's period rules, and expiration keeps what tags use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Catalog, TableWriter, TableCommit, readTable, expireSnapshots, FileStoreTable, T, TagManager, TagAutoCreation,
  tagCreationSettings, waitForWatermark, LakeWaitTimeoutError, type SchemaDefinition,
} from '../../../connectors/lake/index.ts';
import { TagPeriods, zoneOffsetMs } from '../../../connectors/lake/table/tag-auto-creation.ts';
import { sortedText, tempDir } from './helpers.ts';

let cleanups: Array<() => void> = [];
afterEach(() => { cleanups.forEach((c) => c()); cleanups = []; });

const schema = (options: Record<string, string> = {}): SchemaDefinition => ({
  fields: [{ name: 'k', type: T.int() }, { name: 'v', type: T.string() }],
  primaryKeys: ['k'],
  options: { bucket: '1', ...options },
});

async function newTable(options: Record<string, string> = {}): Promise<FileStoreTable> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return new Catalog(t.dir).createTable('db', 't', schema(options));
}

/** Commits rows (maybe none) with a watermark as checkpoint `id`; returns the snapshot ids written. */
async function commit(table: FileStoreTable, id: number, rows: Array<[number, string]>, watermark?: number): Promise<number[]> {
  const w = new TableWriter(table);
  for (const [k, v] of rows) w.write({ k, v }, 0);
  return new TableCommit(table, 'job').commit(id, await w.prepareCommit(), watermark === undefined ? {} : { watermark });
}

const at = (iso: string): number => Date.parse(iso);

describe('watermarks in snapshots', () => {
  it('records the watermark, never lower than before, and commits a rising watermark without data', async () => {
    const table = await newTable();
    expect(await commit(table, 1, [[1, 'a']], 1000)).toEqual([1]);
    expect(await commit(table, 2, [[2, 'b']], 500)).toEqual([2]);
    expect((await table.snapshots.snapshot(2)).watermark).toBe(1000); // never goes back
    expect(await commit(table, 3, [], 2000)).toEqual([3]); // no files, but time passed
    const s3 = await table.snapshots.snapshot(3);
    expect([s3.commitKind, s3.watermark, s3.deltaRecordCount, s3.totalRecordCount]).toEqual(['APPEND', 2000, 0, 2]);
    expect(await commit(table, 4, [], 2000)).toEqual([]); // nothing new: no snapshot
    expect(await commit(table, 5, [])).toEqual([]);
    expect(await commit(table, 3, [], 9000)).toEqual([]); // checkpoint 3 committed already (a replay)
    expect(sortedText(await readTable(table))).toEqual(sortedText([[1, 'a'], [2, 'b']]));
  });

  it('waitForWatermark returns at the first snapshot that passes the time, not before', async () => {
    const table = await newTable();
    await commit(table, 1, [[1, 'a']], at('2026-12-04T09:00:00Z'));
    const seen: Array<number | null> = [];
    let sawLow!: () => void;
    const lowSeen = new Promise<void>((r) => { sawLow = r; });
    let resolved = false;
    const waiting = waitForWatermark(table, at('2026-12-04T10:00:00Z'), {
      pollIntervalMs: 5,
      onProgress: (wm) => { seen.push(wm); if (wm === at('2026-12-04T09:30:00Z')) sawLow(); },
    }).then((s) => { resolved = true; return s; });
    await commit(table, 2, [[2, 'b']], at('2026-12-04T09:30:00Z'));
    await lowSeen;
    expect(resolved).toBe(false);
    const [id] = await commit(table, 3, [], at('2026-12-04T10:00:00Z'));
    const s = await waiting;
    expect(s.id).toBe(id);
    expect(seen.every((w) => w === null || w <= at('2026-12-04T10:00:00Z'))).toBe(true);
  });

  it('waitForWatermark times out with what it reached', async () => {
    const table = await newTable();
    await commit(table, 1, [[1, 'a']], at('2026-12-04T09:00:00Z'));
    const err = await waitForWatermark(table, at('2026-12-05T00:00:00Z'), { timeoutMs: 20, pollIntervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LakeWaitTimeoutError);
    expect(String((err as Error).message)).toContain('2026-12-04T09:00:00.000Z (snapshot 1)');
  });
});

describe('tags', () => {
  it('a tag keeps its snapshot readable after the snapshot expired, in Java layout', async () => {
    const table = await newTable();
    await commit(table, 1, [[1, 'a'], [2, 'b']]);
    const tags = new TagManager(table.io, table.path);
    expect(await tags.create(await table.snapshots.snapshot(1), 'day-1')).toBe(true);
    expect(await tags.create(await table.snapshots.snapshot(1), 'day-1')).toBe(false); // immutable
    await commit(table, 2, [[1, 'A'], [3, 'c']]);
    await commit(table, 3, [[2, 'B']]);
    const expired = await expireSnapshots(table, { retainMin: 1, retainMax: 1 });
    expect(expired).toEqual([1, 2]);
    expect(sortedText(await readTable(table, { tag: 'day-1' }))).toEqual(sortedText([[1, 'a'], [2, 'b']]));
    expect(sortedText(await readTable(table))).toEqual(sortedText([[1, 'A'], [2, 'B'], [3, 'c']]));
    const raw = JSON.parse(await table.io.read(tags.tagPath('day-1')).then((b) => new TextDecoder().decode(b))) as Record<string, unknown>;
    expect(raw.id).toBe(1);
    expect(Array.isArray(raw.tagCreateTime)).toBe(true);
    await expect(readTable(table, { tag: 'nope' })).rejects.toThrow(/no tag 'nope'; its tags: day-1/);
  });

  it('period names and zones follow Java Paimon', () => {
    const daily = new TagPeriods(tagCreationSettings({ 'tag.automatic-creation': 'watermark' }));
    expect(daily.name(at('2026-12-04T00:00:00Z'))).toBe('2026-12-04');
    expect(daily.parse('2026-12-04')).toBe(at('2026-12-04T00:00:00Z'));
    expect(daily.parse('2026-12-04 10')).toBeNull();
    const hourly = new TagPeriods(tagCreationSettings({ 'tag.automatic-creation': 'watermark', 'tag.creation-period': 'hourly', 'tag.period-formatter': 'without_dashes' }));
    expect(hourly.name(at('2026-12-04T13:00:00Z'))).toBe('20261204 13');
    expect(hourly.previousPeriod(at('2026-12-04T13:59:00Z'))).toBe(at('2026-12-04T12:00:00Z'));
    expect(zoneOffsetMs('+08:00', 0)).toBe(8 * 3_600_000);
    expect(zoneOffsetMs('Asia/Shanghai', at('2026-12-04T00:00:00Z'))).toBe(8 * 3_600_000);
    expect(() => tagCreationSettings({ 'tag.automatic-creation': 'sometimes' })).toThrow(/tag.automatic-creation/);
    expect(() => tagCreationSettings({ 'tag.creation-delay': '2 d' })).toThrow(/shorter than one daily period/);
    expect(() => tagCreationSettings({ 'sink.watermark-time-zone': 'Mars/Olympus' })).toThrow(/not a time zone/);
  });

  it('automatic tags by watermark appear when event time passes a day boundary, and survive a restart', async () => {
    const table = await newTable({ 'tag.automatic-creation': 'watermark', 'tag.num-retained-max': '2' });
    const auto = (await TagAutoCreation.create(table))!;
    const tags = new TagManager(table.io, table.path);
    const names = async (): Promise<string[]> => (await tags.list()).map((t) => `${t.name}@${t.snapshot.id}`);

    await commit(table, 1, [[1, 'a']]); // no watermark yet: no tag
    expect(await auto.run()).toEqual([]);
    await commit(table, 2, [[2, 'b']], at('2026-12-01T10:00:00Z'));
    // Java tags the period before the first watermark it sees
    expect(await auto.run()).toEqual(['2026-11-30']);
    await commit(table, 3, [[3, 'c']], at('2026-12-01T23:59:59Z'));
    expect(await auto.run()).toEqual([]);
    await commit(table, 4, [[4, 'd']], at('2026-12-02T00:00:00Z'));
    expect(await auto.run()).toEqual(['2026-12-01']);
    expect(await names()).toEqual(['2026-11-30@2', '2026-12-01@4']);
    // the day's tag holds the rows committed up to the snapshot whose watermark passed midnight
    expect(sortedText(await readTable(table, { tag: '2026-12-01' }))).toEqual(sortedText([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]));

    // a restarted committer continues after the last automatic tag
    const again = (await TagAutoCreation.create(table))!;
    await commit(table, 5, [], at('2026-12-02T12:00:00Z'));
    expect(await again.run()).toEqual([]);
    await commit(table, 6, [[5, 'e']], at('2026-12-04T01:00:00Z'));
    expect(await again.run()).toEqual(['2026-12-03']);
    expect(await names()).toEqual(['2026-12-01@4', '2026-12-03@6']); // at most 2 kept
  });

  it('a tag delay holds the tag back', async () => {
    const table = await newTable({ 'tag.automatic-creation': 'watermark', 'tag.creation-period': 'hourly', 'tag.creation-delay': '10 min' });
    const auto = (await TagAutoCreation.create(table))!;
    await commit(table, 1, [[1, 'a']], at('2026-12-04T10:30:00Z'));
    expect(await auto.run()).toEqual(['2026-12-04 09']);
    await commit(table, 2, [[2, 'b']], at('2026-12-04T11:05:00Z'));
    expect(await auto.run()).toEqual([]); // 11:05 - 10 min is before 11:00
    await commit(table, 3, [[3, 'c']], at('2026-12-04T11:10:00Z'));
    expect(await auto.run()).toEqual(['2026-12-04 10']);
  });
});

describe('weir lake wait and tags (CLI)', () => {
  it('wait exits 0 once the watermark is reached and 3 on timeout; tags lists the tags', async () => {
    const { spawnSync } = await import('node:child_process');
    const path = await import('node:path');
    const bin = path.resolve(import.meta.dirname, '../../../runtime/cli/bin.mjs');
    const table = await newTable();
    await commit(table, 1, [[1, 'a']], at('2026-12-04T10:00:00Z'));
    await new TagManager(table.io, table.path).create(await table.snapshots.snapshot(1), '2026-12-03');
    const run = (...args: string[]) => spawnSync('node', [bin, 'lake', ...args], { encoding: 'utf8' });

    const ok = run('wait', table.path, '--watermark', '2026-12-04T10:00:00Z', '--timeout', '10 s');
    expect([ok.status, ok.stdout.trim()]).toEqual([0, 'watermark 2026-12-04T10:00:00.000Z reached at snapshot 1']);
    const late = run('wait', table.path, '--watermark', '2026-12-05', '--timeout', '50 ms');
    expect(late.status).toBe(3);
    expect(late.stderr).toContain('did not reach 2026-12-05T00:00:00.000Z');
    const bad = run('wait', table.path, '--watermark', 'tomorrow-ish');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('is not a time');
    const tags = run('tags', table.path);
    expect(tags.stdout.trim().split('\n')[1]!.split('\t').slice(0, 3)).toEqual(['2026-12-03', '1', '2026-12-04T10:00:00.000Z']);
  });
});

describe('weir lake compact, expire, remove-orphans (CLI)', () => {
  it('compact --full leaves one file per bucket, expire keeps tagged files, remove-orphans deletes only old unused files', async () => {
    const { spawnSync } = await import('node:child_process');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const bin = path.resolve(import.meta.dirname, '../../../runtime/cli/bin.mjs');
    const table = await newTable({ 'snapshot.num-retained.min': '1', 'snapshot.num-retained.max': '1' });
    for (let i = 1; i <= 3; i++) await commit(table, i, [[i, `v${i}`], [1, `again${i}`]]);
    const run = (...args: string[]) => spawnSync('node', [bin, 'lake', ...args], { encoding: 'utf8' });
    const orphan = path.join(table.path, 'bucket-0', 'data-orphan-0.parquet');
    fs.writeFileSync(orphan, 'left by a lost commit');
    const old = (Date.now() - 2 * 86_400_000) / 1000;
    fs.utimesSync(orphan, old, old);
    const fresh = path.join(table.path, 'bucket-0', 'data-inflight-0.parquet');
    fs.writeFileSync(fresh, 'a commit in flight');

    expect(run('compact', table.path, '--full').stdout).toMatch(/^compacted: snapshot 4/);
    expect(run('expire', table.path).stdout.trim()).toBe('expired snapshots: 1, 2, 3');
    const removed = run('remove-orphans', table.path, '--older-than', '1 d');
    expect(removed.stdout).toContain('data-orphan-0.parquet');
    expect(removed.stdout.trim().endsWith('1 orphan file removed')).toBe(true);
    expect(fs.existsSync(fresh)).toBe(true);
    const live = mergeLive(await table.liveEntries((await table.snapshots.latest())!));
    expect(live).toBe(1);
    expect(sortedText(await readTable(table))).toEqual(sortedText([[1, 'again3'], [2, 'v2'], [3, 'v3']]));
  });
});

function mergeLive(entries: Array<{ kind: number }>): number {
  return entries.filter((e) => e.kind === 0).length;
}
