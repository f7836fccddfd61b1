/**
 * The in-memory timer index both backends use (heap: every timer; LMDB: the earliest ones, see
 * lmdb/lmdb-timers.ts), coalesced by time: a min-heap of the distinct times, and per time a bucket
 * of its timers in registration order (they fire in that order) with an index by key. Registering
 * costs a lookup of the time (none when it is the time of the previous registration, as when every
 * key registers the same window end) and one of the key: no string id per timer, and a Map per key
 * only when a key has several namespaces at one time. Polling walks the bucket's array, so no
 * iterator or entry pair is made per timer. Deletion is lazy: a deleted timer stays in its bucket's
 * array (marked dead) and an emptied time in the heap until polled past; both are compacted when
 * the dead outnumber the live, so churn (a timer moved again and again) does not grow them.
 *
 * A time with one timer (a per-key timeout or expiry: most times when timers are spread over time)
 * holds the timer itself, not a bucket: no bucket, array and key index per timer. The second timer
 * of that time turns it into a bucket.
 *
 * The times are looked up in a NumberKeyTable (unboxed keys, no Map): a millisecond timestamp is a
 * heap number, which a Map hashes and compares through its box; with q4's one timer per auction
 * the Map's lookups were a third of the index's samples. The heap holds each time's entry with the
 * time, so polling looks nothing up: an entry whose time was emptied (a dead lone timer, a dropped
 * bucket) is stale and skipped.
 */
import { WeirError } from '../runtime/errors.ts';
import { keyId, type KeyId } from './key-codec.ts';
import type { StateKey } from './key-groups.ts';
import { NumberKeyTable } from './number-key-table.ts';
import { TimeHeap } from './timer-heap.ts';
import type { Timer } from './timers.ts';

/** A timer in the index. */
export class IndexedTimer implements Timer {
  /** Deleted (it stays in its time's array until polled past or compacted) or fired. */
  dead = false;
  /** For the LMDB backend: the timer lives only in the index, not (yet) in the store. */
  unsaved = false;
  /** The bucket it went into when a second timer came to its time (it was its time's lone timer until then). */
  bucket: TimeBucket | undefined = undefined;
  constructor(
    readonly time: number,
    readonly key: StateKey,
    readonly keyGroup: number,
    readonly namespace: string,
  ) {}
}

/** The timers of one time, in registration order, with an index by key. */
class TimeBucket {
  /** Its last timer fired or was deleted: the time is gone from the index. */
  dropped = false;
  constructor(readonly time: number) {}
  readonly timers: IndexedTimer[] = [];
  /** Next timer to poll. */
  head = 0;
  live = 0;
  /** One timer of a key is held as itself, several (different namespaces) in a Map by namespace. */
  readonly byKey = new Map<KeyId, IndexedTimer | Map<string, IndexedTimer>>();
}

function idOf(key: StateKey): KeyId {
  return typeof key === 'object' ? keyId(key) : key;
}

/** Dead slots a bucket's array may hold beyond its live timers before it is compacted. */
const SLACK = 32;

/** A time's timers: the one timer, or a bucket of several. A lone timer held here is live. */
type AtTime = IndexedTimer | TimeBucket;

const timeBits = new Float64Array(1);
const timeHalves = new Int32Array(timeBits.buffer);

/**
 * The hash a time is placed by in the table: the two 32-bit halves of its bits, mixed. The bits,
 * not the integer part: times a fraction of a millisecond apart must not all share one hash.
 */
export function timeHash(time: number): number {
  timeBits[0] = time + 0; // -0 and 0 are one time, as in a Map
  const h = Math.imul(timeHalves[0]! ^ Math.imul(timeHalves[1]!, 0x27d4eb2d), 0x9e3779b1);
  return Math.imul(h ^ (h >>> 15), 0x85ebca6b);
}

/** The live entry a heap item stands for, or undefined when its time was emptied since it was pushed. */
function current(item: AtTime): AtTime | undefined {
  if (item instanceof IndexedTimer) {
    if (item.bucket === undefined) return item.dead ? undefined : item;
    item = item.bucket;
  }
  return item.dropped ? undefined : item;
}

export class TimerIndex {
  /** Each time with timers, once, with its entry (and stale items, see `current`). */
  private times = new TimeHeap<AtTime>();
  private readonly byTime = new NumberKeyTable<AtTime>();
  private lastTime = NaN;
  private lastAt: AtTime | undefined;
  private count = 0;
  /** Work counters for tests: times pushed to the heap, arrays and heaps compacted, timers taken out of a key index. */
  readonly work = { timesPushed: 0, compactions: 0, unindexed: 0 };

  /** Live timers. */
  get size(): number {
    return this.count;
  }

  /** Distinct times with live timers. */
  get timeCount(): number {
    return this.byTime.size;
  }

