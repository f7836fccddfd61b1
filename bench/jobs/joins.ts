/**
 * Jobs of the join benchmarks, each ending in a timing sink:
 *  - interval: left and right events with keys `k{i % 10000}` at time base + i; right in
 *    [left - 2, left + 2] ms, so each left record meets exactly its twin (one pair per index);
 *    with `keys` and `lagMs`, fewer keys and a later watermark: each key then buffers about
 *    lagMs / keys records per side that a probe does not join with;
 *  - temporal: a dimension table of `rows` rows loaded from its changelog into LMDB keyed state
 *    (valid from time 0), then `count` facts at times 1.. with random keys, each joined with its row.
 *    Facts wait in state until the table is complete (the dimension watermark stays at -1 until its
 *    source ends), so a probe after the dimension source reports when its first record passed: the
 *    measured time runs from there to the last joined fact, loading the table included.
 */
import { type Change, datagen, defineJob, type Operator, type OperatorContext, WatermarkStrategy } from 'weir';
import { timingSink } from './pipelines.ts';

export interface Ev {
  key: string;
  ts: number;
  v: number;
}

export interface Dim {
  id: number;
  name: string;
  tier: number;
}

export interface Fact {
  id: number;
  dim: number;
  ts: number;
}

export const BASE = 1_700_000_000_000;
export const INTERVAL_KEYS = 10_000;

export function ev(i: number, keys = INTERVAL_KEYS): Ev {
  return { key: `k${i % keys}`, ts: BASE + i, v: i };
}

export function dimRow(i: number): Dim {
  return { id: i, name: `room-${i}`, tier: i % 7 };
}

/** Fact i's dimension key: a multiplicative hash of i, spread over all rows. */
export function factOf(i: number, rows: number): Fact {
  return { id: i, dim: (Math.imul(i, 2654435761) >>> 0) % rows, ts: 1 + i };
}

export interface ProbeTiming {
  first: number;
}

/** Passes records on; tells the client when the first one passed. */
class FirstRecordProbe<T> implements Operator<T, T> {
  readonly name = 'first-record-probe';
  private ctx!: OperatorContext<T>;
  private first = 0;
  open(ctx: OperatorContext<T>): void {
    this.ctx = ctx;
  }
  processBatch(values: readonly T[], times: ArrayLike<number>): void {
    if (this.first === 0 && values.length > 0) this.first = performance.timeOrigin + performance.now();
    for (let i = 0; i < values.length; i++) this.ctx.output.emit(values[i]!, times[i]!);
  }
  endInput(): void {
    if (this.first > 0) this.ctx.client.send('probe', [{ first: this.first } satisfies ProbeTiming]);
  }
}

/** `keys` and `lagMs` (the watermarks' out-of-orderness bound, default 10) for the interval job. */
export type JoinBenchParams = { kind: 'interval' | 'temporal'; count: number; rows: number; keys?: number; lagMs?: number };

export default defineJob(import.meta.url, (env, p: JoinBenchParams) => {
  if (p.kind === 'interval') {
    const side = (name: string) =>
      env.fromSource(datagen({ name, count: p.count, generate: (i) => ev(i, p.keys) }), { name, uid: name, watermarks: WatermarkStrategy.forBoundedOutOfOrderness<Ev>(p.lagMs ?? 10, (e) => e.ts) });
    side('left')
      .join(side('right'))
      .where((e) => e.key)
      .equalTo((e) => e.key)
      .between(-2, 2)
      .apply((l, r) => l.v + r.v, { uid: 'interval-join' })
      .sinkTo(timingSink<number>((n) => n));
    return;
  }
  const dims = env.fromSource(datagen<Change<Dim>>({ name: 'dimension', count: p.rows, generate: (i) => ({ kind: '+I', row: dimRow(i) }), timestampOf: () => 0 }), {
    name: 'dimension',
    uid: 'dimension',
    watermarks: WatermarkStrategy.forMonotonousTimestamps<Change<Dim>>(),
  });
  env
    .fromSource(datagen({ name: 'facts', count: p.count, generate: (i) => factOf(i, p.rows) }), { name: 'facts', uid: 'facts', watermarks: WatermarkStrategy.forMonotonousTimestamps<Fact>((f) => f.ts) })
    .temporalJoin(dims.transform('first-record-probe', () => new FirstRecordProbe<Change<Dim>>()))
    .where((f) => f.dim)
    .equalTo((d) => d.id)
    .apply((f, d) => f.id + d!.tier, { uid: 'temporal-join' })
    .sinkTo(timingSink<number>((n) => n));
});
