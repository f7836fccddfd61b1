/**
 * The snapshot-to-binlog hand-off (Flink CDC 2.x's idea, with exact positions instead of watermark
 * backfill). Every snapshot chunk is read in its own `START TRANSACTION WITH CONSISTENT SNAPSHOT`,
 * and MariaDB says which binlog position that snapshot matches (`binlog_snapshot_file/position`):
 * the chunk holds exactly the effects of the transactions before that position. The binlog split
 * starts at the smallest chunk position, and a row image is emitted only if its event comes after
 * the position of the chunk that covers its key; earlier events are already in that chunk's rows.
 * So each change is in the output exactly once: in a chunk, or as a binlog event, never both.
 *
 * The two images of an update are decided separately (a key change can move a row between chunks
 * read at different positions). Once the reader is past the largest chunk position, every event is
 * emitted and the filter is a no-op.
 */
import { compareKeys } from './chunks.ts';
import { comparePositions } from './position.ts';
import type { BinlogPosition, ChunkBound, FinishedChunk } from './types.ts';

export class HandoffFilter {
  private readonly byTable = new Map<string, FinishedChunk[]>();
  private readonly max: BinlogPosition | null;
  private done = false;

  constructor(chunks: readonly FinishedChunk[]) {
    let max: BinlogPosition | null = null;
    for (const c of chunks) {
      let list = this.byTable.get(c.table);
      if (!list) this.byTable.set(c.table, (list = []));
      list.push(c);
      if (!max || comparePositions(c.at, max) > 0) max = c.at;
    }
    for (const list of this.byTable.values()) list.sort((a, b) => (a.lo === null ? -1 : b.lo === null ? 1 : compareKeys(a.lo, b.lo)));
    this.max = max;
  }

  /** True once `pos` is past every chunk's position: from here on every event is emitted. */
  passed(pos: BinlogPosition): boolean {
    if (this.done) return true;
    if (this.max === null || comparePositions(pos, this.max) > 0) this.done = true;
    return this.done;
  }

  /**
   * Should the image with chunk key `key` of table `table`, in an event that ends at `eventEnd`, be
   * emitted? Tables without snapshot chunks are always emitted.
   */
  emits(table: string, key: ChunkBound | null, eventEnd: BinlogPosition): boolean {
    if (this.passed(eventEnd)) return true;
    const chunks = this.byTable.get(table);
    if (!chunks) return true;
    const chunk = key === null ? chunks[0] : this.find(chunks, key);
    if (!chunk) return true;
    return comparePositions(eventEnd, chunk.at) > 0;
  }

  /** The chunk whose [lo, hi) holds `key` (binary search over chunks sorted by lo). */
  private find(chunks: readonly FinishedChunk[], key: ChunkBound): FinishedChunk | undefined {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = chunks[mid]!;
      if (c.lo !== null && compareKeys(key, c.lo) < 0) hi = mid - 1;
      else if (c.hi !== null && compareKeys(key, c.hi) >= 0) lo = mid + 1;
      else return c;
    }
    return undefined;
  }
}
