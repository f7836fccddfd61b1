/** A timer's identity, and a binary min-heap of numbers (the distinct times of the timer index). */
import { keyId } from './key-codec.ts';
import type { StateKey } from './key-groups.ts';

/** (time, key, namespace) identify a timer: registering the same one twice keeps one. */
export function timerId(time: number, key: StateKey, namespace: string): string {
  return `${time}|${String(keyId(key))}|${namespace}`;
}

/** A binary min-heap of numbers (the distinct times of coalesced timers). */
export class NumberMinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): number {
    return this.items[0]!;
  }

  push(x: number): void {
    const h = this.items;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= x) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = x;
  }

  pop(): number | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]! < h[l]! ? r : l;
      if (h[c]! >= last) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