  /** What the index holds, dead slots and emptied times included (tests bound it). */
  footprint(): { heapTimes: number; slots: number } {
    let slots = 0;
    this.forEachTime((b) => (slots += b instanceof TimeBucket ? b.timers.length - b.head : 1));
    return { heapTimes: this.times.size, slots };
  }

  /** Calls `f` with every time's entry (in no particular order). */
  private forEachTime(f: (a: AtTime) => void): void {
    const table = this.byTime;
    for (let i = 0, n = table.slots; i < n; i++) {
      const a = table.valueAt(i);
      if (a !== undefined) f(a);
    }
  }

  private at(time: number): AtTime | undefined {
    if (time === this.lastTime) return this.lastAt;
    const b = this.byTime.getHashed(time, timeHash(time));
    if (b !== undefined) {
      this.lastTime = time;
      this.lastAt = b;
    }
    return b;
  }

  /** Removes `time` from the table (its heap item goes stale: the caller marks the entry dead or dropped). */
  private dropTime(time: number): void {
    this.byTime.deleteHashed(time, timeHash(time));
    if (time === this.lastTime) {
      this.lastTime = NaN;
      this.lastAt = undefined;
    }
  }

  private dropBucket(b: TimeBucket): void {
    b.dropped = true;
    this.dropTime(b.time);
  }

  /** A new time with `timer` as its one timer. */
  private addTime(time: number, timer: IndexedTimer): void {
    this.byTime.addHashed(time, timeHash(time), timer);
    // Emptied times wait in the heap until they reach its top: rebuild it when they are most of it.
    if (this.times.size >= 2 * this.byTime.size + SLACK) this.rebuildTimes();
    else this.times.push(time, timer);
    this.work.timesPushed++;
    this.lastTime = time;
    this.lastAt = timer;
    this.count++;
  }

  /** A bucket holding the time's lone timer `one`, in its place (the heap item stays `one`, which leads to it). */
  private toBucket(time: number, one: IndexedTimer): TimeBucket {
    const b = new TimeBucket(time);
    b.timers.push(one);
    b.byKey.set(idOf(one.key), one);
    b.live = 1;
    one.bucket = b;
    // Once per time that gets a second timer: a delete and an add, not a third probe loop in the table.
    const hash = timeHash(time);
    this.byTime.deleteHashed(time, hash);
    this.byTime.addHashed(time, hash, b);
    this.lastTime = time;
    this.lastAt = b;
    return b;
  }

  /** Adds the timer and returns it, or returns undefined if (time, key, namespace) is there already. */
  add(time: number, key: StateKey, keyGroup: number, namespace: string): IndexedTimer | undefined {
    // NaN would never fire, and it marks an empty slot of the time table.
    if (time !== time) throw new WeirError(`a timer was registered for time NaN (key ${String(key)}): a timer's time must be a number`, { domain: 'user' });
    const a = this.at(time);
    if (a === undefined) {
      const timer = new IndexedTimer(time, key, keyGroup, namespace);
      this.addTime(time, timer);
      return timer;
    }
    const id = idOf(key);
    let b: TimeBucket;
    if (a instanceof IndexedTimer) {
      if (a.namespace === namespace && idOf(a.key) === id) return undefined;
      b = this.toBucket(time, a);
    } else b = a;
    const held = b.byKey.get(id);
    let timer: IndexedTimer;
    if (held === undefined) {
      timer = new IndexedTimer(time, key, keyGroup, namespace);
      b.byKey.set(id, timer);
    } else if (held instanceof IndexedTimer) {
      // A dead timer still in the key index was fired (polling leaves the index alone): absent.
      if (!held.dead) {
        if (held.namespace === namespace) return undefined;
        timer = new IndexedTimer(time, key, keyGroup, namespace);
        b.byKey.set(id, new Map([[held.namespace, held], [namespace, timer]]));
      } else {
        timer = new IndexedTimer(time, key, keyGroup, namespace);
        b.byKey.set(id, timer);
      }
    } else {
      const had = held.get(namespace);
      if (had !== undefined && !had.dead) return undefined;
      timer = new IndexedTimer(time, key, keyGroup, namespace);
      held.set(namespace, timer);
    }
    b.timers.push(timer);
    b.live++;
    this.count++;
    return timer;
  }

  /** Takes `timer` (live, in `b`, held as `held`) out of its bucket's key index. */
  private unindex(b: TimeBucket, id: KeyId, held: IndexedTimer | Map<string, IndexedTimer>, timer: IndexedTimer): void {
    if (held === timer) b.byKey.delete(id);
    else {
      const ns = held as Map<string, IndexedTimer>;
      ns.delete(timer.namespace);
      if (ns.size === 0) b.byKey.delete(id);
    }
    b.live--;
    this.count--;
    this.work.unindexed++;
  }

