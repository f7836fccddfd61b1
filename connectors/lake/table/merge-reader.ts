/**
 * Merge-on-read within one bucket: records of all sorted runs ordered by (key, sequence field,
 * sequence number), each key folded by the table's merge function.
 */
import type { RecordBatchRows } from '../format/data-file.ts';
import { rowComparator } from '../schema/values.ts';
import type { FileStoreTable } from './table.ts';
import { type MergeResult, createMergeFunction, isRetract } from './merge.ts';

export interface KeyValueRecords {
  rows: unknown[][];
  seqs: number[];
  kinds: number[];
}

export function concatBatches(batches: RecordBatchRows[]): KeyValueRecords {
  const rows: unknown[][] = [];
  const seqs: number[] = [];
  const kinds: number[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.rows.length; i++) {
      rows.push(b.rows[i]!);
      seqs.push(b.seqs[i] ?? 0);
      kinds.push(b.kinds[i] ?? 0);
    }
  }
  return { rows, seqs, kinds };
}

/** Indexes of the records sorted by key, then sequence field(s), then sequence number. */
export function sortedOrder(table: FileStoreTable, kv: KeyValueRecords): Int32Array {
  const keyCmp = rowComparator(table.keyIndexes, table.keyTypes);
  const seqIdx = table.sequenceIndexes;
  const seqCmp = seqIdx.length > 0 ? rowComparator(seqIdx, seqIdx.map((i) => table.schema.fields[i]!.type)) : null;
  const order = new Int32Array(kv.rows.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const { rows, seqs } = kv;
  order.sort((a, b) => {
    const c = keyCmp(rows[a]!, rows[b]!);
    if (c !== 0) return c;
    if (seqCmp) {
      const s = seqCmp(rows[a]!, rows[b]!);
      if (s !== 0) return s;
    }
    return seqs[a]! - seqs[b]!;
  });
  return order;
}

export interface MergeOptions {
  /** Drop retractions before merging (ignore-delete). */
  ignoreDelete: boolean;
  /** Keep merged retractions in the output (for compaction that is not to the last level, and write buffers). */
  keepRetractions: boolean;
}

/**
 * Merges the records per key. Output records keep the sequence number of the newest record of the key.
 */
export function mergeByKey(table: FileStoreTable, kv: KeyValueRecords, opts: MergeOptions): KeyValueRecords {
  const order = sortedOrder(table, kv);
  const keyCmp = rowComparator(table.keyIndexes, table.keyTypes);
  const fn = createMergeFunction(table.schema, table.options);
  const out: KeyValueRecords = { rows: [], seqs: [], kinds: [] };
  const n = order.length;
  let i = 0;
  while (i < n) {
    const first = order[i]!;
    let j = i;
    fn.reset();
    let maxSeq = -1;
    while (j < n && keyCmp(kv.rows[order[j]!]!, kv.rows[first]!) === 0) {
      const r = order[j]!;
      const kind = kv.kinds[r]!;
      if (!(opts.ignoreDelete && isRetract(kind))) fn.add(kv.rows[r]!, kind);
      if (kv.seqs[r]! > maxSeq) maxSeq = kv.seqs[r]!;
      j++;
    }
    const res: MergeResult | null = fn.result();
    if (res && (opts.keepRetractions || !isRetract(res.kind))) {
      out.rows.push(res.row);
      out.seqs.push(maxSeq);
      out.kinds.push(res.kind);
    }
    i = j;
  }
  return out;
}
