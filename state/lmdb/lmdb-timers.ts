/**
 * Timers kept in LMDB with the keyed state (so they survive failover and are cut by key group on
 * rescale), with an in-memory index of the earliest ones per time domain.
 *
 * Invariant per domain: every stored timer with time <= `bound` is in the index. Registering a timer
 * above the bound only writes it to the store; when the index runs dry below the time asked for, the
 * next `INDEX_SIZE` timers are loaded by a k-way merge over the key groups' ordered timer ranges.
 * The index is trimmed back to INDEX_SIZE (lowering the bound) when it grows past twice that.
 *
 * Write-back: a timer registered at or below the bound lives only in the index (`unsaved`)
 * until the backend saves it (`saveAll`, at snapshot and flush) or a trim drops it from the index; a
 * timer registered and fired (or deleted) between two checkpoints never reaches LMDB.
 */
import { keyId, type KeyId } from '../key-codec.ts';
import type { StateKey } from '../key-groups.ts';
import { timerKey, type KeyPart } from '../layout.ts';
import type { TimeDomain, Timer, TimerService } from '../timers.ts';
import { NumberMinHeap, timerId as storeTimerId } from '../timer-heap.ts';

const INDEX_SIZE = 4096;

/** What the timer service needs from the backend's store and write buffer. */
export interface TimerStore {
  /** Buffers a timer write (present) or deletion. */
  writeTimer(id: string, key: KeyPart[], present: boolean): void;
  /** Whether the timer exists, looking at the write buffer first. */
  hasTimer(id: string, key: KeyPart[]): boolean;
  /** Flushes buffered writes, then iterates one key group's timers of `domain` with time >= `from`, in time order. */
  scanTimers(keyGroup: number, domain: TimeDomain, from: number): Iterator<Timer>;
  readonly keyGroupRange: { start: number; end: number };
}

/** A timer in the index; `unsaved`: it lives only here, not (yet) in the store. */
interface Slot {
  timer: Timer;
  unsaved: boolean;
}

function idOf(key: StateKey): KeyId {
  return typeof key === 'object' ? keyId(key) : key;
}

/**
 * The in-memory index of one domain, coalesced by time as the heap backend's timers are: a
 * min-heap of the distinct times, per time the timers by key and namespace. Registering and
 * firing cost map lookups, no string id per timer (the store's string id is built only for timers
 * that reach the store).
 */
class DomainIndex {
  private readonly times = new NumberMinHeap();
  private byTime = new Map<number, Map<KeyId, Map<string, Slot>>>();
  /** Timers in the index. */
  size = 0;
  /** Timers in the index not in the store. */
  unsaved = 0;
  bound = Infinity;
  /** Timers of this domain (in the store, its buffer, or only in the index). */
  count = 0;
  /**
   * Trim when the index grows past this. Raised after a trim that had to keep many ties of one
   * time, so that registering more timers at that time does not sort the index again each time.
   */
  trimAt = 2 * INDEX_SIZE;

  has(time: number, id: KeyId, namespace: string): boolean {
    return this.byTime.get(time)?.get(id)?.has(namespace) === true;
  }

  /** Adds a timer not in the index. */
  add(timer: Timer, id: KeyId, unsaved: boolean): void {
    let keys = this.byTime.get(timer.time);
    if (keys === undefined) {
      keys = new Map();
      this.byTime.set(timer.time, keys);
      this.times.push(timer.time);
    }
    let ns = keys.get(id);
    if (ns === undefined) {
      ns = new Map();
      keys.set(id, ns);
    }
    ns.set(timer.namespace, { timer, unsaved });
    this.size++;
    if (unsaved) this.unsaved++;
  }

  remove(time: number, id: KeyId, namespace: string): Slot | undefined {
    const keys = this.byTime.get(time);
    if (keys === undefined) return undefined;
    const ns = keys.get(id);
    const slot = ns?.get(namespace);
    if (slot === undefined) return undefined;
    ns!.delete(namespace);
    this.size--;
    if (slot.unsaved) this.unsaved--;
    if (ns!.size === 0) keys.delete(id);
    // An empty time stays in the heap until it reaches the top (lazy deletion).
    if (keys.size === 0) this.byTime.delete(time);
    return slot;
  }

