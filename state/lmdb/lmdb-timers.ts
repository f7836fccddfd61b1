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
import type { StateKey } from '../key-groups.ts';
import { timerKey, type KeyPart } from '../layout.ts';
import { pollAllDue, type TimeDomain, type Timer, type TimerService } from '../timers.ts';
import { timerId as storeTimerId } from '../timer-heap.ts';
import { TimerIndex } from '../timer-index.ts';

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

/** One domain: its index, and what the store side needs to know about it. */
class Domain {
  readonly index = new TimerIndex();
  /** Timers in the index not in the store. */
  unsaved = 0;
  /** Every stored timer with time <= bound is in the index. */
  bound = Infinity;
  /** Timers of this domain (in the store, its buffer, or only in the index). */
  count = 0;
  /**
   * Trim when the index grows past this. Raised after a trim that had to keep many ties of one
   * time, so that registering more timers at that time does not trim the index again each time.
   */
  trimAt = 2 * INDEX_SIZE;

  /** Keeps the INDEX_SIZE earliest (and any ties of the last), lowering the bound; unsaved timers dropped are saved. */
  trim(save: (t: Timer) => void): void {
    const { bound, kept } = this.index.trim(INDEX_SIZE, (t) => {
      if (!t.unsaved) return;
      this.unsaved--;
      save(t);
    });
    this.trimAt = Math.max(2 * INDEX_SIZE, 2 * kept);
    if (bound !== undefined) this.bound = bound;
  }
}

export class LmdbTimerService implements TimerService {
  /** Timers that needed the store's string id (they reached the store, or were looked up there), for tests. */
  storeIds = 0;

  private timerId(time: number, key: StateKey, namespace: string): string {
    this.storeIds++;
    return storeTimerId(time, key, namespace);
  }

  private readonly event = new Domain();
  private readonly processing = new Domain();

  constructor(private readonly store: TimerStore) {}

  private domain(domain: TimeDomain): Domain {
    return domain === 'event' ? this.event : this.processing;
  }

  /** The in-memory index of a domain (tests). */
  index(domain: TimeDomain): TimerIndex {
    return this.domain(domain).index;
  }

  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    const d = this.domain(domain);
    if (time <= d.bound) {
      const t = d.index.add(time, key, keyGroup, namespace);
      if (t === undefined) return;
      t.unsaved = true;
      d.unsaved++;
      d.count++;
      if (d.index.size > d.trimAt) d.trim((t) => this.save(domain, t));
      return;
    }
    const lk = timerKey(keyGroup, domain, time, key, namespace);
    const sid = this.timerId(time, key, namespace);
    if (this.store.hasTimer(sid, lk)) return;
    d.count++;
    this.store.writeTimer(sid, lk, true);
  }

  private save(domain: TimeDomain, t: Timer): void {
    this.store.writeTimer(this.timerId(t.time, t.key, t.namespace), timerKey(t.keyGroup, domain, t.time, t.key, t.namespace), true);
  }

  /** Writes every timer that lives only in memory to the store (before a snapshot or flush). */
  saveAll(): void {
    for (const domain of ['event', 'processing'] as const) {
      const d = this.domain(domain);
      if (d.unsaved === 0) continue;
      d.index.forEach((t) => {
        if (!t.unsaved) return;
        this.save(domain, t);
        t.unsaved = false;
      });
      d.unsaved = 0;
    }
  }

  /** Timers that live only in memory. */
  unsavedCount(): number {
    return this.event.unsaved + this.processing.unsaved;
  }

  delete(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    const d = this.domain(domain);
    if (time <= d.bound) {
      const t = d.index.remove(time, key, namespace);
      if (t === undefined) return;
      d.count--;
      if (t.unsaved) {
        d.unsaved--;
        return;
      }
      this.store.writeTimer(this.timerId(time, key, namespace), timerKey(keyGroup, domain, time, key, namespace), false);
      return;
    }
    const lk = timerKey(keyGroup, domain, time, key, namespace);
    const sid = this.timerId(time, key, namespace);
    if (!this.store.hasTimer(sid, lk)) return;
    d.count--;
    this.store.writeTimer(sid, lk, false);
  }

  pollNext(domain: TimeDomain, upTo: number): Timer | undefined {
    const d = this.domain(domain);
    for (;;) {
      const t = d.index.pollNext(upTo);
      if (t !== undefined) {
        d.count--;
        if (t.unsaved) d.unsaved--;
        else this.store.writeTimer(this.timerId(t.time, t.key, t.namespace), timerKey(t.keyGroup, domain, t.time, t.key, t.namespace), false);
        return t;
      }
      if (d.index.peek() !== undefined) return undefined; // the earliest is after upTo
      // The index is empty: stored timers above the bound may be due.
      if (d.bound >= upTo) return undefined;
      this.reload(domain, d);
      if (d.index.size === 0) return undefined;
    }
  }

  pollDue(domain: TimeDomain, upTo: number): Timer[] {
    return pollAllDue(this, domain, upTo);
  }

  peekEarliest(domain: TimeDomain): number | undefined {
    const d = this.domain(domain);
    let t = d.index.peek();
    if (t === undefined && d.bound !== Infinity) {
      this.reload(domain, d);
      t = d.index.peek();
    }
    return t;
  }

  size(domain: TimeDomain): number {
    return this.domain(domain).count;
  }

  /** After a restore: count the stored timers and load the earliest. */
  rebuild(): void {
    for (const domain of ['event', 'processing'] as const) {
      const d = this.domain(domain);
      d.count = 0;
      const r = this.store.keyGroupRange;
      for (let kg = r.start; kg <= r.end; kg++) {
        const it = this.store.scanTimers(kg, domain, -Infinity);
        while (!it.next().done) d.count++;
      }
      d.bound = -Infinity;
      // The backend saved the unsaved ones before restoring.
      d.index.clear();
      d.unsaved = 0;
      this.reload(domain, d);
    }
  }

  /** Loads the next INDEX_SIZE timers above the bound (the index holds no live timers here). */
  private reload(domain: TimeDomain, d: Domain): void {
    const from = d.bound;
    const r = this.store.keyGroupRange;
    const cursors: { it: Iterator<Timer>; head: Timer }[] = [];
    for (let kg = r.start; kg <= r.end; kg++) {
      const it = this.store.scanTimers(kg, domain, from);
      let n = it.next();
      while (!n.done && n.value.time <= from) n = it.next();
      if (!n.done) cursors.push({ it, head: n.value });
    }
    d.index.clear();
    let taken = 0;
    let last = -Infinity;
    for (;;) {
      let best = -1;
      for (let i = 0; i < cursors.length; i++) if (best < 0 || cursors[i]!.head.time < cursors[best]!.head.time) best = i;
      if (best < 0) {
        d.bound = Infinity;
        return;
      }
      const c = cursors[best]!;
      if (taken >= INDEX_SIZE && c.head.time !== last) {
        d.bound = last;
        for (const cur of cursors) cur.it.return?.();
        return;
      }
      // A timer from the store is saved; the same one twice cannot come from the store's ordered ranges.
      const h = c.head;
      d.index.add(h.time, h.key, h.keyGroup, h.namespace);
      taken++;
      last = h.time;
      const n = c.it.next();
      if (n.done) cursors.splice(best, 1);
      else c.head = n.value;
    }
  }
}
