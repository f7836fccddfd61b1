/** Timers in a binary heap per time domain, with lazy deletion. */
import type { StateKey } from '../key-groups.ts';
import { keyId, type KeyId } from '../key-codec.ts';
import { NumberMinHeap } from '../timer-heap.ts';
import type { TimeDomain, Timer, TimerService } from '../timers.ts';

/**
 * Timers of one domain coalesced by time: a min-heap of the distinct times, and per time the
 * timers by key and namespace. Registering costs map lookups, no string id per timer, and a time
 * many keys share is one heap entry.
 */
class TimerHeap {
  private readonly times = new NumberMinHeap();
  private readonly byTime = new Map<number, Map<KeyId, Map<string, Timer>>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(timer: Timer): void {
    let keys = this.byTime.get(timer.time);
    if (keys === undefined) {
      keys = new Map();
      this.byTime.set(timer.time, keys);
      this.times.push(timer.time);
    }
    const id = idOf(timer.key);
    let ns = keys.get(id);
    if (ns === undefined) {
      ns = new Map();
      keys.set(id, ns);
    } else if (ns.has(timer.namespace)) return;
    ns.set(timer.namespace, timer);
    this.count++;
  }

  remove(time: number, key: StateKey, namespace: string): void {
    const keys = this.byTime.get(time);
    if (keys === undefined) return;
    const id = idOf(key);
    const ns = keys.get(id);
    if (ns === undefined || !ns.delete(namespace)) return;
    this.count--;
    if (ns.size === 0) keys.delete(id);
    // An empty time stays in the heap until it reaches the top (lazy deletion).
    if (keys.size === 0) this.byTime.delete(time);
  }

  /** The earliest time that has timers (dropping emptied times from the heap top). */
  peek(): number | undefined {
    const h = this.times;
    while (h.size > 0) {
      const t = h.top();
      if (this.byTime.has(t)) return t;
      h.pop();
    }
    return undefined;
  }

  pollNext(upTo: number): Timer | undefined {
    const time = this.peek();
    if (time === undefined || time > upTo) return undefined;
    const keys = this.byTime.get(time)!;
    const [id, ns] = keys.entries().next().value as [KeyId, Map<string, Timer>];
    const [namespace, timer] = ns.entries().next().value as [string, Timer];
    ns.delete(namespace);
    this.count--;
    if (ns.size === 0) keys.delete(id);
    if (keys.size === 0) {
      this.byTime.delete(time);
      this.times.pop();
    }
    return timer;
  }

  all(): Timer[] {
    const out: Timer[] = [];
    for (const keys of this.byTime.values()) for (const ns of keys.values()) for (const t of ns.values()) out.push(t);
    return out;
  }
}

function idOf(key: StateKey): KeyId {
  return typeof key === 'object' ? keyId(key) : key;
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
