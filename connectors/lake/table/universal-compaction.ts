/**
 * Which sorted runs of a primary-key bucket to merge, and into which level: Paimon's universal
 * compaction (RocksDB's universal style), the default of its primary-key tables. It trades some read
 * amplification for much less write amplification than merging the whole bucket every time:
 *
 * - runs, newest first: each level-0 file is a run (newest sequence numbers first), then each
 *   non-empty level 1..max is one run;
 * - size amplification: when the runs above the oldest add up to more than
 *   `compaction.max-size-amplification-percent` (200) of the oldest, everything is merged (full);
 * - size ratio: from the newest run on, the next older run joins while it is no bigger than the
 *   picked ones together by more than `compaction.size-ratio` percent (1);
 * - run count: with more than `num-sorted-run.compaction-trigger` runs, at least the newest
 *   runs - trigger + 1 are merged, joined by older ones by size ratio.
 *
 * The output goes to the level just above the first run left out (never level 0), or to the last
 * level when every run is merged. Retractions are dropped only when nothing older lies below the
 * output (the output level is at or above the highest non-empty level). Pure.
 */
import type { DataFileMeta } from '../format/manifest.ts';

export interface UniversalCompactionOptions {
  /** num-sorted-run.compaction-trigger */
  trigger: number;
  /** compaction.max-size-amplification-percent */
  maxSizeAmplificationPercent: number;
  /** compaction.size-ratio (percent) */
  sizeRatioPercent: number;
  /** num-levels - 1 */
  maxLevel: number;
}

export interface CompactionPick {
  files: DataFileMeta[];
  outputLevel: number;
  dropRetractions: boolean;
}

interface SortedRun {
  level: number;
  files: DataFileMeta[];
  size: number;
}

/** The bucket's sorted runs, newest first. */
export function sortedRuns(files: readonly DataFileMeta[]): SortedRun[] {
  const level0 = files.filter((f) => f.level === 0).sort((a, b) => b.maxSequenceNumber - a.maxSequenceNumber);
  const runs: SortedRun[] = level0.map((f) => ({ level: 0, files: [f], size: f.fileSize }));
  const byLevel = new Map<number, DataFileMeta[]>();
  for (const f of files) {
    if (f.level === 0) continue;
    const at = byLevel.get(f.level);
    if (at) at.push(f);
    else byLevel.set(f.level, [f]);
  }
  for (const level of [...byLevel.keys()].sort((a, b) => a - b)) {
    const fs = byLevel.get(level)!;
    runs.push({ level, files: fs, size: fs.reduce((s, f) => s + f.fileSize, 0) });
  }
  return runs;
}

export function pickUniversalCompaction(files: readonly DataFileMeta[], opts: UniversalCompactionOptions): CompactionPick | null {
  const runs = sortedRuns(files);
  if (runs.length < opts.trigger) return null;
  // 1. size amplification
  const oldest = runs[runs.length - 1]!.size;
  const above = runs.reduce((s, r) => s + r.size, 0) - oldest;
  if (above * 100 > opts.maxSizeAmplificationPercent * oldest) return unit(runs, runs.length, opts.maxLevel);
  // 2. size ratio, from the newest run
  const byRatio = pickBySizeRatio(runs, 1, opts);
  if (byRatio !== null) return byRatio;
  // 3. run count
  if (runs.length > opts.trigger) return pickBySizeRatio(runs, runs.length - opts.trigger + 1, opts);
  return null;
}

function pickBySizeRatio(runs: SortedRun[], candidates: number, opts: UniversalCompactionOptions): CompactionPick | null {
  let count = candidates;
  let size = 0;
  for (let i = 0; i < count; i++) size += runs[i]!.size;
  let triggered = count > 1;
  for (let i = count; i < runs.length; i++) {
    const next = runs[i]!;
    // a much bigger older run stops the pick, unless it is a level-0 or level-1 run and the pick
    // already has several runs (merging into the level above it would leave it behind anyway)
    if ((size * (100 + opts.sizeRatioPercent)) / 100 < next.size && (!triggered || next.level > 1)) break;
    size += next.size;
    count++;
    triggered = true;
  }
  return triggered ? unit(runs, count, opts.maxLevel) : null;
}

function unit(runs: SortedRun[], count: number, maxLevel: number): CompactionPick {
  let n = count;
  let outputLevel = n === runs.length ? maxLevel : Math.max(0, runs[n]!.level - 1);
  if (outputLevel === 0) {
    // never write level 0: take runs up to and including the first one above level 0
    while (n < runs.length) {
      const next = runs[n++]!;
      if (next.level !== 0) {
        outputLevel = next.level;
        break;
      }
    }
  }
  if (n === runs.length) outputLevel = maxLevel;
  const picked = runs.slice(0, n);
  const highest = runs.reduce((m, r) => Math.max(m, r.level), 0);
  return { files: picked.flatMap((r) => r.files), outputLevel, dropRetractions: outputLevel >= highest };
}
