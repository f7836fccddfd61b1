/** A keyed running sum with `reduce`: every record emits its key's new total. */
import { collectSink, datagen, defineJob } from 'weir';

export interface Reading {
  sensor: string;
  value: number;
}

export function reading(i: number, random: { int(n: number): number }): Reading {
  return { sensor: `sensor-${random.int(50)}`, value: random.int(1000) - 300 };
}

export const sums = collectSink<Reading>('running-sums');

export default defineJob(import.meta.url, (env, params: { count: number; seed: number }) => {
  env
    .fromSource(datagen({ count: params.count, seed: params.seed, generate: reading }))
    .map((r) => ({ sensor: r.sensor, value: r.value * 2 }))
    .filter((r) => r.value !== 0)
    .keyBy((r) => r.sensor)
    .reduce((a, b) => ({ sensor: a.sensor, value: a.value + b.value }), { uid: 'sum' })
    .sinkTo(sums);
});
