/**
 * One side of an interval join's records buffered in memory between barriers: per join key, the
 * records by time, times ascending. Records mostly arrive in time order, and a side's buckets are
 * dropped in time order (a bucket at t goes when the watermark passes t plus a constant), so a
 * new bucket is appended at the end and a dropped one is the key's first: both O(1). A probe finds
 * the first time of its interval by binary search and reads only the buckets inside it.
 */
import { keyId, type KeyId } from '../../state/key-codec.ts';
import type { StateKey } from '../../state/key-groups.ts';

/** A key's buckets on one side: `times[i]` holds `buckets[i]`, for i from `head` on. */
export class TimeBuckets<T> {
  times: number[] = [];
  buckets: T[][] = [];
  head = 0;

  constructor(
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
      // Compact once the dropped prefix is the larger part.
      if (this.head > 32 && this.head * 2 > ts.length) {
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

/** A side's buffers of every key, and how many records they hold. */
export class SideBuffer<T> {
  readonly byKey = new Map<KeyId, TimeBuckets<T>>();
  records = 0;

  of(id: KeyId): TimeBuckets<T> | undefined {
    return this.byKey.get(id);
  }

  /** Adds `value` of `key` (whose id is `id`) at `t`; true if its bucket is new. */
  add(id: KeyId, key: StateKey, keyGroup: number, t: number, value: T): boolean {
    let b = this.byKey.get(id);
    if (b === undefined) {
      b = new TimeBuckets<T>(key, keyGroup);
      this.byKey.set(id, b);
    }
    this.records++;
    return b.add(t, value);
  }

  remove(key: StateKey, t: number): void {
    const id = keyId(key);
    const b = this.byKey.get(id);
    if (b === undefined) return;
    this.records -= b.remove(t);
    if (b.isEmpty) this.byKey.delete(id);
  }

  /** Every key's buckets, then forgets them all. */
  drain(): TimeBuckets<T>[] {
    const all = [...this.byKey.values()];
    this.byKey.clear();
    this.records = 0;
    return all;
  }
}
