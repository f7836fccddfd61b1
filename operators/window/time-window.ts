/**
 * Time windows and the vocabulary shared by the window operators. A window is the half-open
 * interval [start, end) of event time (or processing time); its results carry the timestamp
 * `end - 1` (Flink's maxTimestamp), the last instant that belongs to it.
 */
import type { Collector } from '../functions.ts';

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

export type WindowTimeDomain = 'event' | 'processing';

/** Why a window emitted: before its end (early trigger), at its end, or again for late records. */
export type FiringKind = 'early' | 'on-time' | 'late';

export interface WindowContext<K> {
  readonly key: K;
  readonly window: TimeWindow;
  readonly firing: FiringKind;
  currentWatermark(): number;
  currentProcessingTime(): number;
}

/** Turns a window's aggregated result into output records (Flink's WindowFunction for incremental aggregation). */
export type WindowResultFunction<K, IN, OUT> = (result: IN, ctx: WindowContext<K>, out: Collector<OUT>) => void;

/** Sees every element of the window at once (Flink's ProcessWindowFunction); element order is arrival order. */
export type ProcessWindowFunction<K, IN, OUT> = (elements: readonly IN[], ctx: WindowContext<K>, out: Collector<OUT>) => void;

/** A trigger that also fires every `everyMs` ms (of event or processing time) before the window ends. */
export interface EarlyFiring {
  everyMs: number;
  time: WindowTimeDomain;
}

/** Flink's ContinuousEventTimeTrigger: results every `everyMs` ms of event time until the window ends. */
export function continuousEventTimeTrigger(everyMs: number): EarlyFiring {
  return { everyMs, time: 'event' };
}

/** Flink's ContinuousProcessingTimeTrigger: results every `everyMs` ms of wall-clock time until the window ends. */
export function continuousProcessingTimeTrigger(everyMs: number): EarlyFiring {
  return { everyMs, time: 'processing' };
}

/** x mod m in [0, m), also for negative x. */
export function floorMod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Emits window results with the window's timestamp; one instance per operator, re-pointed at each
 * firing so no object is made per result (the TimeWindow only when the function reads it).
 */
export class WindowCollector<K, OUT> implements Collector<OUT>, WindowContext<K> {
  key!: K;
  firing: FiringKind = 'on-time';
  private start = 0;
  private end = 0;
  /** Made when a function asks for it (it may keep it), so firings that do not cost no object. */
  private current: TimeWindow | undefined;
  constructor(
    private readonly emitTo: (value: OUT, time: number) => void,
    private readonly watermark: () => number,
    private readonly now: () => number,
  ) {}
  get window(): TimeWindow {
    return (this.current ??= { start: this.start, end: this.end });
  }
  set(key: K, start: number, end: number, firing: FiringKind): this {
    this.key = key;
    this.start = start;
    this.end = end;
    this.current = undefined;
    this.firing = firing;
    return this;
  }
  collect(value: OUT): void {
    this.emitTo(value, this.end - 1);
  }
  currentWatermark(): number {
    return this.watermark();
  }
  currentProcessingTime(): number {
    return this.now();
  }
}
