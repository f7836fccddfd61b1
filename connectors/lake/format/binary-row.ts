/**
 * Paimon's BinaryRow, byte for byte: used for partitions, keys and min/max stats in manifests, and
 * hashed for bucket ids.
 *
 * Layout (little-endian): a null-bit set of ((arity + 63 + 8) / 64) * 8 bytes whose first byte is the
 * row kind (bit i + 8 marks field i null); one 8-byte slot per field; then a variable-length part
 * in 8-byte words. Strings and binaries of up to 7 bytes live in the slot (top byte 0x80 | length);
 * longer ones in the variable part, the slot holding (offset << 32) | length. Decimals of precision
 * <= 18 are their unscaled long; larger ones take 16 bytes in the variable part (big-endian two's
 * complement), reserved even when null. Timestamps of precision <= 3 are epoch millis; larger ones
 * put millis in 8 variable bytes and nano-of-milli in the slot's low word, also reserved when null.
 * Serialized in manifests with a 4-byte big-endian arity prefix.
 */
import { LakeFormatError } from '../errors.ts';
import type { DataType } from '../schema/types.ts';
import { decimalIsCompact, timestampIsCompact } from '../schema/types.ts';
import {
  bigintToBytes, bytesToBigint, decimalToUnscaled, floorDiv, toEpochNanos, unscaledToDecimal,
} from '../schema/values.ts';
import { finalize, mixBlock, scramble } from '../../../runtime/hash/murmur3.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function nullBitsSize(arity: number): number {
  return Math.floor((arity + 63 + 8) / 64) * 8;
}

/** Reusable writer: encode a row into an internal buffer, then hash or copy it out. */
export class BinaryRowWriter {
  private buf: Uint8Array;
  private view: DataView;
  private cursor = 0;
  private readonly fixed: number;
  private readonly nullBytes: number;
  readonly arity: number;

  constructor(readonly types: DataType[]) {
    this.arity = types.length;
    this.nullBytes = nullBitsSize(this.arity);
    this.fixed = this.nullBytes + 8 * this.arity;
    this.buf = new Uint8Array(Math.max(64, this.fixed * 2));
    this.view = new DataView(this.buf.buffer);
  }

  /** Encodes the values (one per type) and returns the row's size in bytes. */
  encode(values: ArrayLike<unknown>, rowKind = 0): number {
    this.buf.fill(0, 0, this.fixed);
    this.cursor = this.fixed;
    this.buf[0] = rowKind;
    for (let i = 0; i < this.arity; i++) this.writeField(i, this.types[i]!, values[i]);
    return this.cursor;
  }

  /** The last encoded row (a view; copy it before the next encode if you keep it). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.cursor);
  }

  copy(): Uint8Array {
    return this.buf.slice(0, this.cursor);
  }

  /** Murmur3_32 of the last encoded row, as BinaryRow.hashCode(). */
  hash(): number {
    return murmurHashWords(this.view, 0, this.cursor, 42);
  }

  private ensure(extra: number): void {
    if (this.cursor + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.cursor + extra));
    next.set(this.buf.subarray(0, this.cursor));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private setNull(i: number): void {
    const bit = i + 8;
    this.buf[bit >> 3]! |= 1 << (bit & 7);
  }

  private slot(i: number): number {
    return this.nullBytes + 8 * i;
  }

  private writeVar(i: number, bytes: Uint8Array): void {
    const off = this.slot(i);
    const len = bytes.length;
    if (len <= 7) {
      this.buf.set(bytes, off);
      this.buf[off + 7] = 0x80 | len;
      return;
    }
    const rounded = (len + 7) & ~7;
    this.ensure(rounded);
    this.buf.fill(0, this.cursor, this.cursor + rounded);
    this.buf.set(bytes, this.cursor);
    this.view.setUint32(off, len, true);
    this.view.setUint32(off + 4, this.cursor, true);
    this.cursor += rounded;
  }

  private writeField(i: number, t: DataType, v: unknown): void {
    const off = this.slot(i);
    if (v === null || v === undefined) {
      this.setNull(i);
      if (t.root === 'DECIMAL' && !decimalIsCompact(t.length ?? 10)) {
        this.ensure(16);
        this.buf.fill(0, this.cursor, this.cursor + 16);
        this.view.setUint32(off + 4, this.cursor, true);
        this.cursor += 16;
      } else if ((t.root === 'TIMESTAMP' || t.root === 'TIMESTAMP_LTZ') && !timestampIsCompact(t.length ?? 6)) {
        this.ensure(8);
        this.buf.fill(0, this.cursor, this.cursor + 8);
        this.view.setUint32(off + 4, this.cursor, true);
        this.cursor += 8;
      }
      return;
    }
    const dv = this.view;
    switch (t.root) {
      case 'BOOLEAN': this.buf[off] = v ? 1 : 0; return;
      case 'TINYINT': dv.setInt8(off, v as number); return;
      case 'SMALLINT': dv.setInt16(off, v as number, true); return;
      case 'INT': case 'DATE': case 'TIME': dv.setInt32(off, v as number, true); return;
      case 'BIGINT': dv.setBigInt64(off, BigInt(v as bigint), true); return;
      case 'FLOAT': dv.setFloat32(off, v as number, true); return;
      case 'DOUBLE': dv.setFloat64(off, v as number, true); return;
      case 'CHAR': case 'VARCHAR': this.writeVar(i, encoder.encode(v as string)); return;
      case 'BINARY': case 'VARBINARY': this.writeVar(i, v as Uint8Array); return;
      case 'DECIMAL': {
        const unscaled = decimalToUnscaled(v, t.scale ?? 0);
        if (decimalIsCompact(t.length ?? 10)) { dv.setBigInt64(off, unscaled, true); return; }
        const bytes = bigintToBytes(unscaled);
        this.ensure(16);
        this.buf.fill(0, this.cursor, this.cursor + 16);
        this.buf.set(bytes, this.cursor);
        this.view.setUint32(off, bytes.length, true);
        this.view.setUint32(off + 4, this.cursor, true);
        this.cursor += 16;
        return;
      }
      case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
        const nanos = toEpochNanos(v);
        const millis = floorDiv(nanos, 1_000_000n);
        if (timestampIsCompact(t.length ?? 6)) { dv.setBigInt64(off, millis, true); return; }
        this.ensure(8);
        this.view.setBigInt64(this.cursor, millis, true);
        this.view.setUint32(off, Number(nanos - millis * 1_000_000n), true);
        this.view.setUint32(off + 4, this.cursor, true);
        this.cursor += 8;
        return;
      }
      default:
        throw new LakeFormatError(`type ${t.root} cannot be encoded in a BinaryRow here (partition, key and stats columns must be atomic types)`);
    }
  }
}

