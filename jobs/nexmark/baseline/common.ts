import { NexmarkGenerator, maxOutOfOrderMs, type NexmarkConfigInput } from '../generator/index.ts';

/** What a baseline run returns: events generated and processed, wall time in ms, and the rows. */
export interface BaselineResult<R> {
  events: number;
  ms: number;
  /** The rows, or [] when run with `collect: false`. */
  output: R[];
  /** Number of rows produced (whether or not collected). */
  rows: number;
}

export interface BaselineOptions {
  /**
   * Keep the output rows (default true). With false, rows are produced and counted but dropped,
   * like the reference benchmark's blackhole sink: retaining millions of rows makes the run
   * measure the garbage collector as much as the query.
   */
  collect?: boolean;
}

export type BaselineQuery<R> = (config: NexmarkConfigInput, events: number, options?: BaselineOptions) => BaselineResult<R>;

/** Where a baseline query puts its rows. */
export class Sink<R> {
  readonly rows: R[] = [];
  count = 0;
  constructor(private readonly collect: boolean) {}
  push(row: R): void {
    this.count++;
    if (this.collect) this.rows.push(row);
  }
}

/**
 * The generator for events [0, events) and the watermark lag: with W = (largest time seen) - lag,
 * every later event has a time > W, so a window ending at or before W + 1 is complete.
 */
export function source(config: NexmarkConfigInput, events: number): { gen: NexmarkGenerator; lag: number } {
  const gen = new NexmarkGenerator(config, { to: events });
  return { gen, lag: maxOutOfOrderMs(gen.config) + 1 };
}

/** Start of the window of `size` containing t (windows aligned to the epoch). */
export function floorTo(t: number, size: number): number {
  return t - (((t % size) + size) % size);
}

/** How far (ms of event time) the watermark moves between sweeps of keyed state. */
export const SWEEP_MS = 1000;
