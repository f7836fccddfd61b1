/** A timer's identity, and the one binary min-heap Weir orders things by time with. */
import { keyId } from './key-codec.ts';
import type { StateKey } from './key-groups.ts';

/** (time, key, namespace) identify a timer: registering the same one twice keeps one. */
export function timerId(time: number, key: StateKey, namespace: string): string {
  return `${time}|${String(keyId(key))}|${namespace}`;
}

/**
 * Items by time, earliest first; items of the same time leave in the order they came. Users: the
 * distinct times of coalesced timers (state/timer-index.ts), the facts a temporal join holds until
 * the watermark passes them, and an interval join's out-of-order bucket cleanups.
 *
 * Times, arrival numbers and items sit in three parallel arrays (no entry object per push, and the
 * times stay a packed array of doubles). Items pushed in time order go to the bottom and move no
 * further: the common case of a source in time order costs one comparison.
 */
export class TimeHeap<T> {
  private times: number[] = [];
  private arrivals: number[] = [];
  private items: T[] = [];
  private nextArrival = 0;

  get size(): number {
    return this.times.length;
  }

  /** Time of the earliest item; Infinity when empty. */
  topTime(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  /** The earliest item, left in the heap. */
  top(): T | undefined {
    return this.items[0];
  }

  push(time: number, item: T): void {
    const ts = this.times;
    const as = this.arrivals;
    const is = this.items;
    const arrival = this.nextArrival++;
    let i = ts.length;
    ts.push(time);
    as.push(arrival);
    is.push(item);
    // Equal times keep arrival order: a later arrival never moves above an earlier one.
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ts[p]! <= time) break;
      ts[i] = ts[p]!;
      as[i] = as[p]!;
      is[i] = is[p]!;
      i = p;
    }
    ts[i] = time;
    as[i] = arrival;
    is[i] = item;
  }

  /** Removes and returns the earliest item (by time, then arrival). */
  pop(): T | undefined {
    const ts = this.times;
    const as = this.arrivals;
    const is = this.items;
    const n = ts.length - 1;
    if (n < 0) return undefined;
    const top = is[0];
    const lastT = ts.pop()!;
    const lastA = as.pop()!;
    const lastI = is.pop()!;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (ts[r]! < ts[l]! || (ts[r] === ts[l] && as[r]! < as[l]!)) ? r : l;
      if (ts[c]! > lastT || (ts[c] === lastT && as[c]! > lastA)) break;
      ts[i] = ts[c]!;
      as[i] = as[c]!;
      is[i] = is[c]!;
      i = c;
    }
    ts[i] = lastT;
    as[i] = lastA;
    is[i] = lastI;
    return top;
  }

  clear(): void {
    this.times = [];
    this.arrivals = [];
    this.items = [];
  }
}
