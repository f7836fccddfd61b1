/**
 * A bounded job whose map fails on one record, in one of three ways: `poison` (a BadRecordError:
 * not retriable, on every attempt), `transient` (a plain Error, only in the first attempt: a file
 * marks that it happened), `stall` (blocks its task manager's thread for a minute, only in the
 * first attempt: a stuck task manager).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { BadRecordError, collectSink, datagen, defineJob } from '../../../runtime/api/index.ts';

export const out = collectSink<{ id: number }>('faulty-out');

export type FaultyParams = {
  count: number;
  failAt: number;
  mode: 'poison' | 'transient' | 'stall';
  /** File created when the one-off fault happened (transient, stall). */
  marker: string;
  ratePerSecond?: number;
};

function onceOnly(marker: string): boolean {
  if (existsSync(marker)) return false;
  writeFileSync(marker, 'failed once');
  return true;
}

export default defineJob(import.meta.url, (env, p: FaultyParams) => {
  env
    .fromSource(datagen({ count: p.count, ratePerSecond: p.ratePerSecond, generate: (i) => ({ id: i }) }), { name: 'orders', uid: 'orders' })
    .map(
      (r) => {
        if (r.id === p.failAt) {
          if (p.mode === 'poison') throw new BadRecordError(`order ${r.id} has no price`, JSON.stringify(r), 'price');
          if (p.mode === 'transient' && onceOnly(p.marker)) throw new Error(`price service unavailable for order ${r.id}`);
          if (p.mode === 'stall' && onceOnly(p.marker)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
        }
        return { id: r.id };
      },
      { name: 'price-orders' },
    )
    .sinkTo(out);
});
