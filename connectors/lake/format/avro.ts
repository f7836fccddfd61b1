/**
 * Avro object container files in memory (manifests and manifest lists). Records are encoded with
 * avsc from the plain schema object (so attributes such as `field-id` stay in the written schema);
 * the container (header, blocks, sync markers) is framed here so reads and writes are synchronous.
 *
 * Codecs: writes `deflate` (or `null`); reads null, deflate, zstandard (Java Paimon's default,
 * decoded with fzstd) and snappy (a small block decoder below).
 */
import avsc from 'avsc';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { decompress as zstdDecompress } from 'fzstd';
import { LakeFormatError } from '../errors.ts';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

export type AvroCodec = 'null' | 'deflate';

// ---------- varints ----------

function writeLong(out: number[], n: number): void {
  // zigzag on doubles (exact below 2^53)
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

function readLong(buf: Uint8Array, pos: { p: number }): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos.p++];
    if (b === undefined) throw new LakeFormatError('Avro file ends inside a number');
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 0x80;
  }
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

function writeBytes(out: number[], b: Uint8Array): void {
  writeLong(out, b.length);
  for (const x of b) out.push(x);
}

// ---------- writing ----------

const typeCache = new Map<string, avsc.Type>();

/** Avro `long` as a JS bigint (avsc's default is a number, which loses digits past 2^53). */
const BIGINT_LONG = avsc.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b; },
  fromJSON: (x: unknown) => BigInt(x as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

function typeFor(schema: object, bigintLongs = false): avsc.Type {
  const key = `${bigintLongs ? 'L' : 'N'}${JSON.stringify(schema)}`;
  let t = typeCache.get(key);
  if (!t) {
    t = avsc.Type.forSchema(schema as avsc.Schema, bigintLongs ? { registry: { long: BIGINT_LONG } } : undefined);
    typeCache.set(key, t);
  }
  return t;
}

export function writeAvroContainer(schema: object, records: unknown[], codec: AvroCodec = 'deflate'): Uint8Array {
  const type = typeFor(schema);
  const sync = randomBytes(16);
  const head: number[] = [];
  writeLong(head, 2);
  writeBytes(head, Buffer.from('avro.schema'));
  writeBytes(head, Buffer.from(JSON.stringify(schema)));
  writeBytes(head, Buffer.from('avro.codec'));
  writeBytes(head, Buffer.from(codec));
  writeLong(head, 0);
  const chunks: Uint8Array[] = [MAGIC, Uint8Array.from(head), sync];
  if (records.length > 0) {
    const encoded = Buffer.concat(records.map((r) => type.toBuffer(r)));
    const data = codec === 'deflate' ? deflateRawSync(encoded) : encoded;
    const blockHead: number[] = [];
    writeLong(blockHead, records.length);
    writeLong(blockHead, data.length);
    chunks.push(Uint8Array.from(blockHead), data, sync);
  }
  return Buffer.concat(chunks);
}

// ---------- reading ----------

export interface AvroContents<R> {
  schema: object;
  records: R[];
}

/** Records of a container file; `bigintLongs` decodes every Avro long as a bigint (data files). */
export function readAvroContainer<R = Record<string, unknown>>(bytes: Uint8Array, where: string, bigintLongs = false): AvroContents<R> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 3 && buf.subarray(0, 3).toString('latin1') === 'ORC') {
    throw new LakeFormatError(`${where} is an ORC file: the table was written with 'manifest.format' = 'orc' (or ORC data files), which Weir cannot read (no ORC reader for Node); use 'manifest.format' = 'avro'`);
  }
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new LakeFormatError(`${where} is not an Avro object container file`);
  const pos = { p: 4 };
  const meta = new Map<string, Buffer>();
  for (;;) {
    let n = readLong(buf, pos);
    if (n === 0) break;
    if (n < 0) { n = -n; readLong(buf, pos); }
    for (let i = 0; i < n; i++) {
      const kl = readLong(buf, pos);
      const k = buf.subarray(pos.p, pos.p + kl).toString();
      pos.p += kl;
      const vl = readLong(buf, pos);
      meta.set(k, buf.subarray(pos.p, pos.p + vl));
      pos.p += vl;
    }
  }
  pos.p += 16; // sync marker
  const schemaText = meta.get('avro.schema');
  if (!schemaText) throw new LakeFormatError(`${where} has no avro.schema in its header`);
  const schema = JSON.parse(schemaText.toString()) as object;
  const codec = meta.get('avro.codec')?.toString() ?? 'null';
  const type = typeFor(schema, bigintLongs);
  const records: R[] = [];
  while (pos.p < buf.length) {
    const count = readLong(buf, pos);
    const size = readLong(buf, pos);
    const raw = buf.subarray(pos.p, pos.p + size);
    pos.p += size + 16;
    let data: Buffer;
    switch (codec) {
      case 'null': data = raw; break;
      case 'deflate': data = inflateRawSync(raw); break;
      case 'zstandard': data = Buffer.from(zstdDecompress(raw)); break;
      case 'snappy': data = snappyBlock(raw, where); break;
      default: throw new LakeFormatError(`${where} uses Avro codec '${codec}', which Weir cannot read (null, deflate, zstandard are supported)`);
    }
    let off = 0;
    for (let i = 0; i < count; i++) {
      const r = type.decode(data, off);
      if (r.offset < 0) throw new LakeFormatError(`${where}: Avro block is truncated`);
      records.push(r.value as R);
      off = r.offset;
    }
  }
  return { schema, records };
}

/**
 * Avro's `snappy` codec: a raw Snappy block followed by the big-endian CRC32 of the uncompressed
 * data. Snappy's block format is small (literals and back-references), decoded here.
 */
function snappyBlock(raw: Buffer, where: string): Buffer {
  const src = raw.subarray(0, raw.length - 4);
  let pos = 0;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = src[pos++];
    if (b === undefined) throw new LakeFormatError(`${where}: snappy block ends in its length`);
    len += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const out = Buffer.alloc(len);
  let o = 0;
  while (pos < src.length) {
    const tag = src[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      let n = tag >> 2;
      if (n >= 60) {
        const bytes = n - 59;
        n = 0;
        for (let i = 0; i < bytes; i++) n += src[pos++]! * 2 ** (8 * i);
      }
      n += 1;
      src.copy(out, o, pos, pos + n);
      pos += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (type === 1) { n = ((tag >> 2) & 7) + 4; offset = ((tag >> 5) << 8) | src[pos++]!; }
    else if (type === 2) { n = (tag >> 2) + 1; offset = src.readUInt16LE(pos); pos += 2; }
    else { n = (tag >> 2) + 1; offset = src.readUInt32LE(pos); pos += 4; }
    if (offset === 0 || offset > o) throw new LakeFormatError(`${where}: snappy block has a bad back-reference`);
    for (let i = 0; i < n; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== len) throw new LakeFormatError(`${where}: snappy block decodes to ${o} bytes, its header says ${len}`);
  return out;
}
