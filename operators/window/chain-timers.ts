/**
 * The 'f' timers a sliding window operator chains from window to window (its fireDue registers
 * the key's next window after each firing), held in memory between checkpoints instead of in the
 * keyed backend's timer service. Every key with panes left has one, so the backend would take a
 * registration (a timer object, an index entry by key) and a poll per key per slide: with one
 * record per key per slide, about a fifth of the operator's work.
 *
 * They are still the key's timers, with the same semantics (the operator decides when they go
 * where): the checkpoint barrier moves them into the backend, so a snapshot has them and a restore
 * fires them from there; they fire on their own only when no backend timer is due in the same loop,
 * so a key's timers fire in time order whichever holds them; otherwise they move into the backend
 * first and its loop orders them all. A timer is identified by (time, key), as in the backend: the
 * same key chained twice at one time is one timer.
 */

/** What a chained timer is kept on: the key's entry (pending-panes.ts). */
export interface ChainedKey {
  /** The time of the key's timer added last (NaN: none, or it fired or moved). */
  chainAt: number;
  /** The time of the last of its timers fired here (NaN: none): a second (time, key) of one time is the same timer. */
  chainFired: number;
}

export class ChainTimers<E extends ChainedKey> {
  private readonly byTime = new Map<number, E[]>();
  /** The list added to last: every key of a slide chains the same time, one lookup for all. */
  private lastTime = Number.NaN;
  private last: E[] | undefined;
  private count = 0;

  /** Timers held (a key added twice at one time counts twice until it fires). */
  get size(): number {
    return this.count;
  }

  /** Adds the timer (time, key of `e`). */
  add(time: number, e: E): void {
    if (e.chainAt === time) return;
    e.chainAt = time;
    let list = time === this.lastTime ? this.last : this.byTime.get(time);
    if (list === undefined) this.byTime.set(time, (list = []));
    this.lastTime = time;
    this.last = list;
    list.push(e);
    this.count++;
  }

  /** The earliest time held, or Infinity. The times are few (one per slide ahead), so this looks at each. */
  earliest(): number {
    let min = Infinity;
    for (const t of this.byTime.keys()) if (t < min) min = t;
    return min;
  }

  /**
   * Fires the timers due at `upTo`: earliest time first, each time's in the order added, each
   * (time, key) once. `fire` may add timers (later than `upTo`).
   */
  fireDue(upTo: number, fire: (time: number, e: E) => void): void {
    for (let time = this.earliest(); this.count > 0 && time <= upTo; time = this.earliest()) {
      const list = this.take(time);
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        if (e.chainFired === time) continue;
        e.chainFired = time;
        if (e.chainAt === time) e.chainAt = Number.NaN;
        fire(time, e);
      }
    }
  }

  /** Hands every timer to `to` (earliest time first) and forgets them all. */
  drain(to: (time: number, e: E) => void): void {
    const times = [...this.byTime.keys()].sort((a, b) => a - b);
    for (const time of times) {
      const list = this.take(time);
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        if (e.chainAt === time) e.chainAt = Number.NaN;
        to(time, e);
      }
    }
  }

  private take(time: number): E[] {
    const list = this.byTime.get(time)!;
    this.byTime.delete(time);
    if (time === this.lastTime) {
      this.lastTime = Number.NaN;
      this.last = undefined;
    }
    this.count -= list.length;
    return list;
  }
}
