/**
 * The generated user events of the agg-table job: event i is a deterministic function of (seed, i)
 * (datagen), with event time `start + i * stepMs`, so a test can compute the expected tables by brute
 * force over the same input.
 */
import type { SeededRandom } from 'weir';

export interface UserEvent {
  userId: number;
  /** 'view' or 'purchase'. */
  type: 'view' | 'purchase';
  /** Purchase amount in cents (0 for views). */
  amountCents: number;
  /** Event time, ms since the epoch. */
  ts: number;
}

export interface EventParams {
  /** Events in all. */
  count: number;
  /** Event time of event 0 (ms). */
  start: number;
  /** Event-time step between consecutive events (ms). */
  stepMs: number;
  /** Users drawn from 1..users. */
  users: number;
  seed: number;
}

export function generateEvent(p: EventParams, i: number, random: SeededRandom): UserEvent {
  const userId = 1 + random.int(p.users);
  const purchase = random.int(4) === 0;
  return { userId, type: purchase ? 'purchase' : 'view', amountCents: purchase ? 100 + random.int(9900) : 0, ts: p.start + i * p.stepMs };
}

/** The UTC day of an event time, 'YYYY-MM-DD' (the tables' partition of time). */
export function dayOf(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}
