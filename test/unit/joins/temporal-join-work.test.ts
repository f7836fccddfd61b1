/**
 * Work of the temporal join's waiting facts, counted, not timed: between barriers a fact waiting
 * for the watermark costs no keyed-state write, read or timer (it waits in memory); at a barrier
 * the waiting facts not yet written become a log chunk per key group (no timer, nothing written
 * twice), and a restore into either backend joins each fact not yet joined exactly once. A large backlog fires in slices, with the event
 * loop running between them.
 */
import { describe, expect, it } from 'vitest';
import { insert, updateAfter, type Change } from '../../../operators/changelog.ts';
import { FIRE_SLICE, TemporalJoinOperator } from '../../../operators/join/temporal-join.ts';
import { HELD_LOG } from '../../../operators/join/held-fact-log.ts';
import { DEFAULT_MAX_PARALLELISM, keyGroupOf } from '../../../state/key-groups.ts';
import { countingState, countTimerRegistrations, StateReads } from '../../harness/counting-state.ts';
import { OperatorHarness } from '../../harness/operator-harness.ts';

interface Gift {
  room: string;
  id: number;
}
interface Room {
  room: string;
  name: string;
}

const temporal = (maxHeldFacts?: number) => () =>
  new TemporalJoinOperator<Gift, Room, string>(
    'temporal',
    { kind: 'left', join: (g, r) => `${g.id}:${r?.name ?? '-'}` },
    [(g) => (g as Gift).room, (c) => (c as Change<Room>).row.room],
    maxHeldFacts,
  );

const rooms = ['a', 'b', 'c'];
/** Facts 0..n-1 at times 1..n, rooms in turn. */
const gifts = (from: number, n: number): Gift[] => Array.from({ length: n }, (_, i) => ({ room: rooms[(from + i) % 3]!, id: from + i }));
const timesOf = (gs: Gift[]): number[] => gs.map((g) => g.id + 1);

