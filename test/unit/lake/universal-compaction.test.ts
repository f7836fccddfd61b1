/**
 * Universal compaction's picks (Paimon's defaults: trigger 5, size ratio 1 %, size amplification
 * 200 %, 6 levels): which runs merge, into which level, and when retractions may go.
 */
import { describe, expect, it } from 'vitest';
import type { DataFileMeta } from '../../../connectors/lake/format/manifest.ts';
import { pickUniversalCompaction, sortedRuns } from '../../../connectors/lake/table/universal-compaction.ts';

let seq = 0;
function file(level: number, size: number): DataFileMeta {
  seq += 10;
  return {
    fileName: `f-${seq}`, fileSize: size, rowCount: 1, minKey: '', maxKey: '',
    keyStats: { minValues: '', maxValues: '', nullCounts: null }, valueStats: { minValues: '', maxValues: '', nullCounts: null },
    minSequenceNumber: seq, maxSequenceNumber: seq + 9, schemaId: 0, level, extraFiles: [], creationTime: null, deleteRowCount: null,
    embeddedIndex: null, fileSource: 0, valueStatsCols: null, externalPath: null, firstRowId: null,
  };
}
const opts = { trigger: 5, sizeRatioPercent: 1, maxSizeAmplificationPercent: 200, maxLevel: 5 };
const names = (fs: DataFileMeta[]): string[] => fs.map((f) => f.fileName).sort();

describe('universal compaction', () => {
  it('orders runs newest first: level-0 files by sequence number, then one run per level', () => {
    const old5 = file(5, 100);
    const a = file(0, 1);
    const mid3a = file(3, 10);
    const mid3b = file(3, 10);
    const b = file(0, 1);
    const runs = sortedRuns([old5, a, mid3a, mid3b, b]);
    expect(runs.map((r) => r.level)).toEqual([0, 0, 3, 5]);
    expect(runs[0]!.files[0]).toBe(b);
    expect(runs[2]!.size).toBe(20);
  });

  it('does nothing below the run-count trigger', () => {
    expect(pickUniversalCompaction([file(5, 1000), file(0, 1), file(0, 1), file(0, 1)], opts)).toBeNull();
  });

  it('merges everything into the last level when the newer runs outgrow the oldest (size amplification)', () => {
    const files = [file(5, 100), file(0, 60), file(0, 60), file(0, 60), file(0, 60)];
    const pick = pickUniversalCompaction(files, opts)!;
    expect(names(pick.files)).toEqual(names(files));
    expect(pick.outputLevel).toBe(5);
    expect(pick.dropRetractions).toBe(true);
  });

  it('merges the newest runs of similar size (size ratio) into the level above the first run left out, keeping retractions', () => {
    const base = file(5, 10_000);
    const small = [file(0, 10), file(0, 10), file(0, 10), file(0, 10)];
    const pick = pickUniversalCompaction([base, ...small], opts)!;
    expect(names(pick.files)).toEqual(names(small));
    expect(pick.outputLevel).toBe(4);
    expect(pick.dropRetractions).toBe(false); // the last level still holds older rows of these keys
  });

  it('with more runs than the trigger, merges at least runs - trigger + 1 of the newest', () => {
    // each level-0 run much bigger than the one after it: size ratio alone picks nothing
    const base = file(5, 1_000_000);
    const l0 = [file(0, 100_000), file(0, 10_000), file(0, 1000), file(0, 100), file(0, 10)];
    const pick = pickUniversalCompaction([base, ...l0], opts)!; // 6 runs, trigger 5: at least 2
    expect(pick.files.length).toBeGreaterThanOrEqual(2);
    expect(pick.files).toContain(l0[4]);
    expect(pick.files).toContain(l0[3]);
    expect(pick.files).not.toContain(base);
    expect(pick.outputLevel).toBe(4);
  });

  it('once a pick has two runs, every further level-0 run joins it whatever its size', () => {
    const base = file(5, 1_000_000);
    const l0 = [file(0, 100_000), file(0, 100_000), file(0, 10), file(0, 10), file(0, 10)];
    const pick = pickUniversalCompaction([base, ...l0], opts)!;
    // leaving an older level-0 run behind would put older rows above the output's newer ones
    expect(names(pick.files)).toEqual(names(l0));
    expect(pick.outputLevel).toBe(4);
  });

  it('with nothing to pick by size, the run count takes the newest runs, writing at the level just above the next run', () => {
    const runs = [file(5, 100_000_000), file(4, 8_000_000), file(3, 4_000_000), file(2, 2_000_000), file(1, 1_000_000), file(0, 10)];
    const pick = pickUniversalCompaction(runs, opts)!; // 6 runs, trigger 5: the newest 2
    expect(names(pick.files)).toEqual(names([runs[4]!, runs[5]!]));
    expect(pick.outputLevel).toBe(1);
  });

  it('stops at a much bigger run of an upper level and writes just above it', () => {
    const l5 = file(5, 1_000_000);
    const l3 = file(3, 100_000);
    const l0 = [file(0, 10), file(0, 10), file(0, 10), file(0, 10)];
    const pick = pickUniversalCompaction([l5, l3, ...l0], opts)!;
    expect(names(pick.files)).toEqual(names(l0));
    expect(pick.outputLevel).toBe(2);
    expect(pick.dropRetractions).toBe(false);
  });
});
