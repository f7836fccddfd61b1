/**
 * Timers kept in LMDB with the keyed state (so they survive failover and are cut by key group on
 * rescale), with an in-memory index of the earliest ones per time domain.
 *
 * Invariant per domain: every stored timer with time <= `bound` is in `mem`. Registering a timer
 * above the bound only writes it to the store; when `mem` runs dry below the time asked for, the
 * next `INDEX_SIZE` timers are loaded by a k-way merge over the key groups' ordered timer ranges.
 * `mem` is trimmed back to INDEX_SIZE (lowering the bound) when it grows past twice that.
 *
 * Write-back: a timer registered at or below the bound lives only in `mem` (listed in `unsaved`)
 * until the backend saves it (`saveAll`, at snapshot and flush) or a trim drops it from `mem`; a
 * timer registered and fired (or deleted) between two checkpoints never reaches LMDB.
 */
import type { StateKey } from '../key-groups.ts';
import { timerKey, type KeyPart } from '../layout.ts';
import type { TimeDomain, Timer, TimerService } from '../timers.ts';
import { TimerMinHeap, timerId } from '../timer-heap.ts';

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

class DomainIndex {
  readonly heap = new TimerMinHeap();
  /** Live timers in `heap`, by id; deleted ones stay in the heap until popped. */
  readonly live = new Map<string, Timer>();
  bound = Infinity;
  /** Timers of this domain (in the store, its buffer, or only in `live`). */
  count = 0;
  /** Ids of timers in `live` not written to the store. */
  readonly unsaved = new Set<string>();
  /**
   * Trim when `live` grows past this. Raised after a trim that had to keep many ties of one time,
   * so that registering more timers at that time does not sort the index again each time.
   */
  trimAt = 2 * INDEX_SIZE;

  add(t: Timer, id: string): void {
    this.live.set(id, t);
    this.heap.push(t);
  }

  peekLive(): Timer | undefined {
    const h = this.heap.items;
    while (h.length > 0) {
      const t = h[0]!;
      if (this.live.get(timerId(t.time, t.key, t.namespace)) === t) return t;
      this.heap.pop();
    }
    return undefined;
  }

  /** Keeps the INDEX_SIZE earliest (and any ties of the last), lowering the bound; unsaved timers dropped are saved. */
  trim(save: (t: Timer, id: string) => void): void {
    const sorted = [...this.live.values()].sort((a, b) => a.time - b.time);
    let n = INDEX_SIZE;
    while (n < sorted.length && sorted[n]!.time === sorted[n - 1]!.time) n++;
    this.trimAt = Math.max(2 * INDEX_SIZE, 2 * n);
    if (n >= sorted.length) return;
    this.bound = sorted[n - 1]!.time;
    for (let i = n; i < sorted.length; i++) {
      const t = sorted[i]!;
      const id = timerId(t.time, t.key, t.namespace);
      if (this.unsaved.delete(id)) save(t, id);
    }
    this.live.clear();
    this.heap.items = [];
    for (let i = 0; i < n; i++) this.add(sorted[i]!, timerId(sorted[i]!.time, sorted[i]!.key, sorted[i]!.namespace));
  }
}

export class LmdbTimerService implements TimerService {
  private readonly event = new DomainIndex();
  private readonly processing = new DomainIndex();

  constructor(private readonly store: TimerStore) {}

  private index(domain: TimeDomain): DomainIndex {
    return domain === 'event' ? this.event : this.processing;
  }

  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    const ix = this.index(domain);
    const id = timerId(time, key, namespace);
    if (time <= ix.bound) {
      if (ix.live.has(id)) return;
      ix.add({ time, key, keyGroup, namespace }, id);
      ix.count++;
      ix.unsaved.add(id);
      if (ix.live.size > ix.trimAt) ix.trim((t, tid) => this.save(domain, t, tid));
      return;
    }
    const lk = timerKey(keyGroup, domain, time, key, namespace);
    if (this.store.hasTimer(id, lk)) return;
    ix.count++;
    this.store.writeTimer(id, lk, true);
  }

  private save(domain: TimeDomain, t: Timer, id: string): void {
    this.store.writeTimer(id, timerKey(t.keyGroup, domain, t.time, t.key, t.namespace), true);
  }

  /** Writes every timer that lives only in memory to the store (before a snapshot or flush). */
  saveAll(): void {
    for (const domain of ['event', 'processing'] as const) {
      const ix = this.index(domain);
      if (ix.unsaved.size === 0) continue;
      for (const id of ix.unsaved) this.save(domain, ix.live.get(id)!, id);
      ix.unsaved.clear();
    }
  }

  /** Timers that live only in memory. */
  unsavedCount(): number {
    return this.event.unsaved.size + this.processing.unsaved.size;
  }

  delete(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    const ix = this.index(domain);
    const id = timerId(time, key, namespace);
    const lk = timerKey(keyGroup, domain, time, key, namespace);
    if (time <= ix.bound) {
      if (!ix.live.delete(id)) return;
      if (ix.unsaved.delete(id)) {
        ix.count--;
        return;
      }
    } else if (!this.store.hasTimer(id, lk)) {
      return;
    }
    ix.count--;
    this.store.writeTimer(id, lk, false);
  }

  pollNext(domain: TimeDomain, upTo: number): Timer | undefined {
    const ix = this.index(domain);
    for (;;) {
      const t = ix.peekLive();
      if (t !== undefined) {
        if (t.time > upTo) return undefined;
        ix.heap.pop();
        const id = timerId(t.time, t.key, t.namespace);
        ix.live.delete(id);
        ix.count--;
        if (!ix.unsaved.delete(id)) this.store.writeTimer(id, timerKey(t.keyGroup, domain, t.time, t.key, t.namespace), false);
        return t;
      }
      // The index is empty of live timers: stored ones above the bound may be due.
      if (ix.bound >= upTo) return undefined;
      this.reload(domain, ix);
      if (ix.live.size === 0) return undefined;
    }
  }

  pollDue(domain: TimeDomain, upTo: number): Timer[] {
    const due: Timer[] = [];
    for (let t = this.pollNext(domain, upTo); t !== undefined; t = this.pollNext(domain, upTo)) due.push(t);
    return due;
  }

  peekEarliest(domain: TimeDomain): number | undefined {
    const ix = this.index(domain);
    let t = ix.peekLive();
    if (t === undefined && ix.bound !== Infinity) {
      this.reload(domain, ix);
      t = ix.peekLive();
    }
    return t?.time;
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
      ix.unsaved.clear(); // the backend saved them before restoring
      ix.live.clear();
      ix.heap.items = [];
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
    ix.live.clear();
    ix.heap.items = [];
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
      ix.add(c.head, timerId(c.head.time, c.head.key, c.head.namespace));
      taken++;
      last = c.head.time;
      const n = c.it.next();
      if (n.done) cursors.splice(best, 1);
      else c.head = n.value;
    }
  }
}
