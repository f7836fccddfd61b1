/**
 * Join state is keyed state: snapshot mid-stream, restore into a fresh operator (LMDB or heap, at
 * the same or a split key-group range) and the output is the same as without the restart.
 */
import { describe, expect, it } from 'vitest';
import { insert, updateAfter, deletion, type Change } from '../../../operators/changelog.ts';
import { IntervalJoinOperator } from '../../../operators/join/interval-join.ts';
import { RegularJoinOperator } from '../../../operators/join/regular-join.ts';
import { TemporalJoinOperator, type Versions } from '../../../operators/join/temporal-join.ts';
import { tumblingWindows, WindowJoinOperator } from '../../../operators/join/window-join.ts';
import { keyGroupOf } from '../../../state/key-groups.ts';
import { OperatorHarness, type HarnessSnapshot } from '../../harness/operator-harness.ts';

interface Gift {
  room: string;
  id: number;
}
interface Room {
  room: string;
  name: string;
}

const temporal = () =>
  new TemporalJoinOperator<Gift, Room, string>('temporal', { kind: 'left', join: (g, r) => `${g.id}:${r?.name ?? '-'}` }, [
    (g) => (g as Gift).room,
    (c) => (c as Change<Room>).row.room,
  ]);

describe('temporal join state', () => {
  it('the dimension table and the waiting facts survive a restart (LMDB), and a rescale to two halves', async () => {
    const h = new OperatorHarness<unknown, string>(temporal, { backend: 'lmdb' });
    await h.processBatch([insert({ room: 'a', name: 'A1' }), insert({ room: 'b', name: 'B1' })], [0, 0], 1);
    await h.processWatermark(5);
    // Facts at 10 and 20; an update of 'a' at 15 races them (it arrives after both).
    await h.processBatch([{ room: 'a', id: 1 }, { room: 'a', id: 2 }, { room: 'b', id: 3 }], [10, 20, 20], 0);
    await h.processBatch([updateAfter({ room: 'a', name: 'A2' }), deletion({ room: 'b', name: 'B1' })], [15, 18], 1);
    expect(h.values()).toEqual([]);
    const snap: HarnessSnapshot = await h.snapshot();
    await h.close();

    const expected = ['1:A1', '2:A2', '3:-'];
    const whole = new OperatorHarness<unknown, string>(temporal, { backend: 'lmdb' });
    await whole.initializeState(snap);
    await whole.processWatermark(100);
    expect(whole.values().sort()).toEqual(expected);
    await whole.close();

    // Split 128 key groups in two, as a rescale from 1 to 2 subtasks would.
    const got: string[] = [];
    for (const range of [{ start: 0, end: 63 }, { start: 64, end: 127 }]) {
      const half = new OperatorHarness<unknown, string>(temporal, { backend: 'heap', keyGroupRange: range });
      await half.initializeState(snap);
      await half.processWatermark(100);
      for (const v of half.values()) {
        const room = v.startsWith('3') ? 'b' : 'a';
        const kg = keyGroupOf(room, 128);
        expect(kg >= range.start && kg <= range.end).toBe(true);
        got.push(v);
      }
      await half.close();
    }
    expect(got.sort()).toEqual(expected);
  });

  for (const backend of ['heap', 'lmdb'] as const) {
    it(`state from before versions were one value per key (a map per key) is migrated at restore (${backend})`, async () => {
      // The old layout, written directly: 'a' has versions at 1 and 15 and an update timer at 15.
      const old = new OperatorHarness<unknown, string>(temporal, { backend });
      await old.open();
      const b = old.keyedState!;
      const legacy = b.getMapState<number, Room | null>({ kind: 'map', name: 'temporal-join-versions' });
      b.setCurrentKey('a', keyGroupOf('a', 128));
      legacy.put(1, { room: 'a', name: 'A1' });
      legacy.put(15, { room: 'a', name: 'A2' });
      b.timers.register('event', 15, 'a', keyGroupOf('a', 128), 'v');
      const snap = await old.snapshot();
      await old.close();
      const r = new OperatorHarness<unknown, string>(temporal, { backend: backend === 'heap' ? 'lmdb' : 'heap' });
      await r.initializeState(snap);
      await r.processBatch([{ room: 'a', id: 1 }, { room: 'a', id: 2 }], [10, 20], 0);
      await r.processWatermark(100);
      expect(r.values()).toEqual(['1:A1', '2:A2']);
      expect([...r.keyedState!.keys('temporal-join-versions')]).toEqual([]);
      await r.close();
    });
  }

  for (const backend of ['heap', 'lmdb'] as const) {
    it(`versions in the layout before the flat array ({t, rows}) are read (${backend})`, async () => {
      const old = new OperatorHarness<unknown, string>(temporal, { backend });
      await old.open();
      const b = old.keyedState!;
      const dim = b.getValueState<{ t: number[]; rows: (Room | null)[] }>({ kind: 'value', name: 'temporal-join-dimension' });
      b.setCurrentKey('a', keyGroupOf('a', 128));
      dim.update({ t: [1, 15], rows: [{ room: 'a', name: 'A1' }, { room: 'a', name: 'A2' }] });
      b.timers.register('event', 15, 'a', keyGroupOf('a', 128), 'v');
      b.setCurrentKey('b', keyGroupOf('b', 128));
      dim.update({ t: [1], rows: [{ room: 'b', name: 'B1' }] });
      const snap = await old.snapshot();
      await old.close();
      const r = new OperatorHarness<unknown, string>(temporal, { backend: backend === 'heap' ? 'lmdb' : 'heap' });
      await r.initializeState(snap);
      await r.processBatch([updateAfter({ room: 'b', name: 'B2' })], [12], 1);
      await r.processBatch([{ room: 'a', id: 1 }, { room: 'a', id: 2 }, { room: 'b', id: 3 }, { room: 'b', id: 4 }], [10, 20, 11, 13], 0);
      await r.processWatermark(100);
      expect(r.values().sort()).toEqual(['1:A1', '2:A2', '3:B1', '4:B2']);
      await r.close();
    });
  }

  it('old versions are dropped once the watermark passes them; a deleted key disappears', async () => {
    const h = new OperatorHarness<unknown, string>(temporal, { backend: 'heap' });
    await h.processBatch([insert({ room: 'a', name: 'A1' }), updateAfter({ room: 'a', name: 'A2' }), insert({ room: 'b', name: 'B1' }), deletion({ room: 'b', name: 'B1' })], [1, 2, 3, 4], 1);
    await h.processWatermark(10);
    const backend = h.keyedState!;
    expect([...backend.keys('temporal-join-dimension')].map(([k]) => k)).toEqual(['a']);
    backend.setCurrentKey('a', keyGroupOf('a', 128));
    expect(backend.getValueState<Versions<Room>>({ kind: 'value', name: 'temporal-join-dimension' }).value()).toEqual([2, { room: 'a', name: 'A2' }]);
    await h.close();
  });
});

