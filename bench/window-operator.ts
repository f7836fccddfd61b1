/**
 * `npx tsx bench/window-operator.ts [slideMs] [heap|lmdb] [records] [rounds]`: the aligned window
 * operator alone on one thread (no exchange, no sources), driven by the operator test harness with
 * the window benchmarks' records (`key-{i % 1000}` at base + i, counted per key in 10 s windows
 * sliding every `slideMs`, 10000 for tumbling; the counts are summed, not emitted), in batches of
 * 4096 with the key groups and hashes the keyBy exchange would carry, and a watermark after each
 * batch. Each round is a new operator over the same input (the first rounds warm the code up). It
 * prints each round's records/s and the best of the last half, by wall clock and per CPU second:
 * to compare two versions on a busy machine, run both at once (one per core) and compare their
 * best rounds (other work only ever slows a round down). Defaults: 1000 heap 1000000 8.
 */
import { AlignedWindowOperator } from '../operators/window/aligned-window-operator.ts';
import { slidingEventTimeWindows } from '../operators/window/sliding.ts';
import type { WindowResultFunction } from '../operators/window/time-window.ts';
import { aggregateContents } from '../operators/window/window-contents.ts';
import { DEFAULT_MAX_PARALLELISM, hashString, keyGroupOfHash } from '../state/key-groups.ts';
import { OperatorHarness } from '../test/harness/operator-harness.ts';
import { SIZE_MS, tick, type Tick } from './jobs/windows.ts';

const SLIDE = Number(process.argv[2] ?? 1000);
const backend = (process.argv[3] ?? 'heap') as 'heap' | 'lmdb';
const N = Number(process.argv[4] ?? 1_000_000);
const ROUNDS = Number(process.argv[5] ?? 8);
const KEYS = 1000;
const B = 4096;

interface Batch {
  values: Tick[];
  times: Float64Array;
  keyGroups: Int32Array;
  keyHashes: Int32Array;
}

const batches: Batch[] = [];
for (let s = 0; s < N; s += B) {
  const n = Math.min(B, N - s);
  const values = Array.from({ length: n }, (_, j) => tick(s + j, KEYS));
  const keyHashes = Int32Array.from(values, (t) => hashString(t.key));
  batches.push({ values, times: Float64Array.from(values, (t) => t.ts), keyGroups: Int32Array.from(keyHashes, (h) => keyGroupOfHash(h, DEFAULT_MAX_PARALLELISM)), keyHashes });
}

let checksum = 0;
async function round(): Promise<number> {
  let op!: AlignedWindowOperator<string, Tick, number, number, number>;
  const count = aggregateContents<Tick, number, number>({ createAccumulator: () => 0, add: (_t, a) => a + 1, merge: (a, b) => a + b, getResult: (a) => a });
  // Sums the counts instead of emitting them: the harness records every output as an object,
  // which the runtime's chained output does not.
  const emit: WindowResultFunction<string, number, number> = (n) => {
    checksum += n;
  };
  const h = new OperatorHarness<Tick, number>(() => (op = new AlignedWindowOperator<string, Tick, number, number, number>('window', (t) => t.key, slidingEventTimeWindows(SIZE_MS, SLIDE), count, emit)), { backend, maxParallelism: DEFAULT_MAX_PARALLELISM, keyGroupRange: { start: 0, end: DEFAULT_MAX_PARALLELISM - 1 } });
  await h.open();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (const b of batches) {
    op.processBatch(b.values, b.times, 0, b.keyGroups, b.keyHashes);
    await h.processWatermark(b.times[b.times.length - 1]! - 1);
  }
  await h.processWatermark(Infinity);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  cpuRates.push((N / (cpu.user + cpu.system)) * 1e6);
  await h.close();
  return (N / ms) * 1000;
}

/** Per round: records per second of the process's CPU time (this thread and V8's helpers, such as the GC's). */
const cpuRates: number[] = [];

const rates: number[] = [];
for (let r = 0; r < ROUNDS; r++) rates.push(await round());
const best = Math.max(...rates.slice(Math.floor(ROUNDS / 2)));
const expected = N * (SIZE_MS / SLIDE);
if (Math.abs(checksum / ROUNDS - expected) > KEYS * (SIZE_MS / SLIDE) ** 2) throw new Error(`counted ${checksum / ROUNDS} per round, expected about ${expected}`);
const bestCpu = Math.max(...cpuRates.slice(Math.floor(ROUNDS / 2)));
const m = (r: number): string => `${(r / 1e6).toFixed(2)}M`;
console.log(`sliding ${SIZE_MS} ms every ${SLIDE} ms, ${backend}: ${rates.map(m).join(' ')}; best of the last ${ROUNDS - Math.floor(ROUNDS / 2)}: ${m(best)} records/s, ${m(bestCpu)} per CPU second`);
