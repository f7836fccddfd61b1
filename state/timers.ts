/**
 * Timers per key (and namespace, e.g. a window), in event time and processing time. A timer is
 * identified by (time, key, namespace): registering the same one twice keeps one. They fire in time
 * order when the watermark (or the clock) passes them, each with the backend's current key set to
 * the timer's key.
 */
import type { StateKey } from './key-groups.ts';

export type TimeDomain = 'event' | 'processing';

export interface Timer {
  time: number;
  key: StateKey;
  keyGroup: number;
  /** Operator-defined scope such as a window's "start:end"; '' when unused. */
  namespace: string;
}

export interface TimerService {
  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace?: string): void;
  delete(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace?: string): void;
  /**
   * Removes and returns the earliest timer of `domain` if its time is <= `upTo`. Operators fire
   * timers one at a time through operators/timer-driver.ts, so a timer registered or deleted by a
   * handler is seen by the next poll (as in Flink's InternalTimerService).
   */
  pollNext(domain: TimeDomain, upTo: number): Timer | undefined;
  /** Removes and returns, in time order, the timers of `domain` with time <= `upTo` (tests and tools; operators use pollNext). */
  pollDue(domain: TimeDomain, upTo: number): Timer[];
  /** The earliest timer of `domain`, if any (to schedule the next processing-time wake-up). */
  peekEarliest(domain: TimeDomain): number | undefined;
  /** Number of registered timers of `domain`. */
  size(domain: TimeDomain): number;
}

/** `pollDue` in terms of `pollNext`: the due timers, one poll at a time. */
export function pollAllDue(timers: TimerService, domain: TimeDomain, upTo: number): Timer[] {
  const due: Timer[] = [];
  for (let t = timers.pollNext(domain, upTo); t !== undefined; t = timers.pollNext(domain, upTo)) due.push(t);
  return due;
}
