/**
 * Work of a join probe, counted (values its state hands out, test/harness/counting-state.ts), not
 * timed: a probe reads only its own join key's rows, an interval join only the other side's buckets
 * inside its interval, and an outer regular join does not read its own side's rows to count them.
 * An interval join buffers in memory between checkpoints (no state write or timer per bucket, its
 * cleanups wait in a queue by time), and still snapshots its buckets with their timers.
 */
import { describe, expect, it } from 'vitest';
import type { Change } from '../../../operators/changelog.ts';
import { IntervalJoinOperator } from '../../../operators/join/interval-join.ts';
import { RegularJoinOperator } from '../../../operators/join/regular-join.ts';
import { countingState, countTimerRegistrations, StateReads } from '../../harness/counting-state.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';

interface Ev {
  key: string;
  id: number;
}

for (const backend of ['heap', 'lmdb'] as const) {
  describe(`join probes read only what they join (${backend} state)`, () => {
    it('an interval join probe reads the buckets inside its interval, not every bucket of its key, nor other keys', async () => {
      const reads = new StateReads();
      const op = () => new IntervalJoinOperator<Ev, Ev, string>('interval', { lowerMs: 0, upperMs: 10, join: (l, r) => `${l.id}-${r.id}` }, [(e) => (e as Ev).key, (e) => (e as Ev).key]);
      const h = new OperatorHarness<Ev, string>(op, { backend, wrapKeyedState: countingState(reads) });
      // 200 right buckets for each of 20 keys, at times 0, 10, ..., 1990
      const rights: Ev[] = [];
      const times: number[] = [];
      for (let k = 0; k < 20; k++) {
        for (let b = 0; b < 200; b++) {
          rights.push({ key: `k${k}`, id: k * 1000 + b });
          times.push(b * 10);
        }
      }
      await h.processBatch(rights, times, 1);
      expect(h.values()).toEqual([]);
      // Buffered in memory: a probe reads no state.
      await h.processBatch([{ key: 'k7', id: -1 }], [1000], 0);
      expect(h.values()).toEqual(['-1-7100', '-1-7101']);
      expect(reads.of('interval-join-right') + reads.of('interval-join-left')).toBe(0);
      // A barrier moves the buffers to state; a probe then reads the two buckets in its interval.
      await h.snapshot();
      reads.reset();
      await h.processBatch([{ key: 'k7', id: -2 }], [1000], 0);
      expect(h.values().slice(2)).toEqual(['-2-7100', '-2-7101']);
      expect(reads.of('interval-join-right')).toBe(2);
      expect(reads.of('interval-join-left')).toBe(0); // its own side is not read
      await h.close();
    });

    it('interval join buffers wait in memory with their cleanups queued, no state or timer per bucket; at a barrier they become buckets and timers a restore fires', async () => {
      const op = () => new IntervalJoinOperator<Ev, Ev, string>('interval', { lowerMs: -2, upperMs: 2, join: (l, r) => `${l.id}-${r.id}` }, [(e) => (e as Ev).key, (e) => (e as Ev).key]);
      const h = new OperatorHarness<Ev, string>(op, { backend });
      await h.open();
      const registered = countTimerRegistrations(h.keyedState!);
      // 100 keys, a record per side and ms, the watermark 10 ms behind after each batch of 50
      for (let b = 0; b < 20; b++) {
        const evs = Array.from({ length: 50 }, (_, i) => ({ key: `k${(b * 50 + i) % 100}`, id: b * 50 + i }));
        const times = evs.map((e) => e.id);
        await h.processBatch(evs, times, 0);
        await h.processBatch(evs, times, 1);
        await h.processWatermark(b * 50 + 49 - 10);
      }
      expect(h.values().length).toBe(1000); // each left record meets its twin
      expect(registered.n).toBe(0);
      const live = (side: string) => [...h.keyedState!.keys(side)].length;
      expect(live('interval-join-left') + live('interval-join-right')).toBe(0); // buffered in memory between barriers
      const snap = await h.snapshot();
      expect(registered.n).toBe(24); // the buckets in memory (within 12 ms of the last record) moved to state with their timers
      expect(live('interval-join-left')).toBe(12);
      expect(live('interval-join-right')).toBe(12);
      await h.close();
      const r = new OperatorHarness<Ev, string>(op, { backend: backend === 'heap' ? 'lmdb' : 'heap' });
      await r.initializeState(snap);
      await r.open();
      expect(r.keyedState!.timers.size('event')).toBe(24);
      await r.processWatermark(2000);
      expect([...r.keyedState!.keys('interval-join-left')].length + [...r.keyedState!.keys('interval-join-right')].length).toBe(0);
      expect(r.keyedState!.timers.size('event')).toBe(0);
      await r.close();
    });

    it('a regular outer join probe reads the other side of its own key only, and never its own side to count it', async () => {
      const reads = new StateReads();
      const op = () =>
        new RegularJoinOperator<Ev, Ev, string>('join', { kind: 'full', join: (l, r) => `${l?.id ?? '-'}:${r?.id ?? '-'}`, changelog: [false, false] }, [
          (e) => (e as Ev).key,
          (e) => (e as Ev).key,
        ]);
      const h = new OperatorHarness<unknown, Change<string>>(op, { backend, wrapKeyedState: countingState(reads) });
      // 50 keys with 10 right rows each, and 30 left rows of key k7
      const rights: Ev[] = [];
      for (let k = 0; k < 50; k++) for (let i = 0; i < 10; i++) rights.push({ key: `k${k}`, id: k * 100 + i });
      await h.processBatch(rights, rights.map(() => 0), 1);
      const lefts: Ev[] = Array.from({ length: 30 }, (_, i) => ({ key: 'k7', id: 10_000 + i }));
      await h.processBatch(lefts, lefts.map(() => 0), 0);
      h.clearOutput();
      reads.reset();
      // One more left row of k7: joins with k7's 10 right rows.
      await h.processBatch([{ key: 'k7', id: 99_999 }], [0], 0);
      expect(h.values().map((c) => c.row).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `99999:${700 + i}`).sort());
      expect(reads.of('join-right')).toBe(10);
      expect(reads.of('join-left')).toBe(0); // the new row's id is not there yet; the 30 rows are not read
      expect(reads.of('join-left-count')).toBe(1);
      await h.close();
    });
  });
}
