/**
 * The combination of a sliding run of pane accumulators, for firing consecutive sliding windows of
 * one key: panes enter at the new end and leave at the old end, and each window's result costs a
 * bounded number of merges however many panes it covers (the "two stacks" of sliding-window
 * aggregation: the older panes hold suffix combinations, the newer ones a running combination).
 * A pane costs at most two merges entering and two when the older part is rebuilt (each counts a
 * fresh left side where the function has one), a result at most two, against size/pane merges per
 * window when every window re-combines its panes. A key's combiner lives between firings (the
 * window operator keeps it), so panes enter it once.
 *
 * Merges keep the panes' left-to-right order (merge must be associative, as Flink requires of
 * window aggregates). No accumulator handed in (a pane's, possibly the state's own) is modified:
 * the left side of every merge is a fresh accumulator or one made here; an accumulator handed out
 * by `result` is never modified afterwards (the window function may keep it).
 */
import type { IncrementalContents } from './window-contents.ts';
import { clearArray, shiftDown } from './arrays.ts';

export class PaneCombiner<ACC> {
  /** Pushed accumulators and their pane starts; [start, split) is the older part, [split, length) the newer. */
  private readonly items: ACC[] = [];
  private readonly starts: number[] = [];
  /** suffix[i], i in [start, split): the combination of items[i .. split). */
  private readonly suffix: ACC[] = [];
  private start = 0;
  private split = 0;
  /** The combination of items[split ..], or undefined. */
  private back: ACC | undefined = undefined;
  /** Whether `back` was made here and handed out to nobody, so it may be merged into in place. */
  private backOwned = false;
  /** Merges done (a work count for tests). */
  merges = 0;

  constructor(private readonly contents: IncrementalContents<unknown, ACC, unknown>) {}

  get size(): number {
    return this.items.length - this.start;
  }

  /** The start of the newest pane held (size > 0). */
  newest(): number {
    return this.starts[this.starts.length - 1]!;
  }

  /** The start of the oldest pane held (size > 0). */
  oldest(): number {
    return this.starts[this.start]!;
  }

  reset(): void {
    clearArray(this.items);
    clearArray(this.starts);
    clearArray(this.suffix);
    this.start = 0;
    this.split = 0;
    this.back = undefined;
    this.backOwned = false;
  }

  /** A pane after every pane held. */
  push(start: number, acc: ACC): void {
    this.items.push(acc);
    this.starts.push(start);
    if (this.back === undefined) {
      this.back = acc;
      this.backOwned = false;
    } else {
      this.back = this.merge(this.back, this.backOwned, acc);
      this.backOwned = true;
    }
  }

  /** Drops the oldest pane held; returns its start. */
  evict(): number {
    if (this.start === this.split) this.flip();
    const p = this.starts[this.start++]!;
    if (this.start >= 64 && this.start * 2 >= this.items.length) this.compact();
    return p;
  }

  /**
   * Forgets the dropped panes' slots (the combiner of a key lives as long as the key fires): moves
   * the rest to the front and pops the tail, where splice would allocate an array of what it
   * removes, once every 64 evictions of every key.
   */
  private compact(): void {
    const n = this.start;
    shiftDown(this.items, n);
    shiftDown(this.starts, n);
    shiftDown(this.suffix, Math.min(n, this.suffix.length));
    this.split -= n;
    this.start = 0;
  }

  /** The combination of the panes held (undefined if none). */
  result(): ACC | undefined {
    const front = this.start < this.split ? this.suffix[this.start] : undefined;
    if (front === undefined) {
      this.backOwned = false;
      return this.back;
    }
    if (this.back === undefined) return front;
    return this.merge(front, false, this.back);
  }

  /** Makes every held pane part of the older part, with suffix combinations from the newest. */
  private flip(): void {
    const { items, suffix } = this;
    const n = items.length;
    if (n === this.start) return;
    // suffix[i] is set for i in [start, n): grown by push, never by setting its length, which
    // makes the array holey and is a runtime call (1.2% of the sliding-1s benchmark's time, measured).
    // Entries past n are stale and never read (only [start, split) is).
    while (suffix.length < n) suffix.push(items[suffix.length]!);
    let s: ACC = items[n - 1]!;
    suffix[n - 1] = s;
    for (let i = n - 2; i >= this.start; i--) {
      s = this.merge(items[i]!, false, s);
      suffix[i] = s;
    }
    this.split = n;
    this.back = undefined;
    this.backOwned = false;
  }

  /** left ⊕ right, copying `left` into a fresh accumulator first unless it is ours to modify. */
  private merge(left: ACC, owned: boolean, right: ACC): ACC {
    const c = this.contents;
    const merge = c.merge!;
    if (!owned) {
      const empty = c.empty();
      if (empty !== undefined) {
        left = merge(empty, left);
        this.merges++;
      }
    }
    this.merges++;
    return merge(left, right);
  }
}
