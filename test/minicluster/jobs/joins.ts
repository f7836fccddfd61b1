/**
 * The join operators on seeded random inputs, for comparison with brute-force computations in
 * test/minicluster/joins.test.ts. Event-time inputs are out of order within `bound`, and a share
 * `lateShare` of records is pushed `lateByMs` into the past so that some arrive behind the watermark
 * (those the operators report on their late side outputs are left out of the expected result).
 */
import {
  type Change,
  collectSink,
  datagen,
  defineJob,
  type LateRecord,
  OutputTag,
  SeededRandom,
  slidingWindows,
  tumblingWindows,
  WatermarkStrategy,
} from 'weir';
import { transactionalFileSink } from '../../harness/transactional-sink.ts';

export interface Event {
  side: 'L' | 'R';
  id: number;
  key: string;
  ts: number;
}

export interface Pair {
  l: number;
  r: number;
  ts?: number;
  w?: number;
}

export interface Row {
  id: number;
  key: string;
  v: number;
}

export type JoinParams = {
  join: 'interval' | 'tumbling' | 'sliding' | 'temporal' | 'regular' | 'regular-insert-only';
  count: number;
  seed: number;
  keys: number;
  /** ms between consecutive records of a side. */
  stepMs: number;
  disorder: number;
  bound: number;
  lateShare: number;
  lateByMs: number;
  /** Regular joins. */
  kind?: 'inner' | 'left' | 'right' | 'full';
  /** Parallelism of the sources (default: the job's). */
  sourceParallelism?: number;
  /** Failure-injection runs: rate-limit the sources, write through the exactly-once test sink into this directory. */
  ratePerSecond?: number;
  outDir?: string;
};

export const BASE_TS = 1_700_000_000_000;

/** Record i of a side: mostly in order, jittered by up to `disorder`, some pushed far into the past. */
export function event(side: 'L' | 'R', i: number, p: JoinParams): Event {
  const r = new SeededRandom().reset(p.seed + (side === 'L' ? 0 : 7919), i);
  const key = `k${r.int(p.keys)}`;
  let ts = BASE_TS + i * p.stepMs - r.int(p.disorder + 1);
  if (r.next() < p.lateShare) ts -= p.lateByMs;
  return { side, id: i, key, ts };
}

export const INTERVAL = { lower: -30, upper: 60 };
export const TUMBLE = 200;
export const SLIDE = { size: 300, slide: 100 };

/** Dimension changes for the temporal join: key k's row changes (or is deleted) at unique times. */
export function dimensionChange(i: number, p: JoinParams): { change: Change<Row>; ts: number } {
  const r = new SeededRandom().reset(p.seed + 104729, i);
  const key = `k${i < p.keys ? i : r.int(p.keys)}`;
  // Times 10 steps apart, jittered by less than that (so no two changes share a time, which would
  // make the winner depend on arrival order); the first `keys` changes are the initial table.
  const ts = i < p.keys ? BASE_TS - 10_000 + i : BASE_TS + (i - p.keys) * p.stepMs * 10 - r.int(Math.min(p.disorder, p.stepMs * 10 - 1) + 1);
  const kind = i >= p.keys && r.next() < 0.15 ? '-D' : i < p.keys ? '+I' : '+U';
  return { change: { kind, row: { id: i, key, v: r.int(1000) } }, ts };
}

export function dimensionCount(p: JoinParams): number {
  return Math.floor(p.count / 10) + p.keys;
}

/** A valid retract changelog for one side of a regular join: inserts, updates (-U/+U) and deletes. */
export function changelogScript(side: 'L' | 'R', p: JoinParams): Change<Row>[] {
  const r = new SeededRandom().reset(p.seed + (side === 'L' ? 31 : 37), 0);
  const live: Row[] = [];
  const out: Change<Row>[] = [];
  let nextId = 0;
  while (out.length < p.count) {
    const x = r.next();
    if (live.length === 0 || x < 0.5) {
      const row = { id: nextId++, key: `k${r.int(p.keys)}`, v: r.int(5) };
      live.push(row);
      out.push({ kind: '+I', row });
      // Sometimes the same row twice: the join must count it twice.
      if (r.next() < 0.05) {
        live.push(row);
        out.push({ kind: '+I', row });
      }
    } else if (x < 0.8) {
      const at = r.int(live.length);
      const old = live[at]!;
      const row = { id: old.id, key: r.next() < 0.3 ? `k${r.int(p.keys)}` : old.key, v: r.int(5) };
      live[at] = row;
      out.push({ kind: '-U', row: old }, { kind: '+U', row });
    } else {
      const at = r.int(live.length);
      out.push({ kind: '-D', row: live[at]! });
      live.splice(at, 1);
    }
  }
  return out;
}

