/**
 * Window assigners: which windows a record belongs to. Aligned assigners (tumbling, sliding) put a
 * record in windows that are the same for every key; session windows are per key and merge.
 * Tumbling is sliding with slide = size, so both run on the same pane-based operator.
 */
import { ConfigError } from '../../runtime/errors.ts';
import type { WindowTimeDomain } from './time-window.ts';

export interface AlignedWindowAssigner {
  readonly kind: 'aligned';
  readonly name: 'tumbling' | 'sliding';
  readonly time: WindowTimeDomain;
  readonly sizeMs: number;
  readonly slideMs: number;
  /** Windows start at offsetMs + k * slideMs (e.g. -8 h for days in UTC+8). */
  readonly offsetMs: number;
}

export interface SessionWindowAssigner {
  readonly kind: 'session';
  readonly name: 'session';
  readonly time: WindowTimeDomain;
  /** A session ends after this long without records of its key. */
  readonly gapMs: number;
}

export type WindowAssigner = AlignedWindowAssigner | SessionWindowAssigner;

export function checkPositiveInteger(what: string, ms: number): void {
  if (!(Number.isInteger(ms) && ms > 0)) throw new ConfigError(what, `must be a positive whole number of milliseconds, got ${ms}`);
}

export function alignedAssigner(name: 'tumbling' | 'sliding', time: WindowTimeDomain, sizeMs: number, slideMs: number, offsetMs: number): AlignedWindowAssigner {
  checkPositiveInteger(`${name} window size`, sizeMs);
  checkPositiveInteger(`${name} window slide`, slideMs);
  if (!Number.isInteger(offsetMs)) throw new ConfigError(`${name} window offset`, `must be a whole number of milliseconds, got ${offsetMs}`);
  if (slideMs > sizeMs) throw new ConfigError(`${name} window slide`, `${slideMs} ms is larger than the size ${sizeMs} ms: records between windows would be lost; use a slide <= size`);
  return { kind: 'aligned', name, time, sizeMs, slideMs, offsetMs };
}
