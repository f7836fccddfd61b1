/** The heap backend's timers: every timer in the shared in-memory index (../timer-index.ts), one per time domain. */
import type { StateKey } from '../key-groups.ts';
import { TimerIndex } from '../timer-index.ts';
import { pollAllDue, type TimeDomain, type Timer, type TimerService } from '../timers.ts';

export class HeapTimerService implements TimerService {
  private readonly event = new TimerIndex();
  private readonly processing = new TimerIndex();

  private index(domain: TimeDomain): TimerIndex {
    return domain === 'event' ? this.event : this.processing;
  }

  register(domain: TimeDomain, time: number, key: StateKey, keyGroup: number, namespace = ''): void {
    this.index(domain).add(time, key, keyGroup, namespace);
  }

  delete(domain: TimeDomain, time: number, key: StateKey, _keyGroup: number, namespace = ''): void {
    this.index(domain).remove(time, key, namespace);
  }

  pollNext(domain: TimeDomain, upTo: number): Timer | undefined {
    return this.index(domain).pollNext(upTo);
  }

  pollDue(domain: TimeDomain, upTo: number): Timer[] {
    return pollAllDue(this, domain, upTo);
  }

  peekEarliest(domain: TimeDomain): number | undefined {
    return this.index(domain).peek();
  }

  size(domain: TimeDomain): number {
    return this.index(domain).size;
  }

  /** Every live timer of a domain, for snapshots. */
  all(domain: TimeDomain): Timer[] {
    return this.index(domain).all();
  }
}
