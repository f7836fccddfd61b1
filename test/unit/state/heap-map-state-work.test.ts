/**
 * The heap backend's map state, counted (not timed): a put after a get of the same key (a window
 * pane's read-modify-write) finds the key's entry once, and stays right when the key's map is
 * cleared or emptied between them, or the current key changes.
 */
import { describe, expect, it } from 'vitest';
import { HeapKeyedStateBackend } from '../../../state/heap/heap-backend.ts';
import { heapTableProbes } from '../../../state/heap/heap-table.ts';
import { keyGroupOf, mapState } from '../../../state/index.ts';

const MAX_PARALLELISM = 128;

function backend(): { b: HeapKeyedStateBackend; lookups: () => number } {
  const b = new HeapKeyedStateBackend({ keyGroupRange: { start: 0, end: MAX_PARALLELISM - 1 }, maxParallelism: MAX_PARALLELISM });
  // Probes of the states' tables (heap-table.ts: key -> entry).
  const start = heapTableProbes.count;
  return { b, lookups: () => heapTableProbes.count - start };
}

const at = (b: HeapKeyedStateBackend, key: string): void => b.setCurrentKey(key, keyGroupOf(key, MAX_PARALLELISM));

describe('heap map state', () => {
  it('a get then a put of the same key look the key up once', () => {
    const { b, lookups } = backend();
    const m = b.getMapState<number, { n: number }>(mapState('panes'));
    for (let k = 0; k < 10; k++) {
      at(b, `k${k}`);
      m.put(0, { n: 0 });
    }
    const before = lookups();
    for (let i = 0; i < 100; i++) {
      at(b, `k${i % 10}`);
      const v = m.get(0)!;
      v.n++;
      m.put(0, v);
    }
    expect(lookups() - before).toBe(100);
    for (let k = 0; k < 10; k++) {
      at(b, `k${k}`);
      expect(m.get(0)).toEqual({ n: 10 });
    }
  });

  it('stays right across clear, remove to empty, key changes and value copies', () => {
    const { b } = backend();
    const m = b.getMapState<number, { n: number }>(mapState('m'));
    at(b, 'a');
    const v = { n: 1 };
    m.put(1, v);
    v.n = 99; // the state kept a copy
    expect(m.get(1)).toEqual({ n: 1 });
    m.get(1)!.n = 42; // reads hand out copies
    expect(m.get(1)).toEqual({ n: 1 });
    at(b, 'b');
    expect(m.get(1)).toBeUndefined();
    m.put(1, { n: 2 });
    at(b, 'a');
    expect(m.get(1)).toEqual({ n: 1 });
    m.clear();
    expect(m.get(1)).toBeUndefined();
    expect(m.isEmpty()).toBe(true);
    m.put(2, { n: 3 });
    expect([...m.entries()]).toEqual([[2, { n: 3 }]]);
    m.remove(2);
    expect(m.isEmpty()).toBe(true);
    m.put(1, { n: 4 });
    m.put(1, { n: 5 });
    m.put(0, { n: 6 });
    expect([...m.entries()]).toEqual([[0, { n: 6 }], [1, { n: 5 }]]);
    at(b, 'b');
    expect([...m.entries()]).toEqual([[1, { n: 2 }]]);
  });
});
