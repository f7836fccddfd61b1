/**
 * Conversions and ordering of the JS values of each Paimon type (see types.ts for the mapping).
 */
import { BadRecordError } from '../errors.ts';
import type { DataType } from './types.ts';

export type Comparator = (a: unknown, b: unknown) => number;

// ---------- decimal ----------

/** "-12.3" at scale 2 -> -1230n. Extra fraction digits are rounded half-up. */
export function decimalToUnscaled(value: unknown, scale: number): bigint {
  if (typeof value === 'bigint') return value * 10n ** BigInt(scale);
  const text = typeof value === 'number' ? numberToPlain(value) : String(value).trim();
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new BadRecordError(`'${text}' is not a decimal number`, text);
  const digits = (m[2] ?? '') + (m[3] ?? '');
  const pointPos = (m[2] ?? '').length + (m[4] ? Number(m[4]) : 0);
  const frac = digits.length - pointPos; // digits after the point
  let unscaled: bigint;
  if (frac <= scale) {
    unscaled = BigInt((digits || '0') + '0'.repeat(scale - frac));
  } else {
    const cut = frac - scale;
    const keep = digits.slice(0, digits.length - cut) || '0';
    const dropped = digits.slice(digits.length - cut);
    unscaled = BigInt(keep) + (dropped.charCodeAt(0) >= 53 /* '5' */ ? 1n : 0n);
  }
  return m[1] === '-' ? -unscaled : unscaled;
}

function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new BadRecordError(`${n} is not a decimal number`, String(n));
  return n.toString();
}

/** -1230n at scale 2 -> "-12.30". */
export function unscaledToDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let s = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    if (s.length <= scale) s = '0'.repeat(scale - s.length + 1) + s;
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  }
  return neg ? `-${s}` : s;
}

/** Minimal big-endian two's complement bytes, as Java's BigInteger.toByteArray. */
export function bigintToBytes(v: bigint): Uint8Array {
  let hex = (v < 0n ? -v : v).toString(16);
  if (v < 0n) {
    // two's complement with enough bytes for the sign bit
    let bytes = Math.ceil((hex.length + 1) / 2);
    let tc = (1n << BigInt(bytes * 8)) + v;
    if ((tc >> BigInt(bytes * 8 - 1)) === 0n) { bytes++; tc = (1n << BigInt(bytes * 8)) + v; }
    hex = tc.toString(16).padStart(bytes * 2, '0');
    // drop redundant leading 0xff bytes
    while (hex.length > 2 && hex.startsWith('ff') && parseInt(hex[2]!, 16) >= 8) hex = hex.slice(2);
  } else {
    if (hex.length % 2 === 1) hex = `0${hex}`;
    if (parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`;
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  let v = BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`);
  if ((b[0]! & 0x80) !== 0) v -= 1n << BigInt(b.length * 8);
  return v;
}

// ---------- timestamp ----------

/** Any accepted timestamp value -> bigint nanoseconds since the epoch. */
export function toEpochNanos(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(Math.round(value * 1e6));
  if (value instanceof Date) return BigInt(value.getTime()) * 1_000_000n;
  if (typeof value === 'string') {
    const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/.exec(value.trim());
    const base = Date.parse(`${m?.[1] ?? value}${m?.[3] ?? 'Z'}`);
    if (Number.isNaN(base)) throw new BadRecordError(`'${value}' is not a timestamp`, value);
    return BigInt(base) * 1_000_000n + BigInt((m?.[2] ?? '').padEnd(9, '0') || '0');
  }
  throw new BadRecordError(`${String(value)} is not a timestamp (use bigint nanoseconds, number milliseconds or Date)`, String(value));
}

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** bigint nanoseconds -> "2024-10-10T10:10:10.100100100" (no zone; UTC wall clock). */
export function nanosToIso(nanos: bigint): string {
  const millis = floorDiv(nanos, 1_000_000n);
  const subMilli = Number(nanos - millis * 1_000_000n);
  const iso = new Date(Number(millis)).toISOString(); // yyyy-mm-ddThh:mm:ss.sssZ
  let frac = iso.slice(20, 23) + String(subMilli).padStart(6, '0');
  frac = frac.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}`;
}

export function daysToIsoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

// ---------- comparison ----------

/** Strings compared as UTF-8 bytes (code point order), as Paimon's BinaryString does. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      // surrogates (D800-DFFF) encode code points above FFFF: they sort after E000-FFFF in UTF-8
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const cmpNum = (a: unknown, b: unknown): number => {
  const x = a as number;
  const y = b as number;
  return x < y ? -1 : x > y ? 1 : 0;
};
const cmpBig = (a: unknown, b: unknown): number => {
  const x = a as bigint;
  const y = b as bigint;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Orders non-null values of a type; nulls are handled by the caller (they sort first). */
export function comparatorFor(type: DataType): Comparator {
  switch (type.root) {
    case 'BOOLEAN': return (a, b) => Number(a) - Number(b);
    case 'TINYINT': case 'SMALLINT': case 'INT': case 'DATE': case 'TIME': case 'FLOAT': case 'DOUBLE': return cmpNum;
    // values are normalized (bigint) before they are compared; `<` also orders a bigint against a number
    case 'BIGINT': case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return cmpNum;
    case 'DECIMAL': {
      const s = type.scale ?? 0;
      return (a, b) => cmpBig(decimalToUnscaled(a, s), decimalToUnscaled(b, s));
    }
    case 'CHAR': case 'VARCHAR': return (a, b) => compareUtf8(a as string, b as string);
    case 'BINARY': case 'VARBINARY': return (a, b) => compareBytes(a as Uint8Array, b as Uint8Array);
    default: return () => 0;
  }
}

/** Comparator over several columns of row arrays (nulls first). */
export function rowComparator(indexes: number[], types: DataType[]): (a: unknown[], b: unknown[]) => number {
  const cmps = types.map(comparatorFor);
  const n = indexes.length;
  if (n === 1) {
    const i0 = indexes[0]!;
    const c0 = cmps[0]!;
    return (a, b) => {
      const x = a[i0];
      const y = b[i0];
      if (x === y) return 0;
      if (x === null || x === undefined) return -1;
      if (y === null || y === undefined) return 1;
      return c0(x, y);
    };
  }
  return (a, b) => {
    for (let k = 0; k < n; k++) {
      const i = indexes[k]!;
      const x = a[i];
      const y = b[i];
      if (x === y) continue;
      if (x === null || x === undefined) return -1;
      if (y === null || y === undefined) return 1;
      const c = cmps[k]!(x, y);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/** Brings a user value into the canonical JS form of its type (bigint for BIGINT, nanos for timestamps, ...). */
export function normalizeValue(type: DataType, v: unknown, field: string): unknown {
  if (v === null || v === undefined) {
    if (!type.nullable) throw new BadRecordError(`field '${field}' is NOT NULL but the record has no value for it`, String(v), field);
    return null;
  }
  switch (type.root) {
    case 'BIGINT': return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return toEpochNanos(v);
    case 'DECIMAL': return typeof v === 'string' ? v : unscaledToDecimal(decimalToUnscaled(v, type.scale ?? 0), type.scale ?? 0);
    case 'BINARY': case 'VARBINARY': return v instanceof Uint8Array ? v : typeof v === 'string' ? Buffer.from(v, 'base64') : v;
    case 'CHAR': case 'VARCHAR': return typeof v === 'string' ? v : String(v);
    default: return v;
  }
}
