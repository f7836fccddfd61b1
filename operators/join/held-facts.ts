/**
 * Facts a temporal join holds in memory until the watermark passes them, with their key: a binary
 * min-heap by (time, arrival), so facts of the same time leave in the order they came. Facts from
 * a source in time order (the usual case) are pushed at the bottom and move no further.
 */
import type { StateKey } from '../../state/key-groups.ts';

export interface HeldFact<F> {
  time: number;
  key: StateKey;
  keyGroup: number;
  fact: F;
  /** Arrival number: orders facts of the same time. */
  seq: number;
}

function before<F>(a: HeldFact<F>, b: HeldFact<F>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class HeldFacts<F> {
  private items: HeldFact<F>[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  /** Time of the earliest fact; Infinity when none is held. */
  earliest(): number {
    return this.items.length > 0 ? this.items[0]!.time : Infinity;
  }

  push(time: number, key: StateKey, keyGroup: number, fact: F): HeldFact<F> {
    const h = this.items;
    const e: HeldFact<F> = { time, key, keyGroup, fact, seq: this.seq++ };
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
    return e;
  }

  /** Removes and returns the earliest fact (by time, then arrival). */
  pop(): HeldFact<F> | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