export const pairs = collectSink<Pair>('pairs');
export const changes = collectSink<Change<{ l: Row | null; r: Row | null }>>('changes');
export const lateRecords = collectSink<LateRecord<Event, Event>>('late');
export const lateFacts = collectSink<LateRecord<Event, Change<Row>>>('late-facts');
const lateTag = new OutputTag<LateRecord<Event, Event>>('late');
const lateFactTag = new OutputTag<LateRecord<Event, Change<Row>>>('late-facts');

export default defineJob(import.meta.url, (env, p: JoinParams) => {
  const sourceOptions = p.sourceParallelism === undefined ? {} : { parallelism: p.sourceParallelism };
  const rate = p.ratePerSecond === undefined ? {} : { ratePerSecond: p.ratePerSecond };
  const pairSink = p.outDir === undefined ? pairs : transactionalFileSink<Pair>(p.outDir);
  const changeSink = p.outDir === undefined ? changes : transactionalFileSink<Change<{ l: Row | null; r: Row | null }>>(p.outDir);
  const side = (s: 'L' | 'R') =>
    env.fromSource(datagen({ count: p.count, seed: p.seed, generate: (i) => event(s, i, p), ...rate }), {
      name: `${s}-events`,
      uid: `${s}-events`,
      watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Event>(p.bound, (e) => e.ts),
      ...sourceOptions,
    });
  switch (p.join) {
    case 'interval':
    case 'tumbling':
    case 'sliding': {
      const joined = side('L').join(side('R')).where((e) => e.key).equalTo((e) => e.key);
      const out =
        p.join === 'interval'
          ? joined.between(INTERVAL.lower, INTERVAL.upper).apply((l, r): Pair => ({ l: l.id, r: r.id, ts: Math.max(l.ts, r.ts) }), { lateOutput: lateTag, uid: 'join' })
          : joined
              .window(p.join === 'tumbling' ? tumblingWindows(TUMBLE) : slidingWindows(SLIDE.size, SLIDE.slide))
              .apply((l, r, w): Pair => ({ l: l.id, r: r.id, w: w.start }), { lateOutput: lateTag, uid: 'join' });
      out.sinkTo(pairSink, { uid: 'sink' });
      out.getSideOutput(lateTag).sinkTo(lateRecords);
      return;
    }
    case 'temporal': {
      const dims = env.fromSource(datagen({ count: dimensionCount(p), seed: p.seed, generate: (i) => dimensionChange(i, p), ...rate }), {
        name: 'dimension-changes',
        uid: 'dimension-changes',
        watermarks: WatermarkStrategy.forBoundedOutOfOrderness<{ change: Change<Row>; ts: number }>(p.bound, (d) => d.ts),
        ...sourceOptions,
      });
      const out = side('L')
        .temporalJoin(dims.map((d) => d.change))
        .where((e) => e.key)
        .equalTo((row) => row.key)
        .apply((e, row): Pair => ({ l: e.id, r: row === null ? -1 : row.id, ts: e.ts }), { kind: p.kind === 'left' ? 'left' : 'inner', lateOutput: lateFactTag, uid: 'join' });
      out.sinkTo(pairSink, { uid: 'sink' });
      out.getSideOutput(lateFactTag).sinkTo(lateFacts);
      return;
    }
    case 'regular':
    case 'regular-insert-only': {
      const script = (s: 'L' | 'R') => {
        const all = changelogScript(s, p);
        return p.join === 'regular' ? all : all.filter((c) => c.kind === '+I');
      };
      const scripts = { L: script('L'), R: script('R') };
      // One source subtask per side keeps each row's changes in order on their way to the join.
      const src = (s: 'L' | 'R') => env.fromSource(datagen({ count: scripts[s].length, generate: (i) => scripts[s][i]!, ...rate }), { name: `${s}-changes`, uid: `${s}-changes`, parallelism: 1 });
      const kind = p.kind ?? 'inner';
      const build = (l: Row | null, r: Row | null) => ({ l, r });
      if (p.join === 'regular') {
        const j = src('L').joinChanges(src('R')).where((row) => row.key).equalTo((row) => row.key);
        const opts = { uid: 'join' };
        const out = kind === 'inner' ? j.inner(build, opts) : kind === 'left' ? j.leftOuter(build, opts) : kind === 'right' ? j.rightOuter(build, opts) : j.fullOuter(build, opts);
        out.sinkTo(changeSink, { uid: 'sink' });
      } else {
        const j = src('L').map((c) => c.row).join(src('R').map((c) => c.row)).where((row) => row.key).equalTo((row) => row.key);
        const out = kind === 'inner' ? j.inner(build) : kind === 'left' ? j.leftOuter(build) : kind === 'right' ? j.rightOuter(build) : j.fullOuter(build);
        out.sinkTo(changeSink, { uid: 'sink' });
      }
      return;
    }
  }
});
