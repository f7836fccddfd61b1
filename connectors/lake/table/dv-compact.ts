/**
 * Compaction of deletion-vector tables (`deletion-vectors.enabled`), as Java Paimon's lookup
 * compaction does it: instead of rewriting the big files of the last level, the keys of the new
 * (level-0) records are looked up there, the old rows are marked deleted in a deletion vector of
 * their file, and the merged new rows go into a file one level up.
 *
 * A bucket keeps this shape: the last level (num-levels - 1) holds the big sorted run with deletion
 * vectors; level num-levels - 2 one smaller run that every round rewrites together with the level-0
 * files; level 0 the writers' files. Each key is live in at most one place above level 0, so a batch
 * read concatenates those files without merging (read.ts). A full compaction (`compactTable(t,
 * { full: true })`) merges everything into the last level and drops the vectors.
 *
 * Merge engines: the old row joins the new records of its key as the oldest record (ordered by
 * `sequence.field` first if set), so deduplicate, partial-update and aggregation fold it in as on
 * read; first-row keeps the old row and drops the new records (no vector).
 *
 * The bucket's deletion vectors are rewritten into one new index file per round, replacing the
 * bucket's old index files in the snapshot's index manifest (commit.ts).
 */
import type { DataFileMeta } from '../format/manifest.ts';
import { writeRolledFiles } from './rolling-files.ts';
import {
  type DeletionFile, type IndexManifestEntry, DELETION_VECTORS_INDEX, deletedPositions, encodeDeletionVector, encodeIndexFile,
} from '../format/deletion-vectors.ts';
import { joinPath } from '../fs/file-io.ts';
import { rowComparator } from '../schema/values.ts';
import type { FileStoreTable } from './table.ts';
import type { CommitMessage } from './writer.ts';
import { concatBatches, sortedOrder } from './merge-reader.ts';
import { INSERT, createMergeFunction, isRetract } from './merge.ts';

/** What a compaction of a deletion-vector bucket needs besides its input files (plain data). */
export interface DvCompactInfo {
  /** files of the last level: looked up, marked with deletion vectors, not rewritten */
  lookupFiles: DataFileMeta[];
  /** the current vectors of the bucket's files, by data file name */
  deletionFiles: Record<string, DeletionFile>;
  /** the bucket's live index files, replaced by this compaction's */
  indexEntries: IndexManifestEntry[];
  /** name of the index file to write */
  indexFileName: string;
}

/** Text identifying a key (values of the key columns), for the lookup map. */
function keyText(row: unknown[], idx: number[]): string {
  let s = '';
  for (const i of idx) {
    const v = row[i];
    s += v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
    s += '\u0001';
  }
  return s;
}

interface Located { file: number; pos: number; row: unknown[]; seq: number }

/**
 * Runs the lookup compaction of one bucket: `inputs` (level 0 and the level below the last) are
 * merged with what the last level holds for their keys; returns the commit message.
 */