  /** The earliest time in the index (dropping emptied times from the heap top). */
  peekTime(): number | undefined {
    const h = this.times;
    while (h.size > 0) {
      const t = h.top();
      if (this.byTime.has(t)) return t;
      h.pop();
    }
    return undefined;
  }

  /** Removes and returns the earliest timer, if at or before `upTo`. */
  pollFirst(upTo: number): Slot | undefined {
    const time = this.peekTime();
    if (time === undefined || time > upTo) return undefined;
    const keys = this.byTime.get(time)!;
    const [id, ns] = keys.entries().next().value as [KeyId, Map<string, Slot>];
    const [namespace, slot] = ns.entries().next().value as [string, Slot];
    ns.delete(namespace);
    this.size--;
    if (slot.unsaved) this.unsaved--;
    if (ns.size === 0) keys.delete(id);
    if (keys.size === 0) {
      this.byTime.delete(time);
      this.times.pop();
    }
    return slot;
  }

  *slots(): IterableIterator<Slot> {
    for (const keys of this.byTime.values()) for (const ns of keys.values()) yield* ns.values();
  }

  clear(): void {
    this.byTime = new Map();
    while (this.times.size > 0) this.times.pop();
    this.size = 0;
    this.unsaved = 0;
  }

  /** Keeps the INDEX_SIZE earliest (and any ties of the last), lowering the bound; unsaved timers dropped are saved. */
  trim(save: (t: Timer) => void): void {
    const sorted = [...this.slots()].sort((a, b) => a.timer.time - b.timer.time);
    let n = INDEX_SIZE;
    while (n < sorted.length && sorted[n]!.timer.time === sorted[n - 1]!.timer.time) n++;
    this.trimAt = Math.max(2 * INDEX_SIZE, 2 * n);
    if (n >= sorted.length) return;
    this.bound = sorted[n - 1]!.timer.time;
    for (let i = n; i < sorted.length; i++) {
      const s = sorted[i]!;
      this.remove(s.timer.time, idOf(s.timer.key), s.timer.namespace);
      if (s.unsaved) save(s.timer);
    }
  }
}

export class LmdbTimerService implements TimerService {
  /** Timers that needed the store's string id (they reached the store, or were looked up there), for tests. */
  storeIds = 0;

  private timerId(time: number, key: StateKey, namespace: string): string {
    this.storeIds++;
    return storeTimerId(time, key, namespace);
  }

  private readonly event = new DomainIndex();
  private readonly processing = new DomainIndex();

  constructor(private readonly store: TimerStore) {}

