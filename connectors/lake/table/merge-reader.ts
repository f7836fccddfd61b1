/**
 * Merge-on-read within one bucket: records of all sorted runs ordered by (key, sequence field,
 * sequence number), each key folded by the table's merge function.
 */
import type { RecordBatchRows } from '../format/data-file.ts';
import { comparatorFor, rowComparator } from '../schema/values.ts';
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
  const byField = seqIdx.length > 0 ? rowComparator(seqIdx, seqIdx.map((i) => table.schema.fields[i]!.type)) : null;
  // sequence.field.sort-order = descending: the smallest sequence field sorts last, so it wins
  const seqCmp = byField && table.options.sequenceDescending ? (a: unknown[], b: unknown[]) => byField(b, a) : byField;
  const n = kv.rows.length;
  const { rows, seqs } = kv;
  const idx = table.keyIndexes;
  if (idx.length === 1 && !seqCmp) {
    // one key column: pull the keys out once and compare them directly
    const k = idx[0]!;
    const keys = new Array<unknown>(n);
    for (let i = 0; i < n; i++) keys[i] = rows[i]![k];
    const cmp = comparatorFor(table.keyTypes[0]!);
    const primitive = ['TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP_LTZ', 'FLOAT', 'DOUBLE'].includes(table.keyTypes[0]!.root);
    const list = Array.from({ length: n }, (_, i) => i);
    list.sort(primitive
      ? (a, b) => { const x = keys[a] as number; const y = keys[b] as number; return x < y ? -1 : x > y ? 1 : seqs[a]! - seqs[b]!; }
      : (a, b) => { const x = keys[a]; const y = keys[b]; return x === y ? seqs[a]! - seqs[b]! : cmp(x, y) || seqs[a]! - seqs[b]!; });
    return Int32Array.from(list);
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
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
  if (table.options.mergeEngine === 'deduplicate' && table.sequenceIndexes.length === 0) {
    // the newest record of each key wins: no merge function needed
    for (let i = 0; i < n; i++) {
      const r = order[i]!;
      if (i + 1 < n && keyCmp(kv.rows[order[i + 1]!]!, kv.rows[r]!) === 0) continue;
      const kind = kv.kinds[r]!;
      if (opts.ignoreDelete && isRetract(kind)) {
        // fall back to the newest non-retraction of this key
        let j = i;
        while (j >= 0 && keyCmp(kv.rows[order[j]!]!, kv.rows[r]!) === 0 && isRetract(kv.kinds[order[j]!]!)) j--;
        if (j < 0 || keyCmp(kv.rows[order[j]!]!, kv.rows[r]!) !== 0) continue;
        out.rows.push(kv.rows[order[j]!]!);
        out.seqs.push(kv.seqs[r]!);
        out.kinds.push(kv.kinds[order[j]!]!);
        continue;
      }
      if (!opts.keepRetractions && isRetract(kind)) continue;
      out.rows.push(kv.rows[r]!);
      out.seqs.push(kv.seqs[r]!);
      out.kinds.push(kind);
    }
    return out;
  }
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
