/**
 * Each join operator on seeded random input, at parallelism 1 and 3, against a brute-force
 * computation over the same input. Records the operator reports late (side output) are left out of
 * the expected result; the tests check that late ones really were old and that some were late.
 */
import { describe, expect, it } from 'vitest';
import { type Change, MiniCluster } from 'weir';
import job, {
  changelogScript,
  changes,
  dimensionChange,
  dimensionCount,
  event,
  INTERVAL,
  lateFacts,
  lateRecords,
  pairs,
  SLIDE,
  TUMBLE,
  type Event,
  type JoinParams,
  type Pair,
  type Row,
} from './jobs/joins.ts';

const base: JoinParams = { join: 'interval', count: 3000, seed: 1, keys: 8, stepMs: 5, disorder: 40, bound: 50, lateShare: 0, lateByMs: 0 };

function events(side: 'L' | 'R', p: JoinParams): Event[] {
  return Array.from({ length: p.count }, (_, i) => event(side, i, p));
}

function pairKey(p: Pair): string {
  return `${p.l}-${p.r}${p.w === undefined ? '' : `@${p.w}`}`;
}

function sorted(ps: Pair[]): string[] {
  return ps.map(pairKey).sort();
}

/** The records the operator did not report late, per side. */
function onTime(p: JoinParams, late: { side: 'left' | 'right'; value: unknown }[]): [Event[], Event[]] {
  const lateIds = { left: new Set<number>(), right: new Set<number>() };
  for (const l of late) lateIds[l.side].add((l.value as Event).id);
  return [events('L', p).filter((e) => !lateIds.left.has(e.id)), events('R', p).filter((e) => !lateIds.right.has(e.id))];
}

function bruteInterval(ls: Event[], rs: Event[]): Pair[] {
  const out: Pair[] = [];
  for (const l of ls) for (const r of rs) if (l.key === r.key && r.ts >= l.ts + INTERVAL.lower && r.ts <= l.ts + INTERVAL.upper) out.push({ l: l.id, r: r.id });
  return out;
}

function windowStarts(ts: number, size: number, slide: number): number[] {
  const starts: number[] = [];
  for (let s = ts - (((ts % slide) + slide) % slide); s > ts - size; s -= slide) starts.push(s);
  return starts;
}

function bruteWindow(ls: Event[], rs: Event[], size: number, slide: number): Pair[] {
  const out: Pair[] = [];
  for (const l of ls)
    for (const r of rs) {
      if (l.key !== r.key) continue;
      const rw = new Set(windowStarts(r.ts, size, slide));
      for (const w of windowStarts(l.ts, size, slide)) if (rw.has(w)) out.push({ l: l.id, r: r.id, w });
    }
  return out;
}

/** Small batches, so watermarks follow the records closely and the records pushed into the past arrive late. */
async function run(p: JoinParams, parallelism: number) {
  return new MiniCluster({ workers: 2, batchSize: 128 }).execute(job, { params: p, parallelism });
}

describe('joins on random input equal a brute-force join, at parallelism 1 and 3', () => {
  for (const parallelism of [1, 3]) {
    it(`interval join, out of order within the bound (p${parallelism})`, async () => {
      const p = { ...base, join: 'interval' as const };
      const result = await run(p, parallelism);
      expect(result.get(lateRecords)).toEqual([]);
      const expected = bruteInterval(events('L', p), events('R', p));
      expect(expected.length).toBeGreaterThan(500);
      expect(sorted(result.get(pairs))).toEqual(sorted(expected));
      // Each pair carries the later of its two times.
      const byId = new Map(events('L', p).map((e) => [e.id, e.ts]));
      const rById = new Map(events('R', p).map((e) => [e.id, e.ts]));
      for (const pr of result.get(pairs)) expect(pr.ts).toBe(Math.max(byId.get(pr.l)!, rById.get(pr.r)!));
    });

    it(`interval join with late data (p${parallelism})`, async () => {
      const p = { ...base, join: 'interval' as const, seed: 2, lateShare: 0.05, lateByMs: 4000 };
      const result = await run(p, parallelism);
      const late = result.get(lateRecords);
      // Only records pushed into the past can be late.
      for (const l of late) expect((l.value as Event).ts).toBeLessThan(event(l.side === 'left' ? 'L' : 'R', (l.value as Event).id, { ...p, lateShare: 0 }).ts);
      expect(late.length).toBeGreaterThan(0);
      const [ls, rs] = onTime(p, late);
      expect(sorted(result.get(pairs))).toEqual(sorted(bruteInterval(ls, rs)));
    });

    it(`tumbling window join with late data (p${parallelism})`, async () => {
      const p = { ...base, join: 'tumbling' as const, seed: 3, lateShare: 0.05, lateByMs: 4000 };
      const result = await run(p, parallelism);
      const late = result.get(lateRecords);
      expect(late.length).toBeGreaterThan(0);
      const [ls, rs] = onTime(p, late);
      const expected = bruteWindow(ls, rs, TUMBLE, TUMBLE);
      expect(expected.length).toBeGreaterThan(500);
      expect(sorted(result.get(pairs))).toEqual(sorted(expected));
    });

    it(`sliding window join, out of order within the bound (p${parallelism})`, async () => {
      const p = { ...base, join: 'sliding' as const, seed: 4 };
      const result = await run(p, parallelism);
      expect(result.get(lateRecords)).toEqual([]);
      expect(sorted(result.get(pairs))).toEqual(sorted(bruteWindow(events('L', p), events('R', p), SLIDE.size, SLIDE.slide)));
    });

    for (const kind of ['inner', 'left'] as const) {
      it(`temporal join (${kind}) with dimension updates racing the facts, and late facts (p${parallelism})`, async () => {
        const p: JoinParams = { ...base, join: 'temporal', seed: 5, kind, lateShare: 0.03, lateByMs: 4000 };
        const result = await run(p, parallelism);
        const late = result.get(lateFacts);
        expect(late.length).toBeGreaterThan(0);
        const lateIds = new Set(late.map((l) => (l.value as Event).id));
        const facts = events('L', p).filter((e) => !lateIds.has(e.id));
        const dims = Array.from({ length: dimensionCount(p) }, (_, i) => dimensionChange(i, p));
        const expected: Pair[] = [];
        for (const f of facts) {
          let version: { id: number; ts: number } | null = null;
          let at = -Infinity;
          for (const d of dims) {
            if (d.change.row.key !== f.key || d.ts > f.ts || d.ts < at) continue;
            at = d.ts;
            version = d.change.kind === '-D' ? null : { id: d.change.row.id, ts: d.ts };
          }
          if (version !== null) expected.push({ l: f.id, r: version.id });
          else if (kind === 'left') expected.push({ l: f.id, r: -1 });
        }
        // Updates really race the facts: many facts join a version that is not the key's first.
        expect(expected.filter((e) => e.r >= p.keys).length).toBeGreaterThan(500);
        expect(sorted(result.get(pairs))).toEqual(sorted(expected));
      });
    }
  }
});