  private index(domain: TimeDomain): DomainIndex {
    return domain === 'event' ? this.event : this.processing;
  }

  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    const ix = this.index(domain);
    if (time <= ix.bound) {
      const id = idOf(key);
      if (ix.has(time, id, namespace)) return;
      ix.add({ time, key, keyGroup, namespace }, id, true);
      ix.count++;
      if (ix.size > ix.trimAt) ix.trim((t) => this.save(domain, t));
      return;
    }
    const lk = timerKey(keyGroup, domain, time, key, namespace);
    const sid = this.timerId(time, key, namespace);
    if (this.store.hasTimer(sid, lk)) return;
    ix.count++;
    this.store.writeTimer(sid, lk, true);
  }

  private save(domain: TimeDomain, t: Timer): void {
    this.store.writeTimer(this.timerId(t.time, t.key, t.namespace), timerKey(t.keyGroup, domain, t.time, t.key, t.namespace), true);
  }

  /** Writes every timer that lives only in memory to the store (before a snapshot or flush). */
  saveAll(): void {
    for (const domain of ['event', 'processing'] as const) {
      const ix = this.index(domain);
      if (ix.unsaved === 0) continue;
      for (const s of ix.slots()) {
        if (!s.unsaved) continue;
        this.save(domain, s.timer);
        s.unsaved = false;
      }
      ix.unsaved = 0;
    }
  }

  /** Timers that live only in memory. */
  unsavedCount(): number {
    return this.event.unsaved + this.processing.unsaved;
  }

  delete(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    const ix = this.index(domain);
    if (time <= ix.bound) {
      const slot = ix.remove(time, idOf(key), namespace);
      if (slot === undefined) return;
      ix.count--;
      if (slot.unsaved) return;
      this.store.writeTimer(this.timerId(time, key, namespace), timerKey(keyGroup, domain, time, key, namespace), false);
      return;
    }
    const lk = timerKey(keyGroup, domain, time, key, namespace);
    const sid = this.timerId(time, key, namespace);
    if (!this.store.hasTimer(sid, lk)) return;
    ix.count--;
    this.store.writeTimer(sid, lk, false);
  }

  pollNext(domain: TimeDomain, upTo: number): Timer | undefined {
    const ix = this.index(domain);
    for (;;) {
      const s = ix.pollFirst(upTo);
      if (s !== undefined) {
        const t = s.timer;
        ix.count--;
        if (!s.unsaved) this.store.writeTimer(this.timerId(t.time, t.key, t.namespace), timerKey(t.keyGroup, domain, t.time, t.key, t.namespace), false);
        return t;
      }
      if (ix.peekTime() !== undefined) return undefined; // the earliest is after upTo
      // The index is empty: stored timers above the bound may be due.
      if (ix.bound >= upTo) return undefined;
      this.reload(domain, ix);
      if (ix.size === 0) return undefined;
    }
  }

  pollDue(domain: TimeDomain, upTo: number): Timer[] {
    const due: Timer[] = [];
    for (let t = this.pollNext(domain, upTo); t !== undefined; t = this.pollNext(domain, upTo)) due.push(t);
    return due;
  }

  peekEarliest(domain: TimeDomain): number | undefined {
    const ix = this.index(domain);
    let t = ix.peekTime();
    if (t === undefined && ix.bound !== Infinity) {
      this.reload(domain, ix);
      t = ix.peekTime();
    }
    return t;
  }

  size(domain: TimeDomain): number {
    return this.index(domain).count;
  }

  /** After a restore: count the stored timers and load the earliest. */
  rebuild(): void {
    for (const domain of ['event', 'processing'] as const) {
      const ix = this.index(domain);
      ix.count = 0;
      const r = this.store.keyGroupRange;
      for (let kg = r.start; kg <= r.end; kg++) {
        const it = this.store.scanTimers(kg, domain, -Infinity);
        while (!it.next().done) ix.count++;
      }
      ix.bound = -Infinity;
      ix.clear(); // the backend saved the unsaved ones before restoring
      this.reload(domain, ix);
    }
  }

  /** Loads the next INDEX_SIZE timers above the bound (mem is empty of live timers here). */
  private reload(domain: TimeDomain, ix: DomainIndex): void {
    const from = ix.bound;
    const r = this.store.keyGroupRange;
    const cursors: { it: Iterator<Timer>; head: Timer }[] = [];
    for (let kg = r.start; kg <= r.end; kg++) {
      const it = this.store.scanTimers(kg, domain, from);
      let n = it.next();
      while (!n.done && n.value.time <= from) n = it.next();
      if (!n.done) cursors.push({ it, head: n.value });
    }
    ix.clear();
    let taken = 0;
    let last = -Infinity;
    for (;;) {
      let best = -1;
      for (let i = 0; i < cursors.length; i++) if (best < 0 || cursors[i]!.head.time < cursors[best]!.head.time) best = i;
      if (best < 0) {
        ix.bound = Infinity;
        return;
      }
      const c = cursors[best]!;
      if (taken >= INDEX_SIZE && c.head.time !== last) {
        ix.bound = last;
        for (const cur of cursors) cur.it.return?.();
        return;
      }
      // A timer from the store is saved; the same one twice cannot come from the store's ordered ranges.
      ix.add(c.head, idOf(c.head.key), false);
      taken++;
      last = c.head.time;
      const n = c.it.next();
      if (n.done) cursors.splice(best, 1);
      else c.head = n.value;
    }
  }
}
