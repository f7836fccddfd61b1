import { describe, expect, it } from 'vitest';
import { TimeHeap } from '../../../state/timer-heap.ts';

/** A small deterministic generator, so a failing sequence can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('TimeHeap', () => {
  it('is empty at first: no top, size 0, topTime Infinity', () => {
    const h = new TimeHeap<string>();
    expect(h.size).toBe(0);
    expect(h.topTime()).toBe(Infinity);
    expect(h.top()).toBeUndefined();
    expect(h.pop()).toBeUndefined();
  });

  it('pops by time, and items of one time in the order they were pushed', () => {
    const h = new TimeHeap<string>();
    const pushes: [number, string][] = [[5, 'a'], [3, 'b'], [5, 'c'], [1, 'd'], [3, 'e'], [5, 'f'], [1, 'g']];
    for (const [t, x] of pushes) h.push(t, x);
    const out: string[] = [];
    while (h.size > 0) out.push(h.pop()!);
    expect(out).toEqual(['d', 'g', 'b', 'e', 'a', 'c', 'f']);
  });

  it('matches a stable sort under random interleaved pushes and pops', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rnd = lcg(seed);
      const h = new TimeHeap<number>();
      let reference: { time: number; id: number }[] = [];
      let id = 0;
      for (let step = 0; step < 5000; step++) {
        if (rnd() < 0.6 || reference.length === 0) {
          const time = Math.floor(rnd() * 50);
          h.push(time, id);
          reference.push({ time, id: id++ });
        } else {
          reference = reference.sort((a, b) => a.time - b.time || a.id - b.id);
          const expected = reference.shift()!;
          expect(h.topTime()).toBe(expected.time);
          expect(h.top()).toBe(expected.id);
          expect(h.pop()).toBe(expected.id);
        }
        expect(h.size).toBe(reference.length);
      }
    }
  });

  it('clear() forgets every item', () => {
    const h = new TimeHeap<number>();
    for (let i = 0; i < 10; i++) h.push(10 - i, i);
    h.clear();
    expect(h.size).toBe(0);
    h.push(7, 70);
    expect(h.pop()).toBe(70);
  });
});
