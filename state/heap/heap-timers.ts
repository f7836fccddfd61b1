/** Timers in a binary heap per time domain, with lazy deletion. */
import type { StateKey } from '../key-groups.ts';
import { TimerMinHeap, timerId } from '../timer-heap.ts';
import type { TimeDomain, Timer, TimerService } from '../timers.ts';

class TimerHeap {
  private readonly heap = new TimerMinHeap();
  private readonly live = new Map<string, Timer>();

  get size(): number {
    return this.live.size;
  }

  add(timer: Timer): void {
    const id = timerId(timer.time, timer.key, timer.namespace);
    if (this.live.has(id)) return;
    this.live.set(id, timer);
    this.heap.push(timer);
  }

  remove(time: number, key: StateKey, namespace: string): void {
    this.live.delete(timerId(time, key, namespace));
  }

  private popTop(): Timer {
    return this.heap.pop()!;
  }

  private isLive(t: Timer): boolean {
    return this.live.get(timerId(t.time, t.key, t.namespace)) === t;
  }

  peek(): number | undefined {
    while (this.heap.items.length > 0 && !this.isLive(this.heap.items[0]!)) this.popTop();
    return this.heap.items[0]?.time;
  }

  pollNext(upTo: number): Timer | undefined {
    while (this.heap.items.length > 0 && this.heap.items[0]!.time <= upTo) {
      const t = this.popTop();
      if (this.isLive(t)) {
        this.live.delete(timerId(t.time, t.key, t.namespace));
        return t;
      }
    }
    return undefined;
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

  pollNext(domain: TimeDomain, upTo: number): Timer | undefined {
    return this.heap(domain).pollNext(upTo);
  }

  pollDue(domain: TimeDomain, upTo: number): Timer[] {
    const due: Timer[] = [];
    for (let t = this.pollNext(domain, upTo); t !== undefined; t = this.pollNext(domain, upTo)) due.push(t);
    return due;
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
