/**
 * Fires a keyed operator's timers: event-time ones when the watermark passes them, processing-time
 * ones from the task's mailbox (one wake-up scheduled at a time, for the earliest timer). The
 * backend's current key is set to the timer's key before the handler runs. Timers live in the
 * keyed state backend, so they survive failover; `open` reschedules the restored ones.
 */
import type { OperatorContext } from '../operator.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { StateKey } from '../../state/key-groups.ts';
import type { TimeDomain, Timer } from '../../state/timers.ts';

export class TimerDriver {
  private wakeUpAt = Infinity;

  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly ctx: OperatorContext<unknown>,
    private readonly onTimer: (timer: Timer, domain: TimeDomain) => void,
  ) {}

  open(): void {
    const next = this.backend.timers.peekEarliest('processing');
    if (next !== undefined) this.scheduleWakeUp(next);
  }

  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace: string): void {
    this.backend.timers.register(domain, time, key, keyGroup, namespace);
    if (domain === 'processing') this.scheduleWakeUp(time);
  }

  delete(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace: string): void {
    this.backend.timers.delete(domain, time, key, keyGroup, namespace);
  }

  /**
   * Fires the timers of `domain` up to `upTo`, one timestamp at a time, including ones registered
   * while firing. One time at a time because a handler may register a later timer that is also
   * due: polled in one batch with it, a copy registered again would fire twice.
   */
  fire(domain: TimeDomain, upTo: number): void {
    const { backend } = this;
    for (;;) {
      const next = backend.timers.peekEarliest(domain);
      if (next === undefined || next > upTo) return;
      const due = backend.timers.pollDue(domain, next);
      for (const t of due) {
        backend.setCurrentKey(t.key, t.keyGroup);
        this.onTimer(t, domain);
      }
    }
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
