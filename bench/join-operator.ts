/**
 * `npx tsx bench/join-operator.ts [records] [heap|lmdb] [keys] [lagMs]`: the interval join
 * operator alone on one thread (no exchange, no sources), driven by the operator test harness with
 * the interval-join bench's records (`k{i % keys}` at base + i, both sides, ±2 ms, watermark lagMs
 * behind). Prints records/s. With few keys and a large lag every key buffers records a probe does
 * not join with (`npx tsx bench/join-operator.ts 100000 heap 50 2000`), which shows what a probe
 * reads apart from the machine's other work. Defaults: 200000 heap 10000 10.
 */
import { IntervalJoinOperator } from '../operators/join/interval-join.ts';
import { OperatorHarness } from '../test/harness/operator-harness.ts';
interface Ev { key: string; ts: number; v: number }
const N = Number(process.argv[2] ?? 200000);
const backend = (process.argv[3] ?? 'heap') as 'heap' | 'lmdb';
const KEYS = Number(process.argv[4] ?? 10000);
const LAG = Number(process.argv[5] ?? 10);
const ev = (i: number): Ev => ({ key: `k${i % KEYS}`, ts: 1_700_000_000_000 + i, v: i });
const h = new OperatorHarness<Ev, number>(() => new IntervalJoinOperator<Ev, Ev, number>('ij', { lowerMs: -2, upperMs: 2, join: (l, r) => l.v + r.v }, [(e) => (e as Ev).key, (e) => (e as Ev).key]), { backend });
await h.open();
const B = 1024;
const t0 = performance.now();
for (let s = 0; s < N; s += B) {
  const n = Math.min(B, N - s);
  const vs = Array.from({ length: n }, (_, j) => ev(s + j));
  const ts = vs.map((e) => e.ts);
  await h.processBatch(vs, ts, 0);
  await h.processBatch(vs.map((e) => ({ ...e })), ts, 1);
  await h.processWatermark(ts[ts.length - 1]! - LAG - 1);
  h.clearOutput();
}
const ms = performance.now() - t0;
console.log(`${backend} ${((2 * N) / ms * 1000 / 1e3).toFixed(0)}k records/s`);
await h.close();
