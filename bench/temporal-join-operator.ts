/**
 * `npx tsx bench/temporal-join-operator.ts [rows] [facts] [heap|lmdb]`: the temporal join operator
 * alone on one thread (no exchange, no sources), driven by the operator test harness with the
 * temporal-join bench's records: `rows` dimension inserts valid from 0, then `facts` facts at times
 * 1.. with keys spread over the rows, held until the watermark passes them (it stays at -1 until the
 * table is loaded, as in the job), then one watermark past the last fact. Prints records/s (rows +
 * facts) and where the time went. Defaults: 200000 60000 lmdb.
 */
import type { Change } from '../operators/changelog.ts';
import { TemporalJoinOperator } from '../operators/join/temporal-join.ts';
import { OperatorHarness } from '../test/harness/operator-harness.ts';
import { dimRow, factOf, type Dim, type Fact } from './jobs/joins.ts';

const ROWS = Number(process.argv[2] ?? 200000);
const FACTS = Number(process.argv[3] ?? 60000);
const backend = (process.argv[4] ?? 'lmdb') as 'heap' | 'lmdb';
const h = new OperatorHarness<unknown, number>(
  () => new TemporalJoinOperator<Fact, Dim, number>('tj', { kind: 'inner', join: (f, d) => f.id + d!.tier }, [(f) => (f as Fact).dim, (c) => (c as Change<Dim>).row.id]),
  { backend },
);
await h.open();
const B = 4096;
const t0 = performance.now();
for (let s = 0; s < ROWS; s += B) {
  const n = Math.min(B, ROWS - s);
  const vs = Array.from({ length: n }, (_, j): Change<Dim> => ({ kind: '+I', row: dimRow(s + j) }));
  await h.processBatch(vs, new Float64Array(n), 1);
}
const t1 = performance.now();
for (let s = 0; s < FACTS; s += B) {
  const n = Math.min(B, FACTS - s);
  const vs = Array.from({ length: n }, (_, j) => factOf(s + j, ROWS));
  await h.processBatch(vs, vs.map((f) => f.ts), 0);
}
const t2 = performance.now();
await h.processWatermark(FACTS + 1);
const t3 = performance.now();
const out = h.values().length;
if (out !== FACTS) throw new Error(`joined ${out} facts, expected ${FACTS}`);
console.log(`${backend} ${(((ROWS + FACTS) / (t3 - t0)) * 1000 / 1e3).toFixed(0)}k records/s; load ${(t1 - t0).toFixed(0)} ms, facts in ${(t2 - t1).toFixed(0)} ms, fired in ${(t3 - t2).toFixed(0)} ms`);
await h.close();
