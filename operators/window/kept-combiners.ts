/**
 * The sliding-window panes of each key combined between firings (the aligned window operator's
 * fireDue), at most MAX_KEPT_PANES accumulators in all, and what they tell about the key's chain
 * of 'f' timers: whether a new pane needs a timer of its own (coveredByChain). A key's combiner
 * lives on its entry of the operator's per-key entries (pending-panes.ts), so the record that
 * makes a pane and the timer that fires it find it without a lookup of their own. Memory only:
 * after a restore, or once the entries are forgotten, there are none; keys read their panes from
 * state and new panes register timers.
 */
import type { PaneCombiner } from './pane-combiner.ts';

/**
 * At most this many pane accumulators are kept in combiners between firings (all keys); keys
 * beyond it read their panes from state at each firing.
 */
const MAX_KEPT_PANES = 1 << 18;

/**
 * A key's sliding-window panes combined between firings: `combiner` holds copies of the key's
 * present panes in [through + slide - size, through), the ones the windows after `through` (the
 * last end fired) still cover. Valid while those panes are unchanged in state: only a record
 * for a pane before `through` changes them, and it drops this (forgetPanesBefore).
 *
 * While it exists, the key's 'f' timer of the window after `through` is registered, and the
 * key's windows are sure to fire one by one through `reach` (see coveredByChain).
 */
export class SlidingKeyPanes<ACC> {
  /**
   * Windows of the key sure to fire beyond the reach, from a pane that registered its own timer
   * there (not next to the reach): [aheadFrom, aheadTo], or aheadFrom NaN for none.
   */
  aheadFrom = Number.NaN;
  aheadTo = Number.NaN;

  constructor(
    readonly combiner: PaneCombiner<ACC>,
    public through: number,
    public reach: number,
  ) {}

  /** The start of the newest pane held. */
  get newest(): number {
    return this.combiner.newest();
  }
}

/** What keeps a key's combiner: its entry. */
export interface KeepsPanes<ACC> {
  kept: SlidingKeyPanes<ACC> | undefined;
}

export class KeptCombiners<ACC> {
  /** Pane accumulators held by all kept combiners. */
  private paneCount = 0;

  constructor(private readonly slide: number) {}

  /** Drops a key's kept combiner (unchanged since it was counted). */
  forget(key: KeepsPanes<ACC>): void {
    this.paneCount -= key.kept!.combiner.size;
    key.kept = undefined;
  }

  /** A key's firing emptied its kept combiner, which held `before` panes when counted: its chain ends. */
  emptied(key: KeepsPanes<ACC>, before: number): void {
    this.paneCount -= before;
    key.kept = undefined;
  }

  /** Every key's entry, with its combiner, was forgotten. */
  forgetAll(): void {
    this.paneCount = 0;
  }

  /**
   * A key fired its windows through `through` with `combiner` (its kept one, which held `before`
   * panes when counted, or a new one) non-empty, and registered the timer of the next window:
   * keeps the combiner (room permitting), whose newest pane's last window is `reach`.
   */
  fired(key: KeepsPanes<ACC>, combiner: PaneCombiner<ACC>, before: number, through: number, reach: number): void {
    const kept = key.kept;
    if (kept !== undefined) {
      kept.through = through;
      if (reach > kept.reach) kept.reach = reach;
      this.paneCount += combiner.size - before;
    } else if (this.paneCount + combiner.size <= MAX_KEPT_PANES) {
      key.kept = new SlidingKeyPanes(combiner, through, reach);
      this.paneCount += combiner.size;
    }
  }

  /**
   * A record for a pane before the windows a key has fired through (late, or processing time
   * catching up) changes panes a kept combiner holds: drop the combiner (the next firing reads
   * the panes from state).
   */
  forgetPanesBefore(key: KeepsPanes<ACC>, pane: number): void {
    const kept = key.kept;
    if (kept !== undefined && pane < kept.through) this.forget(key);
  }

  /**
   * Whether a new pane of the key, whose first window not fired yet ends at `end` (its last at
   * `lastEnd`), needs no 'f' timer of its own because the key's timers already fire that window.
   *
   * A kept combiner means that the key's last firing, through `through`, registered the timer of
   * the next window, and that the chain goes on window by window while the combiner holds a pane
   * the next window covers: so at least through `reach`, the last window of the newest pane read
   * or covered. A firing that reaches `end` reads the new pane (it starts before `end`) with the
   * others, and the chain goes on through `lastEnd`, which becomes the reach. A pane that
   * registers its timer for the window right after the reach extends it too (its timer carries
   * the chain on). A pane further ahead (records well ahead of the watermark) registers its timer
   * and starts a run [aheadFrom, aheadTo] that later panes extend the same way, joined to the
   * reach once they meet. With records in order, a key registers a timer for its first pane past
   * the reach and none for the panes after it.
   *
   * Only memory decides to skip a timer; what makes it safe is in state (the timers registered
   * and the panes), so it holds after a restore, where kept combiners are gone and every new
   * pane registers its timer again.
   */
  coveredByChain(key: KeepsPanes<ACC>, end: number, lastEnd: number): boolean {
    const kept = key.kept;
    if (kept === undefined || end <= kept.through) return false;
    const slide = this.slide;
    if (kept.aheadFrom - slide <= kept.reach) {
      if (kept.aheadTo > kept.reach) kept.reach = kept.aheadTo;
      kept.aheadFrom = kept.aheadTo = Number.NaN;
    }
    if (end - slide <= kept.reach) {
      // Within the reach (covered), or right after it (its own timer carries the chain on).
      const covered = end <= kept.reach;
      if (lastEnd > kept.reach) kept.reach = lastEnd;
      return covered;
    }
    if (end >= kept.aheadFrom && end - slide <= kept.aheadTo) {
      const covered = end <= kept.aheadTo;
      if (lastEnd > kept.aheadTo) kept.aheadTo = lastEnd;
      return covered;
    }
    kept.aheadFrom = end;
    kept.aheadTo = lastEnd;
    return false;
  }
}
