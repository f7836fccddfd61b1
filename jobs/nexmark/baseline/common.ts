import { NexmarkGenerator, maxOutOfOrderMs, type NexmarkConfigInput } from '../generator/index.ts';

/** What a baseline run returns: events generated and processed, wall time in ms, and the rows. */
export interface BaselineResult<R> {
  events: number;
  ms: number;
  output: R[];
}

export type BaselineQuery<R> = (config: NexmarkConfigInput, events: number) => BaselineResult<R>;

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
