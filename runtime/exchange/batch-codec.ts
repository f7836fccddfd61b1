/**
 * Encodes a batch of records into one ArrayBuffer for the move to another worker thread, and back.
 *
 * Why columnar: structured clone of objects costs about 2 us a record on this machine (FACTS.md);
 * typed columns move as bytes and decode in a tight loop. Records of one stream usually share a
 * shape, so the first record's fields and their types pick a layout, and an encoder and decoder
 * generated for that shape (cached) fill and read the columns: numbers as float64, booleans as
 * bytes, strings as one UTF-8 run with their lengths (as numbers into the channel's dictionary
 * when a column's values recur across batches, channel-strings.ts; with a dictionary of the batch's
 * own when they repeat in it and the batch has no channel), anything else (nested
 * objects, null, bigint) per field with msgpack. A batch whose records do not all fit the first
 * record's shape, or records that are not plain objects, go whole through msgpack: slower, never wrong.
 *
 * What goes through msgpack is checked first (runtime/plain-data.ts): Map, Set, Date, bigint and
 * typed arrays are carried as they are (msgpackr records keep plain objects and Maps apart);
 * anything that would arrive changed (a class instance, a function) is a BadRecordError naming
 * the field. The columnar fields need no check: their shape test already requires primitives.
 */
import { isAscii } from 'node:buffer';
import { Packr } from 'msgpackr';
import { BadRecordError, describeRecord } from '../errors.ts';
import { NotPlainDataError, checkPlainData } from '../plain-data.ts';
import { MAX_CHARS, MAX_ENTRIES, type ReceivedStrings, type SentColumn, type SentStrings } from './channel-strings.ts';

const packr = new Packr({ moreTypes: true, int64AsType: 'bigint', copyBuffers: true });
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

type FieldType = 'n' | 's' | 'b' | 'x';

/** What crosses the thread boundary; `buf` goes in the transfer list. */
export interface EncodedBatch {
  count: number;
  /** 'm' (whole batch msgpack), 'p:<type>' (primitive records) or 'o:<type><name>,...' (objects). */
  shape: string;
  /** The batch carries each record's key group and key hash (two Int32 parts after the times): it crossed a keyBy exchange. */
  keyed: boolean;
  /** Start and end byte offsets of each part inside `buf`, in layout order (start0, end0, start1, ...). */
  parts: number[];
  buf: ArrayBuffer;
}

interface Shape {
  key: string;
  fields: string[];
  types: FieldType[];
  /**
   * Fills columns (a number field's is a Float64Array of the batch's length, the others arrays);
   * returns false when a record does not fit the shape.
   */
  extract: (values: readonly unknown[], cols: Column[]) => boolean;
  /** The columns `extract` fills, reused from batch to batch (number columns are new arena views each batch). */
  cols: Column[];
  build: (cols: ArrayLike<unknown>[], n: number) => unknown[];
}

function typeOf(v: unknown): FieldType {
  switch (typeof v) {
    case 'number':
      return 'n';
    case 'string':
      return 's';
    case 'boolean':
      return 'b';
    default:
      return 'x';
  }
}

const shapes = new Map<string, Shape>();