  /** Deletes the timer and returns it, or undefined if it is not in the index. */
  remove(time: number, key: StateKey, namespace: string): IndexedTimer | undefined {
    const b = this.at(time);
    if (b === undefined) return undefined;
    const id = idOf(key);
    if (b instanceof IndexedTimer) {
      if (b.namespace !== namespace || idOf(b.key) !== id) return undefined;
      b.dead = true;
      this.count--;
      this.work.unindexed++;
      this.dropTime(time);
      return b;
    }
    const held = b.byKey.get(id);
    if (held === undefined) return undefined;
    const timer = held instanceof IndexedTimer ? (held.namespace === namespace ? held : undefined) : held.get(namespace);
    if (timer === undefined || timer.dead) return undefined;
    timer.dead = true;
    this.unindex(b, id, held, timer);
    if (b.live === 0) this.dropBucket(b);
    else if (b.timers.length - b.head > 2 * b.live + SLACK) compact(b, this.work);
    return timer;
  }

  /** The entry of the earliest time that has timers (dropping stale items from the heap top). */
  private earliest(): AtTime | undefined {
    const h = this.times;
    while (h.size > 0) {
      const a = current(h.top()!);
      if (a !== undefined) return a;
      h.pop();
    }
    return undefined;
  }

  /** The earliest time that has timers. */
  peek(): number | undefined {
    return this.earliest()?.time;
  }

  /** Removes and returns the earliest timer (the first registered of its time) if its time is <= `upTo`. */
  pollNext(upTo: number): IndexedTimer | undefined {
    const b = this.earliest();
    if (b === undefined || b.time > upTo) return undefined;
    if (b instanceof IndexedTimer) {
      b.dead = true;
      this.count--;
      this.dropTime(b.time);
      this.times.pop();
      return b;
    }
    const timers = b.timers;
    let timer = timers[b.head]!;
    while (timer.dead) timer = timers[++b.head]!;
    timers[b.head++] = undefined as unknown as IndexedTimer;
    // Marked dead, left in the key index (add and remove take a dead timer there for absent): no
    // key lookup per timer fired; the index goes with the bucket once its last timer fired.
    timer.dead = true;
    b.live--;
    this.count--;
    if (b.live === 0) {
      this.dropBucket(b);
      this.times.pop();
    }
    return timer;
  }

  /** Calls `f` with every live timer (per time in registration order; times in no particular order). */
  forEach(f: (t: IndexedTimer) => void): void {
    this.forEachTime((b) => {
      if (b instanceof IndexedTimer) {
        f(b);
        return;
      }
      const timers = b.timers;
      for (let i = b.head; i < timers.length; i++) {
        const t = timers[i]!;
        if (!t.dead) f(t);
      }
    });
  }

  /** Every live timer. */
  all(): IndexedTimer[] {
    const out: IndexedTimer[] = [];
    this.forEach((t) => out.push(t));
    return out;
  }

  clear(): void {
    this.byTime.clear();
    this.times = new TimeHeap<AtTime>();
    this.lastTime = NaN;
    this.lastAt = undefined;
    this.count = 0;
  }

  /**
   * Keeps the earliest times holding at least `keep` timers (all timers of the last time kept, so
   * ties are never split) and drops every later time, calling `dropped` with each timer dropped.
   * Returns the last time kept (undefined if nothing is dropped) and the timers kept.
   */
  trim(keep: number, dropped: (t: IndexedTimer) => void): { bound: number | undefined; kept: number } {
    const entries: AtTime[] = [];
    this.forEachTime((a) => entries.push(a));
    entries.sort((a, b) => a.time - b.time);
    let kept = 0;
    let i = 0;
    while (i < entries.length && kept < keep) {
      const a = entries[i++]!;
      kept += a instanceof IndexedTimer ? 1 : a.live;
    }
    if (i >= entries.length) return { bound: undefined, kept };
    for (let j = i; j < entries.length; j++) {
      const b = entries[j]!;
      if (b instanceof IndexedTimer) {
        b.dead = true;
        dropped(b);
        this.count--;
        this.dropTime(b.time);
        continue;
      }
      for (let k = b.head; k < b.timers.length; k++) {
        const t = b.timers[k]!;
        if (t.dead) continue;
        t.dead = true;
        dropped(t);
      }
      this.count -= b.live;
      this.dropBucket(b);
    }
    this.rebuildTimes();
    return { bound: entries[i - 1]!.time, kept };
  }

  /** The heap again from the live times only. */
  private rebuildTimes(): void {
    const h = new TimeHeap<AtTime>();
    this.forEachTime((a) => h.push(a.time, a));
    this.times = h;
    this.work.compactions++;
  }
}

/** Drops a bucket's dead and polled slots from its array. */
function compact(b: TimeBucket, work: { compactions: number }): void {
  const timers = b.timers;
  let n = 0;
  for (let i = b.head; i < timers.length; i++) {
    const t = timers[i]!;
    if (!t.dead) timers[n++] = t;
  }
  timers.length = n;
  b.head = 0;
  work.compactions++;
}