export async function runDvCompaction(
  table: FileStoreTable, task: { partition: string; bucket: number; totalBuckets: number; outputLevel: number; outputFileName: string },
  inputs: DataFileMeta[], info: DvCompactInfo,
): Promise<CommitMessage> {
  const entry = (file: DataFileMeta) => ({ kind: 0, partition: task.partition, bucket: task.bucket, totalBuckets: task.totalBuckets, file });
  const vector = async (name: string) => (info.deletionFiles[name] ? table.deletionVector(info.deletionFiles[name]!) : null);
  // the new records: every input file, its deleted rows dropped
  const sorted = [...inputs].sort((a, b) => a.minSequenceNumber - b.minSequenceNumber);
  const kv = concatBatches(await Promise.all(sorted.map(async (f) => table.readDataFile(entry(f), await vector(f.fileName)))));
  // the last level: where each live key is
  const keyIdx = table.keyIndexes;
  const located = new Map<string, Located>();
  const deleted: Array<Set<number>> = [];
  for (let fi = 0; fi < info.lookupFiles.length; fi++) {
    const f = info.lookupFiles[fi]!;
    const dv = await vector(f.fileName);
    deleted.push(new Set(dv ? deletedPositions(dv) : []));
    const b = await table.readDataFile(entry(f));
    for (let pos = 0; pos < b.rows.length; pos++) {
      if (dv?.isDeleted(pos) || isRetract(b.kinds[pos]!)) continue;
      located.set(keyText(b.rows[pos]!, keyIdx), { file: fi, pos, row: b.rows[pos]!, seq: b.seqs[pos]! });
    }
  }
  const order = sortedOrder(table, kv);
  const keyCmp = rowComparator(keyIdx, table.keyTypes);
  const seqIdx = table.sequenceIndexes;
  const seqCmp = seqIdx.length > 0 ? rowComparator(seqIdx, seqIdx.map((i) => table.schema.fields[i]!.type)) : null;
  const fn = createMergeFunction(table.schema, table.options);
  const firstRow = table.options.mergeEngine === 'first-row';
  const ignoreDelete = table.options.ignoreDelete;
  const out = { rows: [] as unknown[][], seqs: [] as number[], kinds: [] as number[] };
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && keyCmp(kv.rows[order[j]!]!, kv.rows[order[i]!]!) === 0) j++;
    const key = keyText(kv.rows[order[i]!]!, keyIdx);
    const old = located.get(key);
    if (old && firstRow) { i = j; continue; } // the first row stays where it is
    const group: Array<{ row: unknown[]; kind: number; seq: number }> = [];
    if (old) group.push({ row: old.row, kind: INSERT, seq: old.seq });
    for (let k = i; k < j; k++) group.push({ row: kv.rows[order[k]!]!, kind: kv.kinds[order[k]!]!, seq: kv.seqs[order[k]!]! });
    if (old && seqCmp) {
      // sequence.field orders the old row among the new ones (a stable sort keeps write order on ties)
      const desc = table.options.sequenceDescending ? -1 : 1;
      group.sort((a, b) => desc * seqCmp(a.row, b.row) || a.seq - b.seq);
    }
    fn.reset();
    let maxSeq = -1;
    for (const r of group) {
      if (!(ignoreDelete && isRetract(r.kind))) fn.add(r.row, r.kind);
      if (r.seq > maxSeq) maxSeq = r.seq;
    }
    const res = fn.result();
    if (old) deleted[old.file]!.add(old.pos);
    if (res && !isRetract(res.kind)) {
      out.rows.push(res.row);
      out.seqs.push(maxSeq);
      out.kinds.push(res.kind);
    }
    i = j;
  }
  const message: CommitMessage = {
    partition: task.partition, bucket: task.bucket, totalBuckets: task.totalBuckets, newFiles: [], compactBefore: inputs, compactAfter: [],
    deletedIndexFiles: info.indexEntries,
    newIndexFiles: [],
  };
  if (out.rows.length > 0) {
    const rolled = { partition: task.partition, bucket: task.bucket, level: task.outputLevel, fileName: task.outputFileName, inputs };
    message.compactAfter.push(...(await writeRolledFiles(table, table.io, out, rolled)));
  }
  const vectors = new Map<string, { body: Buffer; cardinality: number }>();
  info.lookupFiles.forEach((f, fi) => {
    const set = deleted[fi]!;
    if (set.size > 0) vectors.set(f.fileName, { body: encodeDeletionVector(set), cardinality: set.size });
  });
  if (vectors.size > 0) {
    const { bytes, ranges } = encodeIndexFile(vectors);
    await table.io.write(joinPath(table.path, 'index', info.indexFileName), bytes);
    message.newIndexFiles!.push({
      kind: 0, partition: task.partition, bucket: task.bucket, indexType: DELETION_VECTORS_INDEX,
      fileName: info.indexFileName, fileSize: bytes.length, rowCount: ranges.length, ranges,
    });
  }
  return message;
}
