/**
 * Hash index files of dynamic-bucket tables (`bucket = -1`): for one partition and bucket, the
 * 32-bit hashes (BinaryRow hashCode of the trimmed primary key) of every key the bucket holds, as
 * Java Paimon's HashIndexFile writes them: 4-byte big-endian ints back to back, no header, no
 * checksum (IntFileUtils). The snapshot's index manifest lists one such file per partition and
 * bucket with index type `HASH` and `_ROW_COUNT` = number of hashes; a new file for a bucket
 * replaces the old one (Java's bucketed combiner, table/commit.ts).
 */
import { LakeFormatError } from '../errors.ts';

export const HASH_INDEX = 'HASH';

/** The bytes of a hash index file holding these hashes (signed 32-bit ints). */
export function encodeHashIndex(hashes: ArrayLike<number>, count = hashes.length): Buffer {
  const out = Buffer.allocUnsafe(count * 4);
  for (let i = 0; i < count; i++) out.writeInt32BE(hashes[i]! | 0, i * 4);
  return out;
}

/** The hashes of a hash index file. */
export function decodeHashIndex(bytes: Uint8Array, where: string): Int32Array {
  if (bytes.byteLength % 4 !== 0) throw new LakeFormatError(`hash index file ${where} has ${bytes.byteLength} bytes, not a whole number of 4-byte hashes; the file is damaged`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, false);
  return out;
}
