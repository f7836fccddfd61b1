import { describe, expect, it } from 'vitest';
import { OperatorStateStore, redistributeOperatorState, type OperatorStateHandle } from '../../../state/index.ts';

function oldSubtasks(): OperatorStateHandle[] {
  return [0, 1, 2].map((i) => {
    const s = new OperatorStateStore('src', i);
    s.getListState<{ partition: number; offset: bigint }>('offsets').addAll([
      { partition: i * 2, offset: BigInt(i * 100) },
      { partition: i * 2 + 1, offset: BigInt(i * 100 + 1) },
    ]);
    s.getUnionListState<string>('txns').add(`txn-${i}`);
    return s.snapshot(7);
  });
}

describe('operator state', () => {
  it('snapshot is a consistent JSON copy and restores', () => {
    const s = new OperatorStateStore('sink', 0);
    const l = s.getListState<Map<string, number>>('pending');
    const m = new Map([['a', 1]]);
    l.add(m);
    const h = s.snapshot(1);
    m.set('b', 2); // later mutation is not in the snapshot
    const json = JSON.parse(JSON.stringify(h)) as OperatorStateHandle;
    const r = new OperatorStateStore('sink', 0, json);
    expect(r.getListState<Map<string, number>>('pending').get()).toEqual([new Map([['a', 1]])]);
  });

  it('split lists are dealt round-robin, each element to exactly one new subtask', () => {
    for (const n of [1, 2, 4, 6]) {
      const handles = redistributeOperatorState(oldSubtasks(), n);
      expect(handles.map((h) => h.subtask)).toEqual([...Array(n).keys()]);
      const all = handles.flatMap((h) => new OperatorStateStore('src', h.subtask, h).getListState<{ partition: number; offset: bigint }>('offsets').get());
      expect(all.map((o) => o.partition).sort()).toEqual([0, 1, 2, 3, 4, 5]);
      const sizes = handles.map((h) => h.states.offsets!.elements.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect(all.find((o) => o.partition === 5)!.offset).toBe(201n);
    }
  });

  it('union lists give every new subtask all elements', () => {
    const handles = redistributeOperatorState(oldSubtasks(), 4);
    for (const h of handles) {
      expect(new OperatorStateStore('src', h.subtask, h).getUnionListState<string>('txns').get().sort()).toEqual(['txn-0', 'txn-1', 'txn-2']);
    }
  });

  it('asking for a split state as union names the mismatch', () => {
    const [h] = redistributeOperatorState(oldSubtasks(), 1);
    expect(() => new OperatorStateStore('src', 0, h).getUnionListState('offsets')).toThrow(/checkpointed as split list state/);
  });

  it('states restored but not used are carried into the next snapshot', () => {
    const [h] = redistributeOperatorState(oldSubtasks(), 1);
    const s = new OperatorStateStore('src', 0, h);
    s.getUnionListState<string>('txns').clear();
    const next = s.snapshot(8);
    expect(next.states.offsets!.elements.length).toBe(6);
    expect(next.states.txns!.elements).toEqual([]);
  });
});