function compileShape(key: string, fields: string[], types: FieldType[]): Shape {
  const nf = fields.length;
  const access = fields.map((f) => `[${JSON.stringify(f)}]`);
  // extract: checks every record has exactly these fields with these primitive types.
  let ex = `const n = values.length;\n`;
  // Numbers go straight into float64 columns: stored into an array, a number that is not a small
  // integer (a millisecond time, a price with cents) would be boxed, one heap number per record.
  for (let f = 0; f < nf; f++) ex += types[f] === 'n' ? `const c${f} = cols[${f}];\n` : `const c${f} = cols[${f}]; c${f}.length = n;\n`;
  ex += `for (let i = 0; i < n; i++) {\n const v = values[i];\n if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;\n let k = 0; for (const _ in v) k++; if (k !== ${nf}) return false;\n`;
  for (let f = 0; f < nf; f++) {
    const t = types[f];
    ex += ` const f${f} = v${access[f]};\n`;
    if (t === 'n') ex += ` if (typeof f${f} !== 'number') return false;\n`;
    else if (t === 's') ex += ` if (typeof f${f} !== 'string') return false;\n`;
    else if (t === 'b') ex += ` if (typeof f${f} !== 'boolean') return false;\n`;
    else ex += ` if (f${f} === undefined && !(${JSON.stringify(fields[f])} in v)) return false;\n`;
    ex += ` c${f}[i] = f${f};\n`;
  }
  ex += `}\nreturn true;`;
  // build: a number read from a Float64Array column is a heap number even when it is a small
  // integer, and a heap number stored in a field the sender's objects of this shape hold as a small
  // integer generalizes the field: every object the sender's code then makes with the old layout
  // (the same fields in the same order, such as the source's records in this thread) is migrated
  // on first use, in the runtime (q18 at p2: 300 ns a record, a fifth of the thread). So an
  // integer that fits 32 bits (not -0) is made one again.
  let bd = `const out = new Array(n);\n`;
  for (let f = 0; f < nf; f++) bd += `const c${f} = cols[${f}];\n`;
  bd += `for (let i = 0; i < n; i++) {\n`;
  for (let f = 0; f < nf; f++) {
    if (types[f] !== 'n') continue;
    bd += ` const d${f} = c${f}[i]; const s${f} = d${f} | 0; const v${f} = s${f} === d${f} && (s${f} !== 0 || 1 / d${f} > 0) ? s${f} : d${f};\n`;
  }
  bd += ` out[i] = {${fields.map((f, i) => `${JSON.stringify(f)}: ${types[i] === 'n' ? `v${i}` : `c${i}[i]`}`).join(', ')}};\n}\nreturn out;`;
  return {
    key,
    fields,
    types,
    extract: new Function('values', 'cols', ex) as Shape['extract'],
    cols: new Array<Column>(nf),
    build: new Function('cols', 'n', bd) as Shape['build'],
  };
}

function shapeOfObject(first: object): Shape | undefined {
  const fields = Object.keys(first);
  if (fields.length === 0 || fields.length > 64) return undefined;
  const types = fields.map((f) => typeOf((first as Record<string, unknown>)[f]));
  const key = `o:${fields.map((f, i) => `${types[i]}${f}`).join('\u0001')}`;
  let shape = shapes.get(key);
  if (!shape) {
    shape = compileShape(key, fields, types);
    shapes.set(key, shape);
  }
  return shape;
}

type Column = unknown[] | Float64Array;

/** Reused scratch columns so that encoding allocates no per-batch arrays. */
const scratch: unknown[][] = [];

/** The shape's columns for a batch of `n`: arena float64s for numbers, scratch arrays for the rest. */
function columnsOf(shape: Shape, n: number): Column[] {
  const cols = shape.cols;
  while (scratch.length < cols.length) scratch.push([]);
  for (let f = 0; f < cols.length; f++) cols[f] = shape.types[f] === 'n' ? float64s(n) : scratch[f]!;
  return cols;
}

/** Empties the scratch arrays among `cols` (they must not keep the batch's values alive). */
function releaseColumns(cols: Column[]): void {
  for (let f = 0; f < cols.length; f++) {
    const c = cols[f]!;
    if (Array.isArray(c)) c.length = 0;
  }
}

interface Part {
  bytes: Uint8Array;
  align: number;
}

/**
 * Scratch memory the parts of a batch are written to before `assemble` copies them into the buffer
 * that is sent (and transferred away): reused from batch to batch, so that encoding allocates that
 * buffer and little else. Views taken before a growth stay valid (they keep the old memory).
 */
class Arena {
  private buf = new ArrayBuffer(1 << 16);
  private at = 0;

  reset(): void {
    this.at = 0;
  }

