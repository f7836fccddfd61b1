/**
 * A bounded job whose map fails on one record, in one of three ways: `poison` (a BadRecordError:
 * not retriable, on every attempt), `transient` (a plain Error, only in the first attempt: a file
 * marks that it happened), `stall` (blocks its task manager's thread for a minute, only in the
 * first attempt: a stuck task manager). With `deadLetter`, records failing with a non-retriable
 * error go to a dead-letter output instead.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { BadRecordError, OutputTag, collectSink, datagen, defineJob } from '../../../runtime/api/index.ts';
import type { DeadLetter } from '../../../operators/dead-letter.ts';

export const out = collectSink<{ id: number }>('faulty-out');
export const deadOut = collectSink<DeadLetter<{ id: number }>>('faulty-dead-letters');
const deadLetters = new OutputTag<DeadLetter<{ id: number }>>('bad-orders');

export type FaultyParams = {
  count: number;
  failAt: number;
  mode: 'poison' | 'transient' | 'stall';
  /** File created when the one-off fault happened (transient, stall). */
  marker: string;
  ratePerSecond?: number;
  /** Send records that fail with a non-retriable error to a dead-letter output. */
  deadLetter?: boolean;
};

function onceOnly(marker: string): boolean {
  if (existsSync(marker)) return false;
  writeFileSync(marker, 'failed once');
  return true;
}

export default defineJob(import.meta.url, (env, p: FaultyParams) => {
  const priced = env
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
      { name: 'price-orders', ...(p.deadLetter ? { deadLetter: deadLetters } : {}) },
    );
  priced.sinkTo(out);
  if (p.deadLetter) priced.getSideOutput(deadLetters).sinkTo(deadOut);
});
