/**
 * Randomized, seeded mini-cluster tests: each window and changelog operator over out-of-order data
 * (some of it late) at parallelism 1 and 3, against a brute-force computation over the same input.
 */
import { describe, expect, it } from 'vitest';
import { MiniCluster } from 'weir';
import job, { approxDistinct, distinct, firstRows, lastRows, late, MAX_JITTER, ranked, revenue, STEP, topKeys, windows, type Event, type JobParams } from './jobs/windows-job.ts';
import { alignedWindows, applyChangelog, eventId, finalWindows, generate, sessionWindows } from './brute-force.ts';

const COUNT = 12_000;
const SEED = 21;
const KEYS = 5;
/** Lateness that covers the generator's disorder: nothing is dropped, late firings update results. */
const COVERS_DISORDER = MAX_JITTER * STEP + STEP;

const base: JobParams = { kind: 'tumbling', count: COUNT, seed: SEED, keys: KEYS, bound: 40, lateness: 0, size: 2000, slide: 2000, gap: 50 };
const events = generate(COUNT, SEED, KEYS);

const SETUPS = [
  { parallelism: 1, stateBackend: 'heap' as const },
  { parallelism: 3, stateBackend: 'lmdb' as const },
];

async function run(params: Partial<JobParams>, setup: (typeof SETUPS)[number]) {
  // A watermark after every poll (not every 200 ms): the whole input takes a few polls of a few
  // milliseconds, and the lateness tests need watermarks that pass records still to come.
  return new MiniCluster({ workers: 2, stateBackend: setup.stateBackend, batchSize: 512, autoWatermarkIntervalMs: 0 }).execute(job, { params: { ...base, ...params }, parallelism: setup.parallelism });
}