  /** `bytes` bytes aligned to `align` (at most 8): the memory and the offset in it. */
  take(bytes: number, align: number): { buffer: ArrayBuffer; offset: number } {
    let at = Math.ceil(this.at / align) * align;
    if (at + bytes > this.buf.byteLength) {
      this.buf = new ArrayBuffer(Math.max(this.buf.byteLength * 2, bytes + 8));
      at = 0;
    }
    this.at = at + bytes;
    return { buffer: this.buf, offset: at };
  }

  /** The last take used only up to `end` (an offset in the same memory). */
  giveBack(buffer: ArrayBuffer, end: number): void {
    if (buffer === this.buf) this.at = end;
  }
}

const arena = new Arena();

function float64s(n: number): Float64Array {
  const { buffer, offset } = arena.take(n * 8, 8);
  return new Float64Array(buffer, offset, n);
}

function int32s(n: number): Int32Array {
  const { buffer, offset } = arena.take(n * 4, 4);
  return new Int32Array(buffer, offset, n);
}

function bytesOf(a: Float64Array | Int32Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Values looked at to decide whether a string column is worth a dictionary, and how many of them must repeat. */
const DICTIONARY_SAMPLE = 64;
const DICTIONARY_SAMPLE_DISTINCT = 32;
const EMPTY = new Uint8Array(0);

/** How a string column is laid out (the first int of its header part; the second is the channel dictionary's base). */
const PLAIN = 0;
const BATCH_DICTIONARY = 1;
const CHANNEL_DICTIONARY = 2;

function header(form: number, base: number): Part {
  const h = int32s(2);
  h[0] = form;
  h[1] = base;
  return { bytes: bytesOf(h), align: 4 };
}

/**
 * A string column as four parts: a header (its form), the lengths of its strings (Uint32), the
 * strings as one UTF-8 run, and each record's number among those strings (Int32; empty when every
 * record's string is in the run in order). The numbers refer to the channel's dictionary (the
 * strings are the ones it did not hold yet) when the batch goes on a channel, unless the column
 * waits after trials that showed its values do not recur; to the batch's own distinct strings when
 * they repeat within it (room ids, event types, keys of a hot set); otherwise every string is in
 * the run. Either way each distinct string is encoded, decoded and allocated once per channel or
 * batch instead of once per record.
 */
function stringPart(col: ArrayLike<unknown>, n: number, sent: SentColumn | undefined): Part[] {
  const strings = col as ArrayLike<string>;
  if (sent !== undefined && triesChannelDictionary(n, sent)) return channelDictionaryPart(strings, n, sent);
  if (repeats(strings, n)) return dictionaryStringPart(strings, n);
  return [header(PLAIN, 0), ...utf8Parts(strings, n), { bytes: EMPTY, align: 4 }];
}

/**
 * Whether to send the column against the channel's dictionary: yes (which also teaches it the
 * batch's new strings), unless the column waits after trials that brought mostly new strings
 * (SentColumn.skip): a column of values that never recur then costs nothing most of the time.
 */
function triesChannelDictionary(n: number, sent: SentColumn): boolean {
  if (sent.skipLeft > 0) {
    sent.skipLeft--;
    return false;
  }
  return n > 0;
}

function channelDictionaryPart(strings: ArrayLike<string>, n: number, sent: SentColumn): Part[] {
  if (sent.ids.size + n > MAX_ENTRIES || sent.chars > MAX_CHARS) sent.restart();
  const ids = sent.ids;
  const base = ids.size;
  const added: string[] = [];
  const indexes = int32s(n);
  // A run of one value (a constant field, a hot key) is looked up once.
  let last: string | undefined;
  let lastK = 0;
  for (let i = 0; i < n; i++) {
    const s = strings[i]!;
    if (s === last) {
      indexes[i] = lastK;
      continue;
    }
    let k = ids.get(s);
    if (k === undefined) {
      // The record's own string, not a copy: the next records mostly bring the same object (a
      // pooled or decoded value), which a Map finds without comparing characters (20 against
      // 60-76 ns a 60-character URL). If it is a slice of a larger string, that stays alive with
      // it, at most MAX_ENTRIES of them.
      k = base + added.length;
      ids.set(s, k);
      added.push(s);
      sent.chars += s.length;
    }
    indexes[i] = k;
    last = s;
    lastK = k;
  }
  // Mostly new strings, as many as in the batch before or nearly: the column's values do not
  // recur (ids, free text), or not yet. Holding them would only cost memory at both ends (the next
  // batch, base 0, tells the receiver), and trying again soon a hash and an insert per value. A
  // first batch on an empty dictionary brings all its distinct values, and a column of values
  // spread evenly keeps bringing many for a few batches (10,000 values in batches of 4096: 82%,
  // then 54%, 36%, 24%): while that share falls by a quarter a batch, the column is still learning.
  const share = added.length / n;
  if (share <= 0.5) sent.skip = 0;
  else if (base > 0 && share > sent.lastShare * 0.75) sent.trialFailed();
  sent.lastShare = share;
  return [header(CHANNEL_DICTIONARY, base), ...utf8Parts(added, added.length), { bytes: bytesOf(indexes), align: 4 }];
}

/**
 * The UTF-16 lengths of `n` strings and their UTF-8 bytes, written into the arena. The strings are
 * concatenated first: a rope that encodeInto flattens once, faster than encoding string by string
 * (9 against 46 ns a string of 6 characters, the same at 60, measured here).
 */
function utf8Parts(strings: ArrayLike<string>, n: number): [Part, Part] {
  const { buffer: lb, offset: lo } = arena.take(n * 4, 4);
  const lengths = new Uint32Array(lb, lo, n);
  let joined = '';
  for (let i = 0; i < n; i++) {
    const s = strings[i]!;
    lengths[i] = s.length;
    joined += s;
  }
  // At most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units).
  const { buffer, offset } = arena.take(joined.length * 3, 1);
  const out = new Uint8Array(buffer, offset, joined.length * 3);
  const written = textEncoder.encodeInto(joined, out).written;
  arena.giveBack(buffer, offset + written);
  return [
    { bytes: bytesOf(lengths), align: 4 },
    { bytes: out.subarray(0, written), align: 1 },
  ];
}

/** V8 cuts a `substring` this long or longer as a slice that refers to the whole string it was cut from. */
const SLICED_MIN = 13;

/**
 * The `lengths.length` strings of a UTF-8 run whose UTF-16 lengths are `lengths`: the run is decoded
 * once and cut with `substring` (fastest: 9-44 against 49-52 ns a string decoded on its own). But
 * V8 makes a cut of 13 characters or more a slice that keeps the whole decoded run alive, so a
 * record a job keeps (in state, a top-n list, a dimension table) held its batch's strings: half a
 * megabyte for 4096 URLs (bench/exchange-retention.ts). So when the run is ASCII (as many UTF-16
 * units as bytes: any other character takes more bytes), such strings are decoded one by one, flat;
 * shorter cuts are copies anyway. A run with other characters is still cut from the decoded whole
 * (where each string starts in the bytes is not known).
 */
function decodeStrings(lengths: Uint32Array, utf8: Uint8Array): string[] {
  const m = lengths.length;
  const strings = new Array<string>(m);
  let shortest = Infinity;
  for (let i = 0; i < m; i++) if (lengths[i]! < shortest) shortest = lengths[i]!;
  if (shortest >= SLICED_MIN && isAscii(utf8)) {
    // Every string is decoded on its own anyway (below): the run is not decoded whole first.
    const bytes = Buffer.from(utf8.buffer, utf8.byteOffset, utf8.byteLength);
    let at = 0;
    for (let i = 0; i < m; i++) {
      const len = lengths[i]!;
      strings[i] = bytes.toString('latin1', at, at + len);
      at += len;
    }
    if (at !== utf8.byteLength) throw new Error(`string column has ${utf8.byteLength} bytes for ${at} characters`);
    return strings;
  }
  const joined = textDecoder.decode(utf8);
  const ascii = joined.length === utf8.byteLength;
  let bytes: Buffer | undefined;
  let at = 0;
  for (let i = 0; i < m; i++) {
    const len = lengths[i]!;
    if (len >= SLICED_MIN && ascii) strings[i] = (bytes ??= Buffer.from(utf8.buffer, utf8.byteOffset, utf8.byteLength)).toString('latin1', at, at + len);
    else strings[i] = joined.substring(at, at + len);
    at += len;
  }
  if (at !== joined.length) throw new Error('string column lost characters in UTF-8 (a lone surrogate?)');
  return strings;
}

function repeats(strings: ArrayLike<string>, n: number): boolean {
  if (n < DICTIONARY_SAMPLE) return false;
  const seen = new Set<string>();
  for (let i = 0; i < DICTIONARY_SAMPLE; i++) {
    seen.add(strings[i]!);
    if (seen.size > DICTIONARY_SAMPLE_DISTINCT) return false;
  }
  return true;
}

function dictionaryStringPart(strings: ArrayLike<string>, n: number): Part[] {
  const indexOf = new Map<string, number>();
  const distinct: string[] = [];
  const indexes = int32s(n);
  for (let i = 0; i < n; i++) {
    const s = strings[i]!;
    let k = indexOf.get(s);
    if (k === undefined) {
      k = distinct.length;
      indexOf.set(s, k);
      distinct.push(s);
    }
    indexes[i] = k;
  }
  return [header(BATCH_DICTIONARY, 0), ...utf8Parts(distinct, distinct.length), { bytes: bytesOf(indexes), align: 4 }];
}

function numberPart(col: ArrayLike<unknown>, n: number): Part {
  // A Float64Array (the record writer's times) is already the bytes: assemble copies them.
  if (col instanceof Float64Array) return { bytes: new Uint8Array(col.buffer, col.byteOffset, n * 8), align: 8 };
  const a = float64s(n);
  const nums = col as ArrayLike<number>;
  for (let i = 0; i < n; i++) a[i] = nums[i]!;
  return { bytes: bytesOf(a), align: 8 };
}

function boolPart(col: ArrayLike<unknown>, n: number): Part {
  const { buffer, offset } = arena.take(n, 1);
  const a = new Uint8Array(buffer, offset, n);
  const bools = col as ArrayLike<boolean>;
  for (let i = 0; i < n; i++) a[i] = bools[i] ? 1 : 0;
  return { bytes: a, align: 1 };
}

/** Checks then packs `n` values: one field's column (`field` names it) or whole records. */
function anyPart(col: ArrayLike<unknown>, n: number, field?: string, records: ArrayLike<unknown> = col): Part {
  for (let i = 0; i < n; i++) {
    try {
      checkPlainData(col[i]);
    } catch (e) {
      throw e instanceof NotPlainDataError ? notCarried(e, field, records[i]) : e;
    }
  }
  return { bytes: packr.pack(Array.prototype.slice.call(col, 0, n)), align: 1 };
}

/** What a record may hold, for error messages. */
export const RECORD_VALUES = 'numbers, strings, booleans, bigint, null, undefined, arrays, plain objects, Map, Set, Date, typed arrays';

function notCarried(e: NotPlainDataError, field: string | undefined, record: unknown): BadRecordError {
  // e.path is '$' (the value) or '$.a[1]...' inside it; a column's values are one field's.
  const inner = e.path.slice(1);
  const where = field === undefined ? (inner === '' ? 'the record' : `record field '${inner.replace(/^\./, '')}'`) : `record field '${field}${inner}'`;
  return new BadRecordError(
    `${where} holds ${e.found}, which cannot cross to another worker unchanged: records sent between operators must be plain data (${RECORD_VALUES}). ` +
      `Emit the object's data instead (and rebuild the instance downstream if needed).`,
    describeRecord(record),
    field ?? (inner === '' ? undefined : inner.replace(/^\./, '')),
  );
}

function columnParts(type: FieldType, col: ArrayLike<unknown>, n: number, sent: SentStrings | undefined, field?: string, records?: ArrayLike<unknown>): Part[] {
  switch (type) {
    case 'n':
      return [numberPart(col, n)];
    case 's':
      return stringPart(col, n, sent?.column(field ?? ''));
    case 'b':
      return [boolPart(col, n)];
    case 'x':
      return [anyPart(col, n, field, records)];
  }
}

function assemble(count: number, shape: string, keyed: boolean, parts: Part[]): EncodedBatch {
  const offsets: number[] = [];
  let size = 0;
  for (const p of parts) {
    size = Math.ceil(size / p.align) * p.align;
    offsets.push(size);
    size += p.bytes.byteLength;
    offsets.push(size);
  }
  const buf = new ArrayBuffer(size);
  const view = new Uint8Array(buf);
  parts.forEach((p, i) => view.set(p.bytes, offsets[2 * i]));
  return { count, shape, keyed, parts: offsets, buf };
}

/** Key groups or key hashes. */
function int32Part(ints: ArrayLike<number>, n: number): Part {
  if (ints instanceof Int32Array) return { bytes: new Uint8Array(ints.buffer, ints.byteOffset, n * 4), align: 4 };
  const a = int32s(n);
  for (let i = 0; i < n; i++) a[i] = ints[i]!;
  return { bytes: bytesOf(a), align: 4 };
}

/**
 * Encodes records, their event times (NaN for none) and, after a keyBy exchange, their key groups
 * and key hashes (`keyHashes` is required with `keyGroups`). With `sent` (the channel's strings,
 * channel-strings.ts) the batch may refer to strings sent before: the receiver must decode the
 * channel's batches in order, each once, with the channel's ReceivedStrings.
 */
export function encodeBatch(
  values: readonly unknown[],
  times: ArrayLike<number>,
  keyGroups?: ArrayLike<number>,
  keyHashes?: ArrayLike<number>,
  sent?: SentStrings,
): EncodedBatch {
  const n = values.length;
  arena.reset();
  const keyed = keyGroups !== undefined;
  if (keyed && keyHashes === undefined) throw new Error('encodeBatch: key groups without key hashes');
  const head: Part[] = keyed ? [numberPart(times, n), int32Part(keyGroups, n), int32Part(keyHashes!, n)] : [numberPart(times, n)];
  const first = values[0];
  const t = typeOf(first);
  if (n > 0 && t !== 'x') {
    let uniform = true;
    for (let i = 1; i < n; i++) {
      if (typeof values[i] !== typeof first) {
        uniform = false;
        break;
      }
    }
    if (uniform) return assemble(n, `p:${t}`, keyed, [...head, ...columnParts(t, values, n, sent)]);
  } else if (n > 0 && typeof first === 'object' && first !== null && Object.getPrototypeOf(first) === Object.prototype) {
    const shape = shapeOfObject(first);
    if (shape) {
      const cols = columnsOf(shape, n);
      if (shape.extract(values, cols)) {
        const parts: Part[] = head;
        try {
          for (let f = 0; f < shape.fields.length; f++) parts.push(...columnParts(shape.types[f]!, cols[f]!, n, sent, shape.fields[f], values));
        } catch (e) {
          // Columns before the bad one may have learnt strings this batch was to bring.
          sent?.restart();
          throw e;
        } finally {
          releaseColumns(cols);
        }
        return assemble(n, shape.key, keyed, parts);
      }
      releaseColumns(cols);
    }
  }
  return assemble(n, 'm', keyed, [...head, anyPart(values, n)]);
}

class PartReader {
  private i = 0;
  constructor(private readonly batch: EncodedBatch) {}
  next(): Uint8Array {
    const { parts, buf } = this.batch;
    const start = parts[this.i]!;
    const end = parts[this.i + 1]!;
    this.i += 2;
    return new Uint8Array(buf, start, end - start);
  }
  numbers(n: number): Float64Array {
    const b = this.next();
    return new Float64Array(b.buffer, b.byteOffset, n);
  }
}

function readColumn(type: FieldType, r: PartReader, n: number, field: string, received: ReceivedStrings | undefined): ArrayLike<unknown> {
  switch (type) {
    case 'n':
      return r.numbers(n);
    case 's': {
      const hb = r.next();
      const h = new Int32Array(hb.buffer, hb.byteOffset, 2);
      const lb = r.next();
      const m = lb.byteLength / 4;
      const lengths = new Uint32Array(lb.buffer, lb.byteOffset, m);
      let strings = decodeStrings(lengths, r.next());
      const ib = r.next();
      // Plain: one string per record. Dictionary: the distinct strings, then each record's number.
      if (h[0] === PLAIN) return strings;
      if (h[0] === CHANNEL_DICTIONARY) {
        if (received === undefined) throw new Error(`string field '${field}' refers to the strings of its channel, but no channel's received strings were given to decode it`);
        strings = received.extend(field, h[1]!, strings);
      }
      const indexes = new Int32Array(ib.buffer, ib.byteOffset, n);
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = strings[indexes[i]!]!;
      return out;
    }
    case 'b': {
      const b = r.next();
      const out = new Array<boolean>(n);
      for (let i = 0; i < n; i++) out[i] = b[i] === 1;
      return out;
    }
    case 'x':
      return packr.unpack(r.next()) as unknown[];
  }
}

function shapeFromKey(key: string): Shape {
  let shape = shapes.get(key);
  if (!shape) {
    const specs = key.slice(2).split('\u0001');
    shape = compileShape(key, specs.map((s) => s.slice(1)), specs.map((s) => s[0] as FieldType));
    shapes.set(key, shape);
  }
  return shape;
}

export interface DecodedBatch {
  values: unknown[];
  times: Float64Array;
  /** Each record's key group and key hash, when the batch crossed a keyBy exchange. */
  keyGroups: Int32Array | undefined;
  keyHashes: Int32Array | undefined;
}

/** Batches decoded in this thread (tests: a gate decodes a queued batch only when its task takes it). */
export const batchDecodes = { count: 0 };

/** The first record's event time (NaN: none) of a batch with at least one record, without decoding it. */
export function firstTime(batch: EncodedBatch): number {
  return new Float64Array(batch.buf, batch.parts[0]!, 1)[0]!;
}

/** Decodes a batch; one encoded with a channel's SentStrings needs that channel's ReceivedStrings (see encodeBatch). */
export function decodeBatch(batch: EncodedBatch, received?: ReceivedStrings): DecodedBatch {
  batchDecodes.count++;
  const n = batch.count;
  const r = new PartReader(batch);
  const times = r.numbers(n);
  let keyGroups: Int32Array | undefined;
  let keyHashes: Int32Array | undefined;
  if (batch.keyed) {
    const b = r.next();
    keyGroups = new Int32Array(b.buffer, b.byteOffset, n);
    const h = r.next();
    keyHashes = new Int32Array(h.buffer, h.byteOffset, n);
  }
  const { shape } = batch;
  if (shape === 'm') return { values: packr.unpack(r.next()) as unknown[], times, keyGroups, keyHashes };
  if (shape.startsWith('p:')) {
    const col = readColumn(shape[2] as FieldType, r, n, '', received);
    return { values: Array.isArray(col) ? col : Array.from(col), times, keyGroups, keyHashes };
  }
  const s = shapeFromKey(shape);
  const cols = s.types.map((t, f) => readColumn(t, r, n, s.fields[f]!, received));
  return { values: s.build(cols, n), times, keyGroups, keyHashes };
}