type Joined = { l: Row | null; r: Row | null };

/** Applies a changelog to a multiset; fails on a retraction of something not there. */
function materialize(cs: Change<Joined>[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of cs) {
    const k = JSON.stringify(c.row);
    const n = m.get(k) ?? 0;
    if (c.kind === '+I' || c.kind === '+U') m.set(k, n + 1);
    else {
      if (n <= 0) throw new Error(`retraction ${c.kind} of ${k}, which is not in the result`);
      if (n === 1) m.delete(k);
      else m.set(k, n - 1);
    }
  }
  return m;
}

function finalTable(script: Change<Row>[]): Row[] {
  const rows: Row[] = [];
  for (const c of script) {
    if (c.kind === '+I' || c.kind === '+U') rows.push(c.row);
    else rows.splice(rows.findIndex((r) => JSON.stringify(r) === JSON.stringify(c.row)), 1);
  }
  return rows;
}

function bruteRegular(ls: Row[], rs: Row[], kind: 'inner' | 'left' | 'right' | 'full'): Map<string, number> {
  const out: Joined[] = [];
  for (const l of ls) {
    const ms = rs.filter((r) => r.key === l.key);
    for (const r of ms) out.push({ l, r });
    if (ms.length === 0 && (kind === 'left' || kind === 'full')) out.push({ l, r: null });
  }
  if (kind === 'right' || kind === 'full') for (const r of rs) if (!ls.some((l) => l.key === r.key)) out.push({ l: null, r });
  return materialize(out.map((row) => ({ kind: '+I', row })));
}

describe('regular joins: the applied changelog equals the join of the final tables', () => {
  for (const parallelism of [1, 3]) {
    for (const kind of ['inner', 'left', 'right', 'full'] as const) {
      it(`${kind} join of two changelogs (p${parallelism})`, async () => {
        const p: JoinParams = { ...base, join: 'regular', count: 1500, keys: 12, seed: 6, kind };
        const result = await run(p, parallelism);
        const out = result.get(changes);
        expect(out.some((c) => c.kind === '-D' || c.kind === '-U')).toBe(true);
        expect(materialize(out)).toEqual(bruteRegular(finalTable(changelogScript('L', p)), finalTable(changelogScript('R', p)), kind));
      });
    }
    it(`left join of insert-only streams emits +I with null, then -D and +I when the match arrives (p${parallelism})`, async () => {
      const p: JoinParams = { ...base, join: 'regular-insert-only', count: 800, keys: 40, seed: 8, kind: 'left' };
      const result = await run(p, parallelism);
      const out = result.get(changes);
      const ls = changelogScript('L', p).filter((c) => c.kind === '+I').map((c) => c.row);
      const rs = changelogScript('R', p).filter((c) => c.kind === '+I').map((c) => c.row);
      expect(materialize(out)).toEqual(bruteRegular(ls, rs, 'left'));
      const padded = out.filter((c) => c.row.r === null);
      expect(padded.some((c) => c.kind === '+I')).toBe(true);
      expect(padded.some((c) => c.kind === '-D')).toBe(true);
    });
  }
});
