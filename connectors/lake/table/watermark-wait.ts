/**
 * Waiting for a table's committed watermark: a downstream batch job calls `waitForWatermark(table,
 * time)` (or `weir lake wait <table> --watermark <time>`) and starts as soon as every row with an
 * event time before `time` is committed, instead of sleeping a fixed ten minutes "to be safe".
 *
 * The watermark is the one the writing job recorded in its snapshots (TableCommit): when a snapshot
 * says W, the job had seen every record with a timestamp up to W (minus its out-of-orderness bound,
 * which the watermark already includes). Polling reads only the LATEST hint and one snapshot file.
 */
import { LakeWaitTimeoutError } from '../errors.ts';
import type { Snapshot } from '../format/snapshot.ts';
import type { FileStoreTable } from './table.ts';

export interface WaitForWatermarkOptions {
  /** Give up after this long (ms); default: wait forever. */
  timeoutMs?: number;
  /** How often to look at the table (ms, default 500). */
  pollIntervalMs?: number;
  /** Called after each look with the committed watermark (null if none yet) and its snapshot. */
  onProgress?: (watermark: number | null, snapshot: Snapshot | null) => void;
  signal?: AbortSignal;
}

/** The table's committed watermark (ms), or null if no snapshot has one. */
export async function committedWatermark(table: FileStoreTable): Promise<{ watermark: number | null; snapshot: Snapshot | null }> {
  const snapshot = await table.snapshots.latest();
  const wm = snapshot?.watermark;
  return { watermark: wm === undefined || wm === null ? null : wm, snapshot };
}

/**
 * Resolves with the first snapshot seen whose watermark is at least `time` (epoch ms). Throws
 * LakeWaitTimeoutError (naming the watermark reached) when `timeoutMs` passes first.
 */
export async function waitForWatermark(table: FileStoreTable, time: number, opts: WaitForWatermarkOptions = {}): Promise<Snapshot> {
  const poll = opts.pollIntervalMs ?? 500;
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const { watermark, snapshot } = await committedWatermark(table);
    opts.onProgress?.(watermark, snapshot);
    if (snapshot && watermark !== null && watermark >= time) return snapshot;
    if (Date.now() >= deadline) {
      const reached = watermark === null ? 'no watermark committed yet' : `committed watermark is ${new Date(watermark).toISOString()} (snapshot ${snapshot!.id})`;
      throw new LakeWaitTimeoutError(
        `${table.path}: the watermark did not reach ${new Date(time).toISOString()} within ${opts.timeoutMs} ms; ${reached}. Is the writing job running and are its sources producing event time?`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(0, deadline - Date.now()))));
  }
}
