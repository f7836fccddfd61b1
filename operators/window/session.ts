/**
 * Session windows: per key, a record at t opens [t, t + gap); windows that touch or overlap merge
 * (as Flink's TimeWindow.intersects), so a session ends after `gapMs` without records of its key.
 */
import { checkPositiveInteger, type SessionWindowAssigner } from './assigner.ts';

export function eventTimeSessionWindows(gapMs: number): SessionWindowAssigner {
  checkPositiveInteger('session gap', gapMs);
  return { kind: 'session', name: 'session', time: 'event', gapMs };
}

export function processingTimeSessionWindows(gapMs: number): SessionWindowAssigner {
  checkPositiveInteger('session gap', gapMs);
  return { kind: 'session', name: 'session', time: 'processing', gapMs };
}