for (const backend of ['heap', 'lmdb'] as const) {
  describe(`temporal join waiting facts (${backend} state)`, () => {
    it('wait in memory between barriers: no timer, bucket or state read per fact', async () => {
      const reads = new StateReads();
      const h = new OperatorHarness<unknown, string>(temporal(), { backend, wrapKeyedState: countingState(reads) });
      await h.processBatch(rooms.map((room) => insert({ room, name: `${room}1` })), [0, 0, 0], 1);
      const registered = countTimerRegistrations(h.keyedState!);
      const gs = gifts(0, 300);
      await h.processBatch(gs, timesOf(gs), 0);
      // 'a' changes at 150, after its facts arrived: one cleanup timer, for the update.
      await h.processBatch([updateAfter({ room: 'a', name: 'a2' })], [150], 1);
      expect(registered.n).toBe(1);
      expect([...h.keyedState!.keys('temporal-join-facts')]).toEqual([]);
      await h.processWatermark(1000);
      expect(reads.of('temporal-join-facts')).toBe(0);
      expect(h.values().length).toBe(300);
      expect(h.values()).toEqual(gs.map((g) => `${g.id}:${g.room}${g.room === 'a' && g.id + 1 >= 150 ? 2 : 1}`));
      await h.close();
    });

    it('at a barrier become one log chunk per key group and no timer, written once however many barriers they wait across; a restore joins each exactly once', async () => {
      const groupsOf = (gs: Gift[]) => new Set(gs.map((g) => keyGroupOf(g.room, DEFAULT_MAX_PARALLELISM))).size;
      const even = gifts(0, 60).filter((g) => g.id % 2 === 0); // before the barrier
      // After it, interleaved in time with the even ones but after the watermark of 20.
      const odd = gifts(0, 60).filter((g) => g.id % 2 === 1 && g.id + 1 > 20);
      const input = async (h: OperatorHarness<unknown, string>, part: 1 | 2) => {
        if (part === 1) {
          await h.processBatch(rooms.map((room) => insert({ room, name: `${room}1` })), [0, 0, 0], 1);
          await h.processBatch(even, timesOf(even), 0);
          await h.processBatch([updateAfter({ room: 'a', name: 'a2' })], [31], 1);
        } else {
          await h.processBatch(odd, timesOf(odd), 0);
          await h.processBatch([updateAfter({ room: 'b', name: 'b2' })], [41], 1);
          await h.processWatermark(100);
        }
      };
      const plain = new OperatorHarness<unknown, string>(temporal(), { backend });
      await input(plain, 1);
      await plain.processWatermark(20);
      await input(plain, 2);
      const expected = plain.values();
      await plain.close();
      expect(expected.length).toBe(even.length + odd.length);
      expect(expected).toContain('30:a2');
      expect(expected).toContain('24:a1');
      expect(expected).toContain('40:b2');
      expect(expected).toContain('37:b1');

      const writes = new StateReads();
      const h = new OperatorHarness<unknown, string>(temporal(), { backend, wrapKeyedState: countingState(new StateReads(), writes) });
      await input(h, 1);
      const registered = countTimerRegistrations(h.keyedState!);
      await h.snapshot();
      expect(registered.n).toBe(0);
      // One chunk per key group of the 30 facts (the rooms' key groups), not a bucket per fact.
      expect(writes.of(HELD_LOG)).toBe(groupsOf(even));
      expect(writes.of('temporal-join-facts')).toBe(0);
      writes.reset();
      await h.snapshot();
      expect(writes.of(HELD_LOG)).toBe(0); // nothing new: nothing written again
      await h.processWatermark(20); // joins the facts at or before 20 (held in memory, not read from state)
      const before = h.values();
      expect(before.length).toBe(even.filter((g) => g.id + 1 <= 20).length);
      const snap = await h.snapshot();
      // The watermark, once per key group whose chunk it cuts; chunks are not rewritten.
      expect(writes.of(HELD_LOG)).toBe(groupsOf(even));
      expect(registered.n).toBe(0);
      await h.close();
      const r = new OperatorHarness<unknown, string>(temporal(), { backend: backend === 'heap' ? 'lmdb' : 'heap' });
      await r.initializeState(snap);
      // A barrier right after the restore, before any watermark: what the log says was joined stays joined.
      const again = await r.snapshot();
      await input(r, 2);
      // Each fact exactly once: those joined before the barrier are not joined again.
      expect([...before, ...r.values()].sort()).toEqual([...expected].sort());
      await r.snapshot(); // the watermark passed every chunk: the log is gone
      expect([...r.keyedState!.keys(HELD_LOG)]).toEqual([]);
      expect([...r.keyedState!.keys('temporal-join-facts')]).toEqual([]);
      await r.close();
      const r2 = new OperatorHarness<unknown, string>(temporal(), { backend });
      await r2.initializeState(again);
      await input(r2, 2);
      expect([...before, ...r2.values()].sort()).toEqual([...expected].sort());
      await r2.close();
    });

    it('past the bound on facts held in memory, facts wait in state; the output is the same', async () => {
      const run = async (maxHeld: number | undefined) => {
        const h = new OperatorHarness<unknown, string>(temporal(maxHeld), { backend });
        await h.processBatch(rooms.map((room) => insert({ room, name: `${room}1` })), [0, 0, 0], 1);
        const registered = countTimerRegistrations(h.keyedState!);
        const gs = gifts(0, 40);
        await h.processBatch(gs, timesOf(gs), 0);
        await h.processBatch([updateAfter({ room: 'c', name: 'c2' })], [20], 1);
        const timers = registered.n;
        await h.processWatermark(100);
        const out = h.values();
        await h.close();
        return { out, timers };
      };
      const all = await run(undefined);
      const bounded = await run(10);
      expect(all.timers).toBe(1);
      expect(bounded.timers).toBe(1 + 30);
      expect(bounded.out).toEqual(all.out);
    });
  });
}

describe('temporal join firing a backlog', () => {
  it('fires in slices and lets the event loop run between them', async () => {
    const n = 2 * FIRE_SLICE + 100;
    const h = new OperatorHarness<unknown, string>(temporal(), { backend: 'heap' });
    await h.processBatch(rooms.map((room) => insert({ room, name: `${room}1` })), [0, 0, 0], 1);
    const gs = gifts(0, n);
    for (let s = 0; s < n; s += 4096) {
      const part = gs.slice(s, s + 4096);
      await h.processBatch(part, timesOf(part), 0);
    }
    const seenByEventLoop: number[] = [];
    const watch = setInterval(() => seenByEventLoop.push(h.values().length), 0);
    await h.processWatermark(n + 1);
    clearInterval(watch);
    expect(h.values().length).toBe(n);
    // The event loop ran while the step was under way: after the first slice, before the last.
    expect(seenByEventLoop.some((c) => c > 0 && c < n)).toBe(true);
    await h.close();
  });
});