/** Encodes one row and returns a copy of its bytes. */
export function encodeBinaryRow(types: DataType[], values: ArrayLike<unknown>): Uint8Array {
  const w = new BinaryRowWriter(types);
  w.encode(values);
  return w.copy();
}

/** BinaryRow bytes with the 4-byte big-endian arity prefix used in manifests. */
export function serializeBinaryRow(arity: number, row: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + row.length);
  new DataView(out.buffer).setInt32(0, arity, false);
  out.set(row, 4);
  return out;
}

export function encodeSerializedRow(types: DataType[], values: ArrayLike<unknown>): Uint8Array {
  return serializeBinaryRow(types.length, encodeBinaryRow(types, values));
}

export const EMPTY_ROW_SERIALIZED = serializeBinaryRow(0, new Uint8Array(8));

/** Arity from a serialized row's prefix. */
export function serializedArity(bytes: Uint8Array): number {
  if (bytes.length < 4) return 0;
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0, false);
}

/**
 * Decodes a serialized BinaryRow (arity prefix included). Fields past the stored arity are null
 * (the row was written under an older schema); `types` may be shorter than the arity.
 */
export function decodeSerializedRow(types: DataType[], bytes: Uint8Array): unknown[] {
  const arity = serializedArity(bytes);
  return decodeBinaryRow(types, bytes.subarray(4), arity);
}

export function decodeBinaryRow(types: DataType[], row: Uint8Array, arity = types.length): unknown[] {
  const dv = new DataView(row.buffer, row.byteOffset, row.byteLength);
  const nullBytes = nullBitsSize(arity);
  const out = new Array<unknown>(types.length);
  for (let i = 0; i < types.length; i++) {
    if (i >= arity) { out[i] = null; continue; }
    const bit = i + 8;
    if ((row[bit >> 3]! & (1 << (bit & 7))) !== 0) { out[i] = null; continue; }
    out[i] = readField(types[i]!, row, dv, nullBytes + 8 * i);
  }
  return out;
}

function readVar(row: Uint8Array, dv: DataView, off: number): Uint8Array {
  const mark = row[off + 7]!;
  if ((mark & 0x80) !== 0) return row.subarray(off, off + (mark & 0x7f));
  const len = dv.getUint32(off, true);
  const start = dv.getUint32(off + 4, true);
  return row.subarray(start, start + len);
}

function readField(t: DataType, row: Uint8Array, dv: DataView, off: number): unknown {
  switch (t.root) {
    case 'BOOLEAN': return row[off] !== 0;
    case 'TINYINT': return dv.getInt8(off);
    case 'SMALLINT': return dv.getInt16(off, true);
    case 'INT': case 'DATE': case 'TIME': return dv.getInt32(off, true);
    case 'BIGINT': return dv.getBigInt64(off, true);
    case 'FLOAT': return dv.getFloat32(off, true);
    case 'DOUBLE': return dv.getFloat64(off, true);
    case 'CHAR': case 'VARCHAR': return decoder.decode(readVar(row, dv, off));
    case 'BINARY': case 'VARBINARY': return readVar(row, dv, off).slice();
    case 'DECIMAL': {
      const scale = t.scale ?? 0;
      if (decimalIsCompact(t.length ?? 10)) return unscaledToDecimal(dv.getBigInt64(off, true), scale);
      const len = dv.getUint32(off, true);
      const start = dv.getUint32(off + 4, true);
      return unscaledToDecimal(bytesToBigint(row.subarray(start, start + len)), scale);
    }
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
      if (timestampIsCompact(t.length ?? 6)) return dv.getBigInt64(off, true) * 1_000_000n;
      const nano = dv.getUint32(off, true);
      const start = dv.getUint32(off + 4, true);
      return dv.getBigInt64(start, true) * 1_000_000n + BigInt(nano);
    }
    default:
      return null; // nested values are not kept in BinaryRows this connector reads (stats of nested columns are null)
  }
}

// ---------- hashing ----------

/** Murmur3_32 over little-endian 4-byte words (length must be a multiple of 4), as Paimon's hashBytesByWords. */
export function murmurHashWords(dv: DataView, offset: number, length: number, seed = 42): number {
  let h = seed;
  for (let i = 0; i < length; i += 4) h = mixBlock(h, scramble(dv.getInt32(offset + i, true)));
  return finalize(h, length);
}

export function hashBinaryRow(row: Uint8Array): number {
  return murmurHashWords(new DataView(row.buffer, row.byteOffset, row.byteLength), 0, row.length, 42);
}

/** Java's `Math.abs(hash % numBuckets)` (signed remainder). */
export function bucketOf(hash: number, numBuckets: number): number {
  return Math.abs(hash % numBuckets);
}
