/** Tumbling windows: fixed-size, non-overlapping, aligned to the epoch (plus an offset). */
import { alignedAssigner, type AlignedWindowAssigner } from './assigner.ts';

/** Windows [k * size + offset, (k + 1) * size + offset) of event time. */
export function tumblingEventTimeWindows(sizeMs: number, offsetMs = 0): AlignedWindowAssigner {
  return alignedAssigner('tumbling', 'event', sizeMs, sizeMs, offsetMs);
}

/** The same over the wall clock at the time a record arrives. */
export function tumblingProcessingTimeWindows(sizeMs: number, offsetMs = 0): AlignedWindowAssigner {
  return alignedAssigner('tumbling', 'processing', sizeMs, sizeMs, offsetMs);
}
