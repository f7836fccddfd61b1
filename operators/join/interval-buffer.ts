/**
 * One side of an interval join's records buffered in memory between barriers: per join key, the
 * records by time, times ascending. Records mostly arrive in time order, and a side's buckets are
 * dropped in time order (a bucket at t goes when the watermark passes t plus a constant), so a
 * new bucket is appended at the end and a dropped one is the key's first: both O(1). A probe finds
 * the first time of its interval by binary search and reads only the buckets inside it. Cleanups
 * are queued per side, each with the buffer it drops from (no key lookup to drop a bucket).
 */
import type { KeyId } from '../../state/key-codec.ts';
import type { StateKey } from '../../state/key-groups.ts';
import { TimeHeap } from '../../state/timer-heap.ts';

/** A key's buckets on one side: `times[i]` holds `buckets[i]`, for i from `head` on. */
export class TimeBuckets<T> {
  times: number[] = [];
  buckets: T[][] = [];
  head = 0;

  constructor(
    readonly id: KeyId,
    readonly key: StateKey,
    readonly keyGroup: number,
  ) {}

  get isEmpty(): boolean {
    return this.head === this.times.length;
  }

  /** Index of the first bucket with time >= `from` (times.length if none). */
  firstAtOrAfter(from: number): number {
    const ts = this.times;
    let lo = this.head;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds `value` at `t`; true if its bucket is new. */
  add(t: number, value: T): boolean {
    const ts = this.times;
    const n = ts.length;
    if (n === this.head || ts[n - 1]! < t) {
      ts.push(t);
      this.buckets.push([value]);
      return true;
    }
    const i = this.firstAtOrAfter(t);
    if (i < n && ts[i] === t) {
      this.buckets[i]!.push(value);
      return false;
    }
    ts.splice(i, 0, t);
    this.buckets.splice(i, 0, [value]);
    return true;
  }

  /** Drops the bucket at `t`; returns how many records it held (0 if there was none). */
  remove(t: number): number {
    const ts = this.times;
    let i = this.head;
    if (ts[i] !== t) {
      i = this.firstAtOrAfter(t);
      if (ts[i] !== t) return 0;
    }
    const n = this.buckets[i]!.length;
    if (i === this.head) {
      this.buckets[i] = undefined as unknown as T[];
      this.head++;
      if (this.head === ts.length) {
        // Empty: the arrays are reused by the key's next records.
        ts.length = 0;
        this.buckets.length = 0;
        this.head = 0;
      } else if (this.head > 32 && this.head * 2 > ts.length) {
        // Compact once the dropped prefix is the larger part.
        this.times = ts.slice(this.head);
        this.buckets = this.buckets.slice(this.head);
        this.head = 0;
      }
    } else {
      ts.splice(i, 1);
      this.buckets.splice(i, 1);
    }
    return n;
  }
}

/**
 * Keys whose buffers emptied stay in a side's map for their next records (no new buffer per
 * record when every key's buffer empties between its records) while the map has fewer keys than
 * this; a barrier empties the map anyway.
 */
const IDLE_KEYS_KEPT = 1 << 16;

/**
 * A side's buffers of every key, how many records they hold, and the queue of their buckets'
 * cleanups: a FIFO while cleanups come in time order (records in time order), a heap for those
 * that come out of order.
 */
export class SideBuffer<T> {
  readonly byKey = new Map<KeyId, TimeBuckets<T>>();
  records = 0;
  private fifoTimes: number[] = [];
  private fifoOwners: TimeBuckets<T>[] = [];
  private fifoHead = 0;
  private readonly late = new TimeHeap<TimeBuckets<T>>();

  constructor(
    /** A bucket at t goes once the watermark passes t + cleanupAfter. */
    private readonly cleanupAfter: number,
  ) {}

  of(id: KeyId): TimeBuckets<T> | undefined {
    return this.byKey.get(id);
  }

  /** Adds `value` of `key` (whose id is `id`) at `t`, and queues the cleanup of a new bucket. */
  add(id: KeyId, key: StateKey, keyGroup: number, t: number, value: T): void {
    let b = this.byKey.get(id);
    if (b === undefined) {
      b = new TimeBuckets<T>(id, key, keyGroup);
      this.byKey.set(id, b);
    }
    this.records++;
    if (!b.add(t, value)) return;
    const at = t + this.cleanupAfter;
    const ft = this.fifoTimes;
    if (ft.length === this.fifoHead || ft[ft.length - 1]! <= at) {
      ft.push(at);
      this.fifoOwners.push(b);
    } else {
      this.late.push(at, b);
    }
  }

  /** Drops the buckets whose cleanup time the watermark passed. */
  cleanUpTo(watermark: number): void {
    const ft = this.fifoTimes;
    const fo = this.fifoOwners;
    let h = this.fifoHead;
    while (h < ft.length && ft[h]! <= watermark) {
      this.drop(fo[h]!, ft[h]! - this.cleanupAfter);
      fo[h] = undefined as unknown as TimeBuckets<T>;
      h++;
    }
    if (h === ft.length) {
      ft.length = 0;
      fo.length = 0;
      h = 0;
    } else if (h > 1024 && h * 2 > ft.length) {
      this.fifoTimes = ft.slice(h);
      this.fifoOwners = fo.slice(h);
      h = 0;
    }
    this.fifoHead = h;
    const late = this.late;
    while (late.size > 0 && late.topTime() <= watermark) {
      const at = late.topTime();
      this.drop(late.pop()!, at - this.cleanupAfter);
    }
  }

  private drop(b: TimeBuckets<T>, t: number): void {
    this.records -= b.remove(t);
    if (b.isEmpty && this.byKey.size > IDLE_KEYS_KEPT && this.byKey.get(b.id) === b) this.byKey.delete(b.id);
  }

  /** Every key's buckets (empty ones too), then forgets them all and their cleanups. */
  drain(): TimeBuckets<T>[] {
    const all = [...this.byKey.values()];
    this.byKey.clear();
    this.records = 0;
    this.fifoTimes = [];
    this.fifoOwners = [];
    this.fifoHead = 0;
    this.late.clear();
    return all;
  }
}
