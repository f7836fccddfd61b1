/**
 * jobs/agg-table: the Paimon aggregation tables equal a brute-force computation over the same
 * generated events, at parallelism 1 and 3, and with task managers killed mid-run (the sinks are
 * exactly-once, so no event is counted twice or lost); the batch query of a day, made as soon as
 * the tables' watermark passes the day's end (no sleeping), already holds the whole day.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiniCluster, SeededRandom } from 'weir';
import { FileStoreTable, readTable, rowToObject } from 'weir/lake';
import job, { type AggTableParams } from '../../jobs/agg-table/job.ts';
import { dayOf, generateEvent, type EventParams } from '../../jobs/agg-table/events.ts';
import { readDay } from '../../jobs/agg-table/query.ts';
import { killAtCompletedCounts } from '../harness/kills.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-agg-table-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DAY = 86_400_000;
const events: EventParams = { count: 4000, start: Date.parse('2026-12-01T18:00:00Z'), stepMs: (2.5 * DAY) / 4000, users: 40, seed: 11 };

type Table = Record<string, string>;

/** The expected tables, computed event by event. */
function bruteForce(): { userDaily: Table; totals: Table } {
  const users = new Map<string, { events: number; purchases: number; amount: number; max: number; first: number; last: number }>();
  const days = new Map<string, { events: number; amount: number; users: Set<number> }>();
  const random = new SeededRandom();
  for (let i = 0; i < events.count; i++) {
    const e = generateEvent(events, i, random.reset(events.seed, i));
    const dt = dayOf(e.ts);
    const k = `${dt}/${e.userId}`;
    const u = users.get(k) ?? { events: 0, purchases: 0, amount: 0, max: 0, first: Infinity, last: -Infinity };
    u.events++;
    if (e.type === 'purchase') u.purchases++;
    u.amount += e.amountCents;
    u.max = Math.max(u.max, e.amountCents);
    u.first = Math.min(u.first, e.ts);
    u.last = Math.max(u.last, e.ts);
    users.set(k, u);
    const d = days.get(dt) ?? { events: 0, amount: 0, users: new Set<number>() };
    d.events++;
    d.amount += e.amountCents;
    d.users.add(e.userId);
    days.set(dt, d);
  }
  const userDaily: Table = {};
  for (const [k, u] of users) userDaily[k] = `${u.events} ${u.purchases} ${u.amount} ${u.max} ${u.first} ${u.last}`;
  const totals: Table = {};
  for (const [dt, d] of days) totals[dt] = `${d.events} ${d.amount} ${d.users.size}`;
  return { userDaily, totals };
}

async function readTables(warehouse: string): Promise<{ userDaily: Table; totals: Table }> {
  const rows = async (name: string): Promise<Record<string, unknown>[]> => {
    const t = await FileStoreTable.open(path.join(warehouse, name));
    return (await readTable(t)).map((r) => rowToObject(t, r));
  };
  const userDaily: Table = {};
  for (const r of await rows('user_daily')) userDaily[`${r.dt as string}/${r.user_id as number}`] = `${r.events} ${r.purchases} ${r.amount_cents} ${r.max_amount_cents} ${r.first_ts} ${r.last_ts}`;
  const totals: Table = {};
  for (const r of await rows('daily_totals')) totals[r.dt as string] = `${r.events} ${r.amount_cents} ${r.users}`;
  return { userDaily, totals };
}

async function run(name: string, parallelism: number, kill: boolean): Promise<void> {
  const warehouse = path.join(root, name);
  const params: AggTableParams = { ...events, warehouse, ratePerSecond: 2500 };
  const cluster = new MiniCluster({ workers: 2, workDir: path.join(root, `${name}-work`), checkpoints: { intervalMs: 100, storage: { kind: 'local', dir: path.join(root, `${name}-checkpoints`) } } });
  const handle = await cluster.submit(job, { params, parallelism });
  if (kill) killAtCompletedCounts(handle, new SeededRandom(parallelism * 31 + 7), 2);
  const want = bruteForce();
  const firstDay = dayOf(events.start);

  // the batch query of the first day: it waits for the watermark (no sleeping), typically while the job still runs
  const day = await readDay(warehouse, firstDay, { timeoutMs: 120_000 });
  const dayRows: Table = {};
  for (const u of day.users) dayRows[`${firstDay}/${u.user_id}`] = `${u.events} ${u.purchases} ${u.amount_cents} ${u.max_amount_cents} ${u.first_ts} ${u.last_ts}`;
  expect(dayRows).toEqual(Object.fromEntries(Object.entries(want.userDaily).filter(([k]) => k.startsWith(`${firstDay}/`))));
  expect(day.totals && `${day.totals.events} ${day.totals.amount_cents} ${day.totals.users}`).toBe(want.totals[firstDay]);

  await handle.result();
  expect(await readTables(warehouse)).toEqual(want);
  expect(Object.keys(want.totals)).toHaveLength(4); // 18:00 on day 1 to 06:00 on day 4
  if (kill) expect(handle.restarts).toBeGreaterThan(0);
}

describe('jobs/agg-table', () => {
  it('at parallelism 1 the aggregation tables equal the brute-force computation', async () => {
    await run('p1', 1, false);
  }, 120_000);

  it('at parallelism 3 with task managers killed mid-run they still do (exactly once)', async () => {
    await run('p3-kills', 3, true);
  }, 180_000);
});
