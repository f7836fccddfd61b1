/** Timers in a binary heap per time domain, with lazy deletion. */
import type { StateKey } from '../key-groups.ts';
import { keyId } from '../key-codec.ts';
import type { TimeDomain, Timer, TimerService } from '../timers.ts';

function timerId(time: number, key: StateKey, namespace: string): string {
  return `${time}|${String(keyId(key))}|${namespace}`;
}

class TimerHeap {
  private readonly heap: Timer[] = [];
  private readonly live = new Map<string, Timer>();

  get size(): number {
    return this.live.size;
  }

  add(timer: Timer): void {
    const id = timerId(timer.time, timer.key, timer.namespace);
    if (this.live.has(id)) return;
    this.live.set(id, timer);
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.time <= timer.time) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = timer;
  }

  remove(time: number, key: StateKey, namespace: string): void {
    this.live.delete(timerId(time, key, namespace));
  }

  private popTop(): Timer {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]!.time < h[l]!.time ? r : l;
        if (h[c]!.time >= last.time) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  private isLive(t: Timer): boolean {
    return this.live.get(timerId(t.time, t.key, t.namespace)) === t;
  }

  peek(): number | undefined {
    while (this.heap.length > 0 && !this.isLive(this.heap[0]!)) this.popTop();
    return this.heap[0]?.time;
  }

  pollDue(upTo: number): Timer[] {
    const due: Timer[] = [];
    while (this.heap.length > 0 && this.heap[0]!.time <= upTo) {
      const t = this.popTop();
      if (this.isLive(t)) {
        this.live.delete(timerId(t.time, t.key, t.namespace));
        due.push(t);
      }
    }
    return due;
  }

  all(): Timer[] {
    return [...this.live.values()];
  }
}

export class HeapTimerService implements TimerService {
  private readonly event = new TimerHeap();
  private readonly processing = new TimerHeap();

  private heap(domain: TimeDomain): TimerHeap {
    return domain === 'event' ? this.event : this.processing;
  }

  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    this.heap(domain).add({ time, key, keyGroup, namespace });
  }

  delete(domain: TimeDomain, time: number, key: StateKey, _keyGroup: number, namespace = ''): void {
    this.heap(domain).remove(time, key, namespace);
  }

  pollDue(domain: TimeDomain, upTo: number): Timer[] {
    return this.heap(domain).pollDue(upTo);
  }

  peekEarliest(domain: TimeDomain): number | undefined {
    return this.heap(domain).peek();
  }

  size(domain: TimeDomain): number {
    return this.heap(domain).size;
  }

  /** Every live timer of a domain, for snapshots. */
  all(domain: TimeDomain): Timer[] {
    return this.heap(domain).all();
  }
}
