/** Timers in a binary heap of times per time domain, with lazy deletion. */
import type { StateKey } from '../key-groups.ts';
import { keyId, type KeyId } from '../key-codec.ts';
import { NumberMinHeap } from '../timer-heap.ts';
import type { TimeDomain, Timer, TimerService } from '../timers.ts';

/** A registered timer; `dead` once deleted (it stays in its time's array until polled past). */
class HeapTimer implements Timer {
  dead = false;
  constructor(
    readonly time: number,
    readonly key: StateKey,
    readonly keyGroup: number,
    readonly namespace: string,
  ) {}
}

/**
 * The timers of one time, in registration order (they fire in that order), with an index by key:
 * one timer of a key is held as itself, several (different namespaces) in a Map by namespace.
 */
class TimeBucket {
  readonly timers: HeapTimer[] = [];
  /** Next timer to poll. */
  head = 0;
  live = 0;
  readonly byKey = new Map<KeyId, HeapTimer | Map<string, HeapTimer>>();
}

/**
 * Timers of one domain coalesced by time: a min-heap of the distinct times, and per time a bucket
 * of its timers. Registering costs a lookup of the time (none when it is the time of the previous
 * registration, as when every key registers the same window end) and one of the key: no string id,
 * and a Map per key only when a key has several namespaces at one time. Polling walks the bucket's
 * array, so no iterator or entry pair is made per timer.
 */
class TimerHeap {
  private readonly times = new NumberMinHeap();
  private readonly byTime = new Map<number, TimeBucket>();
  private lastTime = NaN;
  private lastBucket: TimeBucket | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  private bucket(time: number): TimeBucket | undefined {
    if (time === this.lastTime) return this.lastBucket;
    const b = this.byTime.get(time);
    if (b !== undefined) {
      this.lastTime = time;
      this.lastBucket = b;
    }
    return b;
  }

  private dropBucket(time: number): void {
    this.byTime.delete(time);
    if (time === this.lastTime) {
      this.lastTime = NaN;
      this.lastBucket = undefined;
    }
  }

  add(time: number, key: StateKey, keyGroup: number, namespace: string): void {
    let b = this.bucket(time);
    if (b === undefined) {
      b = new TimeBucket();
      this.byTime.set(time, b);
      this.times.push(time);
      this.lastTime = time;
      this.lastBucket = b;
    }
    const id = idOf(key);
    const held = b.byKey.get(id);
    let timer: HeapTimer;
    if (held === undefined) {
      timer = new HeapTimer(time, key, keyGroup, namespace);
      b.byKey.set(id, timer);
    } else if (held instanceof HeapTimer) {
      if (held.namespace === namespace) return;
      timer = new HeapTimer(time, key, keyGroup, namespace);
      b.byKey.set(id, new Map([[held.namespace, held], [namespace, timer]]));
    } else {
      if (held.has(namespace)) return;
      timer = new HeapTimer(time, key, keyGroup, namespace);
      held.set(namespace, timer);
    }
    b.timers.push(timer);
    b.live++;
    this.count++;
  }

  /** Takes `timer` out of its bucket's index (it is live and in `b`). */
  private unindex(b: TimeBucket, id: KeyId, timer: HeapTimer): void {
    const held = b.byKey.get(id)!;
    if (held === timer) b.byKey.delete(id);
    else {
      const ns = held as Map<string, HeapTimer>;
      ns.delete(timer.namespace);
      if (ns.size === 0) b.byKey.delete(id);
    }
    b.live--;
    this.count--;
  }

  remove(time: number, key: StateKey, namespace: string): void {
    const b = this.bucket(time);
    if (b === undefined) return;
    const id = idOf(key);
    const held = b.byKey.get(id);
    if (held === undefined) return;
    const timer = held instanceof HeapTimer ? (held.namespace === namespace ? held : undefined) : held.get(namespace);
    if (timer === undefined) return;
    timer.dead = true;
    this.unindex(b, id, timer);
    // An empty time stays in the heap until it reaches the top (lazy deletion).
    if (b.live === 0) this.dropBucket(time);
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
    const b = this.bucket(time)!;
    const timers = b.timers;
    let timer = timers[b.head]!;
    while (timer.dead) timer = timers[++b.head]!;
    timers[b.head++] = undefined as unknown as HeapTimer;
    this.unindex(b, idOf(timer.key), timer);
    if (b.live === 0) {
      this.dropBucket(time);
      this.times.pop();
    }
    return timer;
  }

  all(): Timer[] {
    const out: Timer[] = [];
    for (const b of this.byTime.values()) {
      for (let i = b.head; i < b.timers.length; i++) {
        const t = b.timers[i]!;
        if (!t.dead) out.push(t);
      }
    }
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
    this.heap(domain).add(time, key, keyGroup, namespace);
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
