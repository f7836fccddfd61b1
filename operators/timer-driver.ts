/**
 * The one timer loop of every keyed operator: event-time timers fire when the watermark passes
 * them, processing-time ones from the task's mailbox (one wake-up scheduled at a time, for the
 * earliest timer). The backend's current key is set to the timer's key before the handler runs.
 * Timers live in the keyed state backend, so they survive failover; `open` reschedules the
 * restored ones.
 *
 * Timers are taken one at a time, as Flink's InternalTimerService does: a handler that registers a
 * timer that is already due sees it fire in the same loop, once; a handler that deletes a timer
 * not yet fired (of any key, even of the same time) stops it from firing.
 */
import type { OperatorContext } from './operator.ts';
import type { KeyedStateBackend } from '../state/backend.ts';
import type { StateKey } from '../state/key-groups.ts';
import type { TimeDomain, Timer } from '../state/timers.ts';

export class TimerDriver {
  private wakeUpAt = Infinity;
  /**
   * Counts `fire` calls: a handler can tell the timers of one loop (all due up to the same
   * `upTo`) from the next, e.g. to fire every due window of a key at its first timer and skip
   * that key's later timers of the loop.
   */
  loop = 0;

  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly ctx: OperatorContext<unknown>,
    private readonly onTimer: (timer: Timer, domain: TimeDomain, upTo: number) => void,
  ) {}

  /** Schedules the wake-up of the earliest (restored) processing-time timer. */
  open(): void {
    const next = this.backend.timers.peekEarliest('processing');
    if (next !== undefined) this.scheduleWakeUp(next);
  }

  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    this.backend.timers.register(domain, time, key, keyGroup, namespace);
    if (domain === 'processing') this.scheduleWakeUp(time);
  }

  delete(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    this.backend.timers.delete(domain, time, key, keyGroup, namespace);
  }

  /** Fires the timers of `domain` up to `upTo`, one at a time, including ones registered while firing. */
  fire(domain: TimeDomain, upTo: number): void {
    const { backend } = this;
    const timers = backend.timers;
    this.nextLoop();
    for (let t = timers.pollNext(domain, upTo); t !== undefined; t = timers.pollNext(domain, upTo)) {
      backend.setCurrentKey(t.key, t.keyGroup);
      this.onTimer(t, domain, upTo);
    }
  }

  /** Starts a timer loop: the operator fires timers it holds itself (as one loop) after this. */
  nextLoop(): void {
    this.loop++;
  }

  private scheduleWakeUp(time: number): void {
    if (time >= this.wakeUpAt) return;
    this.wakeUpAt = time;
    this.ctx.processingTime.schedule(time, () => {
      this.wakeUpAt = Infinity;
      this.fire('processing', Math.max(time, this.ctx.processingTime.now()));
      const next = this.backend.timers.peekEarliest('processing');
      if (next !== undefined) this.scheduleWakeUp(next);
    });
  }
}