describe.each(SETUPS)('windows on a mini-cluster at parallelism $parallelism ($stateBackend)', (setup) => {
  for (const kind of ['tumbling', 'tumbling-process'] as const) {
    it(`${kind}: late records go to the side output, the rest equals brute force`, async () => {
      const result = await run({ kind, lateness: 0 }, setup);
      const lateIds = new Set(result.get(late).map(eventId));
      expect(lateIds.size).toBeGreaterThan(0);
      expect(lateIds.size).toBeLessThan(COUNT / 2);
      const onTime = events.filter((e) => !lateIds.has(eventId(e)));
      expect(finalWindows(result.get(windows))).toEqual(alignedWindows(onTime, 2000, 2000));
      // Without allowed lateness every window fires once.
      expect(result.get(windows).every((w) => w.firing === 'on-time')).toBe(true);
    });
  }

  it('tumbling with allowed lateness: late firings update the results, nothing is dropped', async () => {
    const result = await run({ kind: 'tumbling', lateness: COVERS_DISORDER }, setup);
    expect(result.get(late)).toEqual([]);
    expect(result.get(windows).some((w) => w.firing === 'late')).toBe(true);
    expect(finalWindows(result.get(windows))).toEqual(alignedWindows(events, 2000, 2000));
  });

  for (const slide of [500, 250]) {
    it(`sliding (size 2000, slide ${slide}) with late firings equals brute force`, async () => {
      const result = await run({ kind: 'sliding', size: 2000, slide, lateness: COVERS_DISORDER }, setup);
      expect(result.get(late)).toEqual([]);
      expect(finalWindows(result.get(windows))).toEqual(alignedWindows(events, 2000, slide));
    });
  }

  for (const [kind, slide] of [['tumbling', 2000], ['sliding', 500]] as const) {
    it(`${kind} with local pre-aggregation (two phases, partials sent early past 7 entries) equals brute force`, async () => {
      const result = await run({ kind, size: 2000, slide, lateness: COVERS_DISORDER, local: true }, setup);
      expect(finalWindows(result.get(windows))).toEqual(alignedWindows(events, 2000, slide));
    });
  }

  it('sliding without lateness: dropped records were late for all their windows; windows count at most brute force', async () => {
    const result = await run({ kind: 'sliding', size: 2000, slide: 500, lateness: 0 }, setup);
    const lateIds = new Set(result.get(late).map(eventId));
    expect(lateIds.size).toBeGreaterThan(0);
    const parse = (s: string): [string, number] => [s.slice(0, s.indexOf('=')), Number(s.slice(s.lastIndexOf('/') + 1))];
    const got = new Map(finalWindows(result.get(windows)).map(parse));
    const brute = new Map(alignedWindows(events, 2000, 500).map(parse));
    // A record that arrives after some of its windows fired counts only in the later ones.
    for (const [id, n] of got) expect(n).toBeLessThanOrEqual(brute.get(id)!);
    // Every record that was not dropped counts at least in its last window, which had not fired.
    const lastWindowCount = new Map<string, number>();
    for (const e of events) {
      if (lateIds.has(eventId(e))) continue;
      const end = Math.floor(e.ts / 500) * 500 + 2000;
      const id = `${e.k}@${end - 2000}-${end}`;
      lastWindowCount.set(id, (lastWindowCount.get(id) ?? 0) + 1);
    }
    for (const [id, n] of lastWindowCount) expect(got.get(id)).toBeGreaterThanOrEqual(n);
  });

  it('session windows (gap 50) with late firings equal brute-force sessions', async () => {
    const result = await run({ kind: 'session', gap: 50, lateness: COVERS_DISORDER }, setup);
    expect(result.get(late)).toEqual([]);
    expect(finalWindows(result.get(windows), true)).toEqual(sessionWindows(events, 50));
  });

  it('window top-3 per key equals sorting each window', async () => {
    const result = await run({ kind: 'window-top-n', lateness: COVERS_DISORDER }, setup);
    const got = new Map<string, Event>();
    for (const r of result.get(ranked)) got.set(`${r.key}@${r.windowStart}#${r.rank}`, r.row);
    const expected = new Map<string, Event>();
    const byWindow = new Map<string, Event[]>();
    for (const e of events) {
      const id = `${e.k}@${Math.floor(e.ts / 2000) * 2000}`;
      byWindow.set(id, [...(byWindow.get(id) ?? []), e]);
    }
    for (const [id, es] of byWindow) es.sort((a, b) => b.v - a.v || a.id - b.id || a.ts - b.ts).slice(0, 3).forEach((e, i) => expected.set(`${id}#${i + 1}`, e));
    expect(got).toEqual(expected);
  });

  it.each([false, true])('changelog: dedup keep-last/keep-first -> group aggregate with retractions (local pre-aggregation: %s) -> continuous top-3', async (local) => {
    const result = await run({ kind: 'changelog', local }, setup);
    const lastById = new Map<number, Event>();
    const firstById = new Map<number, Event>();
    for (const e of events) {
      if (!(lastById.get(e.id)!?.ts > e.ts)) lastById.set(e.id, e);
      if (!(firstById.get(e.id)!?.ts < e.ts)) firstById.set(e.id, e);
    }
    expect(applyChangelog(result.get(lastRows), (e) => String(e.id))).toEqual(new Map([...lastById].map(([id, e]) => [String(id), e])));
    expect(applyChangelog(result.get(firstRows), (e) => String(e.id))).toEqual(new Map([...firstById].map(([id, e]) => [String(id), e])));
    expect(result.get(lastRows).some((c) => c.kind === '-U')).toBe(true);

    const rev = new Map<string, { k: string; revenue: number; rows: number }>();
    for (const e of lastById.values()) {
      const r = rev.get(e.k) ?? { k: e.k, revenue: 0, rows: 0 };
      rev.set(e.k, { k: e.k, revenue: r.revenue + e.v, rows: r.rows + 1 });
    }
    expect(applyChangelog(result.get(revenue), (r) => r.k)).toEqual(rev);
    const top = [...rev.values()].sort((a, b) => b.revenue - a.revenue || a.k.localeCompare(b.k)).slice(0, 3);
    const gotTop = applyChangelog(result.get(topKeys), (r) => String(r.rank));
    expect([...gotTop.values()].sort((a, b) => a.rank - b.rank).map((r) => r.row)).toEqual(top);
  });

  it('count distinct: exact equals a Set, HyperLogLog within 5 %', async () => {
    const result = await run({ kind: 'count-distinct' }, setup);
    const truth = new Map<string, number>();
    for (const k of new Set(events.map((e) => e.k))) truth.set(k, new Set(events.filter((e) => e.k === k).map((e) => e.id)).size);
    const exact = applyChangelog(result.get(distinct), (r) => r.key);
    expect(new Map([...exact].map(([k, r]) => [k, r.count]))).toEqual(truth);
    const approx = applyChangelog(result.get(approxDistinct), (r) => r.key);
    for (const [k, n] of truth) expect(Math.abs(approx.get(k)!.count / n - 1)).toBeLessThan(0.05);
  });
});
