/**
 * Facts a temporal join holds in memory until the watermark passes them, with their key, earliest
 * first; facts of the same time leave in the order they came.
 */
import type { StateKey } from '../../state/key-groups.ts';
import { TimeHeap } from '../../state/timer-heap.ts';

export interface HeldFact<F> {
  time: number;
  key: StateKey;
  keyGroup: number;
  fact: F;
}

export class HeldFacts<F> {
  private readonly heap = new TimeHeap<HeldFact<F>>();

  get size(): number {
    return this.heap.size;
  }

  /** Time of the earliest fact; Infinity when none is held. */
  earliest(): number {
    return this.heap.topTime();
  }

  push(time: number, key: StateKey, keyGroup: number, fact: F): HeldFact<F> {
    const e: HeldFact<F> = { time, key, keyGroup, fact };
    this.heap.push(time, e);
    return e;
  }

  /** Removes and returns the earliest fact (by time, then arrival). */
  pop(): HeldFact<F> | undefined {
    return this.heap.pop();
  }
}