describe('interval join state', () => {
  it('buffers survive a restart and are cleaned once the watermark passes the interval', async () => {
    const op = () => new IntervalJoinOperator<Gift, Gift, string>('interval', { lowerMs: 0, upperMs: 10, join: (l, r) => `${l.id}-${r.id}` }, [(g) => (g as Gift).room, (g) => (g as Gift).room]);
    const h = new OperatorHarness<Gift, string>(op, { backend: 'lmdb' });
    await h.processBatch([{ room: 'a', id: 1 }], [100], 0);
    const snap = await h.snapshot();
    await h.close();
    const r = new OperatorHarness<Gift, string>(op, { backend: 'lmdb' });
    await r.initializeState(snap);
    await r.processBatch([{ room: 'a', id: 2 }, { room: 'a', id: 3 }], [105, 111], 1);
    expect(r.values()).toEqual(['1-2']);
    await r.processWatermark(110);
    expect([...r.keyedState!.keys('interval-join-left')]).toEqual([]);
    await r.close();
  });
});

describe('window join state', () => {
  it('open windows survive a restart and fire in each half of a split key-group range', async () => {
    const op = () =>
      new WindowJoinOperator<Gift, Gift, string>('window', { windows: tumblingWindows(100), join: (l, r, w) => `${l.id}-${r.id}@${w.start}` }, [(g) => (g as Gift).room, (g) => (g as Gift).room]);
    const rooms = Array.from({ length: 40 }, (_, i) => `room${i}`);
    const h = new OperatorHarness<Gift, string>(op, { backend: 'lmdb' });
    await h.processBatch(rooms.map((room, i) => ({ room, id: i })), rooms.map(() => 10), 0);
    await h.processBatch(rooms.map((room, i) => ({ room, id: 100 + i })), rooms.map(() => 50), 1);
    const snap = await h.snapshot();
    await h.close();
    const expected = rooms.map((_, i) => `${i}-${100 + i}@0`).sort();
    const got: string[] = [];
    for (const range of [{ start: 0, end: 63 }, { start: 64, end: 127 }]) {
      const half = new OperatorHarness<Gift, string>(op, { backend: 'lmdb', keyGroupRange: range });
      await half.initializeState(snap);
      await half.processWatermark(1000);
      got.push(...half.values());
      expect([...half.keyedState!.keys('window-join-left')]).toEqual([]);
      expect([...half.keyedState!.keys('window-join-keys')]).toEqual([]);
      await half.close();
    }
    expect(got.sort()).toEqual(expected);
  });
});

describe('regular join state TTL', () => {
  it('a side forgotten after its TTL no longer joins', async () => {
    const op = () =>
      new RegularJoinOperator<Gift, Room, string>('join', { kind: 'left', join: (g, r) => `${g!.id}:${r?.name ?? '-'}`, changelog: [false, false], stateTtlMs: 1000 }, [
        (g) => (g as Gift).room,
        (r) => (r as Room).room,
      ]);
    const h = new OperatorHarness<unknown, Change<string>>(op, { backend: 'heap' });
    await h.processBatch([{ room: 'a', name: 'A' }], [0], 1);
    await h.processBatch([{ room: 'a', id: 1 }], [0], 0);
    await h.setProcessingTime(5000);
    await h.processBatch([{ room: 'a', id: 2 }], [0], 0);
    expect(h.values()).toEqual([insert('1:A'), insert('2:-')]);
    await h.close();
  });
});
