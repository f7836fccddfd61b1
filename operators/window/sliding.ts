/**
 * Sliding windows: size `sizeMs`, a new one every `slideMs`, so each record is in size/slide
 * windows. The operator keeps one accumulator per pane (gcd(size, slide) ms) and combines the panes
 * of a window when it fires, so a record costs one state write however many windows it is in.
 */
import { alignedAssigner, type AlignedWindowAssigner } from './assigner.ts';

export function slidingEventTimeWindows(sizeMs: number, slideMs: number, offsetMs = 0): AlignedWindowAssigner {
  return alignedAssigner('sliding', 'event', sizeMs, slideMs, offsetMs);
}

export function slidingProcessingTimeWindows(sizeMs: number, slideMs: number, offsetMs = 0): AlignedWindowAssigner {
  return alignedAssigner('sliding', 'processing', sizeMs, slideMs, offsetMs);
}
