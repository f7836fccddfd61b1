/**
 * Compaction output rolled at `target-file-size`: the merged records (sorted by key) are cut into
 * files of about that size, so a bucket's last level is a sorted run of bounded files rather than one
 * file that grows with the bucket. The size of a file is estimated before writing from the bytes per
 * row of the compaction's input files; each file holds a contiguous key range (keys are unique
 * after a merge), so the files of one run never overlap. Primary-key tables only: an append table's
 * compaction concatenates level-0 files and counts files to trigger, so rolled output would be
 * compacted again every round (Java compacts only its small files; Weir writes one file there).
 */
import type { DataFileMeta } from '../format/manifest.ts';
import { encodeDataFile } from '../format/data-file.ts';
import type { FileIO } from '../fs/file-io.ts';
import type { KeyValueRecords } from './merge-reader.ts';
import type { FileStoreTable } from './table.ts';

export interface RolledOutput {
  partition: string;
  bucket: number;
  level: number;
  /** The first file's name; the others add `-1`, `-2`, ... before `.parquet`. */
  fileName: string;
  /** The compaction's input files, for the bytes-per-row estimate. */
  inputs: readonly DataFileMeta[];
}

/** Rows per output file for the table's target size, from the inputs' bytes per row. */
export function rowsPerFile(targetBytes: number, inputs: readonly DataFileMeta[]): number {
  let bytes = 0;
  let rows = 0;
  for (const f of inputs) {
    bytes += f.fileSize;
    rows += f.rowCount;
  }
  if (rows === 0 || bytes === 0) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, Math.floor(targetBytes / (bytes / rows)));
}

export async function writeRolledFiles(table: FileStoreTable, io: FileIO, records: KeyValueRecords, out: RolledOutput): Promise<DataFileMeta[]> {
  const per = table.primaryKey ? rowsPerFile(table.options.targetFileSize, out.inputs) : Number.MAX_SAFE_INTEGER;
  const metas: DataFileMeta[] = [];
  const n = records.rows.length;
  for (let start = 0, k = 0; start < n; start += per, k++) {
    const end = Math.min(n, start + per);
    const part: KeyValueRecords = start === 0 && end === n
      ? records
      : { rows: records.rows.slice(start, end), seqs: records.seqs.slice(start, end), kinds: records.kinds.slice(start, end) };
    const fileName = k === 0 ? out.fileName : out.fileName.replace(/\.parquet$/, `-${k}.parquet`);
    const { bytes, meta } = encodeDataFile(table.fileShape, part, { fileName, level: out.level, fileSource: 1, compression: table.options.fileCompression });
    await io.write(table.dataFilePath(out.partition, out.bucket, fileName), bytes);
    metas.push(meta);
  }
  return metas;
}
