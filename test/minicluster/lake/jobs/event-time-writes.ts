/**
 * A job writing event-time rows into a primary-key table with automatic hourly tags: row i has
 * event time `start + i * stepMs` (ascending per split, monotonous watermarks), read by two source
 * subtasks and written by two writers, so the table's watermark is the least of two.
 */
import { datagen, defineJob, WatermarkStrategy } from 'weir';
import { lakeSink, T } from 'weir/lake';

export interface Reading {
  id: number;
  ts: number;
}

export type EventTimeParams = { path: string; count: number; start: number; stepMs: number; ratePerSecond: number };

export default defineJob(import.meta.url, (env, p: EventTimeParams) => {
  env
    .fromSource(datagen<Reading>({ name: 'readings', count: p.count, splits: 4, ratePerSecond: p.ratePerSecond, generate: (i) => ({ id: i, ts: p.start + i * p.stepMs }) }), {
      uid: 'readings',
      parallelism: 2,
      watermarks: WatermarkStrategy.forMonotonousTimestamps<Reading>((r) => r.ts),
    })
    .sinkTo(
      lakeSink<Reading>({
        path: p.path,
        writers: 2,
        schema: {
          fields: [{ name: 'id', type: T.notNull(T.int()) }, { name: 'ts', type: T.bigint() }],
          primaryKeys: ['id'],
          options: { bucket: '2', 'tag.automatic-creation': 'watermark', 'tag.creation-period': 'hourly' },
        },
      }),
      { uid: 'readings-lake', parallelism: 2 },
    );
});
