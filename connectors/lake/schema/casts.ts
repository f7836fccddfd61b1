/**
 * Casts between Paimon types, for reading files written under an older schema after a column's type
 * changed (`ALTER TABLE ... MODIFY COLUMN`): Java Paimon casts each value of an old file to the
 * reading schema with its CastExecutors; these are the same rules on Weir's JS values (types.ts).
 *
 * - integer <-> integer: Java's primitive casts (narrowing wraps around); float/double -> integer
 *   truncates toward zero (saturating at the 64-bit range, then wrapping to the width, as Java's
 *   `(int) (long) d`).
 * - numeric -> DECIMAL(p, s) and DECIMAL -> DECIMAL: rounded HALF_UP to s; a value that needs more
 *   than p digits becomes null (Paimon's DecimalUtils).
 * - BOOLEAN -> numeric 1/0; numeric -> BOOLEAN: non-zero is true.
 * - STRING -> BOOLEAN: t/true/y/yes/1 and f/false/n/no/0 (any case, trimmed); anything else fails.
 * - STRING -> numeric/decimal/date/time/timestamp: parsed (trimmed); a value that does not parse
 *   fails the read with the field named.
 * - x -> STRING: Java's text of the value (`1.0E10` for doubles; timestamps as
 *   `2024-11-26 06:38:56.001`, the fraction at least the type's precision long, zeros past it
 *   dropped); CHAR(n) pads with spaces, VARCHAR(n) truncates.
 * - DATE -> TIMESTAMP: midnight; TIMESTAMP -> DATE / TIME: its day / time of day; TIMESTAMP(p) ->
 *   TIMESTAMP(q < p) truncates the fraction.
 * - TIMESTAMP <-> TIMESTAMP_LTZ and DATE -> TIMESTAMP_LTZ: the session time zone is UTC (Java uses
 *   the JVM's default zone; set it to UTC to compare).
 * - integer -> TIMESTAMP: epoch seconds; TIMESTAMP -> integer: epoch seconds (floor).
 * - BINARY(n) pads with zero bytes, VARBINARY(n) truncates; STRING <-> BYTES via UTF-8.
 * - ARRAY, MAP and ROW: element, value and field casts (row fields matched by field id).
 */
import { BadRecordError, ConfigError } from '../errors.ts';
import { type DataType, MAX_LENGTH, typeToString } from './types.ts';
import { daysToIsoDate, decimalToUnscaled, floorDiv, nanosToIso, toEpochNanos, unscaledToDecimal } from './values.ts';

export type Cast = (v: unknown) => unknown;

/** length/precision of an atomic type (nested types have none). */
const len = (t: DataType, dflt: number): number => ('length' in t && t.length !== undefined ? t.length : dflt);
const scaleOf = (t: DataType): number => ('scale' in t && t.scale !== undefined ? t.scale : 0);

const INTEGERS = new Set(['TINYINT', 'SMALLINT', 'INT', 'BIGINT']);
const FLOATS = new Set(['FLOAT', 'DOUBLE']);
const TEXT = new Set(['CHAR', 'VARCHAR']);
const BYTES = new Set(['BINARY', 'VARBINARY']);
const TIMESTAMPS = new Set(['TIMESTAMP', 'TIMESTAMP_LTZ']);
const BITS: Record<string, number> = { TINYINT: 8, SMALLINT: 16, INT: 32, BIGINT: 64 };
const NANOS_PER_DAY = 86_400_000_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;

function sameType(a: DataType, b: DataType): boolean {
  return typeToString({ ...a, nullable: true }) === typeToString({ ...b, nullable: true });
}

/** The cast from values of `from` to values of `to`, or null when they are the same type. */
export function castFor(from: DataType, to: DataType, field: string): Cast | null {
  if (sameType(from, to)) return null;
  const f = from.root;
  const t = to.root;
  const fail = (): never => {
    throw new ConfigError(field, `field '${field}' changed type from ${typeToString(from)} to ${typeToString(to)}, which Paimon cannot cast; read it with a snapshot of the older schema`);
  };
  const bad = (v: unknown): never => {
    throw new BadRecordError(`value '${String(v)}' of field '${field}' (written as ${typeToString(from)}) cannot be cast to ${typeToString(to)}`, String(v), field);
  };
  const text = toTextFn(from);
  // --- to text: the value's text, then fitted to CHAR/VARCHAR
  if (TEXT.has(t)) {
    if (!text) return fail();
    const n = len(to, MAX_LENGTH);
    const pad = t === 'CHAR';
    return (v) => {
      const s = text(v);
      if (s.length > n) return s.slice(0, n);
      return pad && s.length < n ? s.padEnd(n, ' ') : s;
    };
  }
  if (TEXT.has(f)) return fromText(to, bad) ?? fail();
  // --- numeric and boolean
  if (INTEGERS.has(t)) {
    const wrap = toIntegerFn(t);
    if (INTEGERS.has(f)) return (v) => wrap(BigInt(v as number | bigint));
    if (FLOATS.has(f)) return (v) => wrap(doubleToLong(v as number));
    if (f === 'DECIMAL') return (v) => wrap(truncateDecimal(String(v)));
    if (f === 'BOOLEAN') return (v) => wrap(v ? 1n : 0n);
    if (TIMESTAMPS.has(f)) return (v) => wrap(floorDiv(v as bigint, NANOS_PER_SECOND));
    return fail();
  }
  if (FLOATS.has(t)) {
    const round = t === 'FLOAT' ? Math.fround : (x: number) => x;
    if (INTEGERS.has(f) || FLOATS.has(f)) return (v) => round(Number(v));
    if (f === 'DECIMAL') return (v) => round(Number(v));
    if (f === 'BOOLEAN') return (v) => (v ? 1 : 0);
    return fail();
  }
  if (t === 'DECIMAL') {
    const p = len(to, 10);
    const s = scaleOf(to);
    const fit = (unscaled: bigint): string | null => ((unscaled < 0n ? -unscaled : unscaled).toString().length > p ? null : unscaledToDecimal(unscaled, s));
    if (INTEGERS.has(f)) return (v) => fit(BigInt(v as number | bigint) * 10n ** BigInt(s));
    if (FLOATS.has(f)) return (v) => (Number.isFinite(v as number) ? fit(decimalToUnscaled(v, s)) : null);
    if (f === 'DECIMAL') return (v) => fit(decimalToUnscaled(v, s));
    if (f === 'BOOLEAN') return (v) => fit((v ? 1n : 0n) * 10n ** BigInt(s));
    return fail();
  }
  if (t === 'BOOLEAN') {
    if (INTEGERS.has(f)) return (v) => BigInt(v as number | bigint) !== 0n;
    if (FLOATS.has(f)) return (v) => (v as number) !== 0;
    if (f === 'DECIMAL') return (v) => decimalToUnscaled(v, scaleOf(from)) !== 0n;
    return fail();
  }
  // --- dates and times
  if (TIMESTAMPS.has(t)) {
    const trunc = truncateTo(len(to, 6));
    if (TIMESTAMPS.has(f)) return (v) => trunc(v as bigint);
    if (f === 'DATE') return (v) => BigInt(v as number) * NANOS_PER_DAY;
    if (INTEGERS.has(f)) return (v) => BigInt(v as number | bigint) * NANOS_PER_SECOND;
    return fail();
  }
  if (t === 'DATE') {
    if (TIMESTAMPS.has(f)) return (v) => Number(floorDiv(v as bigint, NANOS_PER_DAY));
    return fail();
  }
  if (t === 'TIME') {
    if (TIMESTAMPS.has(f)) return (v) => Number(floorDiv((v as bigint) - floorDiv(v as bigint, NANOS_PER_DAY) * NANOS_PER_DAY, 1_000_000n));
    if (f === 'TIME') return (v) => v;
    return fail();
  }
  // --- binary
  if (BYTES.has(t)) {
    if (!BYTES.has(f)) return fail();
    const n = len(to, MAX_LENGTH);
    return (v) => fitBytes(v as Uint8Array, n, t === 'BINARY');
  }
  // --- nested
  if (t === 'ARRAY' && from.root === 'ARRAY') {
    const c = castFor(from.element, to.element, `${field}[]`);
    return c ? (v) => (v as unknown[]).map((x) => (x === null ? null : c(x))) : null;
  }
  if (t === 'MAP' && from.root === 'MAP') {
    const ck = castFor(from.key, to.key, `${field}.key`);
    const cv = castFor(from.value, to.value, `${field}.value`);
    return (v) => new Map([...(v as Map<unknown, unknown>)].map(([k, x]) => [ck ? ck(k) : k, x === null || !cv ? x : cv(x)]));
  }
  if (t === 'ROW' && from.root === 'ROW' && to.root === 'ROW') {
    const parts = to.fields.map((tf) => {
      const sf = from.fields.find((x) => x.id === tf.id);
      return { name: tf.name, source: sf?.name, cast: sf ? castFor(sf.type, tf.type, `${field}.${tf.name}`) : null };
    });
    return (v) => {
      const r = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const p of parts) {
        const x = p.source === undefined ? null : (r[p.source] ?? null);
        out[p.name] = x === null || !p.cast ? x : p.cast(x);
      }
      return out;
    };
  }
  return fail();
}

function toIntegerFn(root: string): (v: bigint) => number | bigint {
  const bits = BITS[root]!;
  if (bits === 64) return (v) => BigInt.asIntN(64, v);
  return (v) => Number(BigInt.asIntN(bits, v));
}

/** Java's `(long) d`: toward zero, NaN 0, saturating. */
function doubleToLong(d: number): bigint {
  if (Number.isNaN(d)) return 0n;
  if (d >= 9.223372036854776e18) return 9223372036854775807n;
  if (d <= -9.223372036854776e18) return -9223372036854775808n;
  return BigInt(Math.trunc(d));
}

function truncateDecimal(text: string): bigint {
  const neg = text.startsWith('-');
  const whole = text.replace(/^[+-]/, '').split('.')[0] || '0';
  const v = BigInt(whole);
  return neg ? -v : v;
}

function truncateTo(precision: number): (nanos: bigint) => bigint {
  if (precision >= 9) return (n) => n;
  const unit = 10n ** BigInt(9 - precision);
  return (n) => floorDiv(n, unit) * unit;
}

function fitBytes(b: Uint8Array, n: number, pad: boolean): Uint8Array {
  if (b.length > n) return b.slice(0, n);
  if (pad && b.length < n) {
    const out = new Uint8Array(n);
    out.set(b);
    return out;
  }
  return b;
}

/** Java's Double.toString / Float.toString for the usual ranges. */
export function javaFloatText(x: number, float: boolean): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  // shortest digits that read back as the same float/double
  let digits = x.toString();
  if (float) {
    for (let p = 1; p <= 9; p++) {
      const s = x.toPrecision(p);
      if (Math.fround(Number(s)) === x) { digits = String(Number(s)); break; }
    }
  }
  if (abs >= 1e-3 && abs < 1e7) {
    const s = Number(digits).toString();
    return s.includes('.') || s.includes('e') ? s : `${s}.0`;
  }
  const [mant, exp] = Number(digits).toExponential().split('e');
  const m = mant!.includes('.') ? mant! : `${mant}.0`;
  return `${m}E${Number(exp)}`;
}

function timeText(millisOfDay: number): string {
  const iso = new Date(millisOfDay).toISOString().slice(11, 23);
  return iso.endsWith('.000') ? iso.slice(0, 8) : iso.replace(/0+$/, '');
}

function toTextFn(from: DataType): ((v: unknown) => string) | null {
  switch (from.root) {
    case 'CHAR': case 'VARCHAR': return (v) => v as string;
    case 'BOOLEAN': return (v) => (v ? 'true' : 'false');
    case 'TINYINT': case 'SMALLINT': case 'INT': case 'BIGINT': return (v) => String(v);
    case 'FLOAT': return (v) => javaFloatText(v as number, true);
    case 'DOUBLE': return (v) => javaFloatText(v as number, false);
    case 'DECIMAL': return (v) => String(v);
    case 'DATE': return (v) => daysToIsoDate(v as number);
    case 'TIME': return (v) => timeText(v as number);
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': {
      // Paimon's DateTimeUtils.formatTimestamp: the fraction keeps at least `precision` digits,
      // trailing zeros past them are dropped
      const precision = len(from, 6);
      return (v) => {
        const nanos = v as bigint;
        const secs = floorDiv(nanos, NANOS_PER_SECOND);
        let fraction = String(nanos - secs * NANOS_PER_SECOND).padStart(9, '0');
        while (fraction.length > precision && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
        const base = nanosToIso(secs * NANOS_PER_SECOND).replace('T', ' ');
        return fraction.length > 0 ? `${base}.${fraction}` : base;
      };
    }
    case 'BINARY': case 'VARBINARY': return (v) => new TextDecoder().decode(v as Uint8Array);
    default: return null;
  }
}

const TRUE_TEXT = new Set(['t', 'true', 'y', 'yes', '1']);
const FALSE_TEXT = new Set(['f', 'false', 'n', 'no', '0']);

function fromText(to: DataType, bad: (v: unknown) => never): Cast | null {
  const t = to.root;
  if (t === 'BOOLEAN') {
    return (v) => {
      const s = (v as string).trim().toLowerCase();
      if (TRUE_TEXT.has(s)) return true;
      if (FALSE_TEXT.has(s)) return false;
      return bad(v);
    };
  }
  if (INTEGERS.has(t)) {
    const wrap = toIntegerFn(t);
    const bits = BITS[t]!;
    return (v) => {
      const s = (v as string).trim();
      if (!/^[+-]?\d+$/.test(s)) return bad(v);
      const n = BigInt(s);
      if (BigInt.asIntN(bits, n) !== n) return bad(v);
      return wrap(n);
    };
  }
  if (FLOATS.has(t)) {
    return (v) => {
      const n = Number((v as string).trim());
      if ((v as string).trim() === '' || Number.isNaN(n) && !/^[+-]?NaN$/.test((v as string).trim())) return bad(v);
      return t === 'FLOAT' ? Math.fround(n) : n;
    };
  }
  if (t === 'DECIMAL') {
    const p = len(to, 10);
    const s = scaleOf(to);
    return (v) => {
      let u: bigint;
      try { u = decimalToUnscaled((v as string).trim(), s); } catch { return bad(v); }
      return (u < 0n ? -u : u).toString().length > p ? null : unscaledToDecimal(u, s);
    };
  }
  if (t === 'DATE') {
    return (v) => {
      const s = (v as string).trim();
      const ms = /^\d{4}-\d{1,2}-\d{1,2}$/.test(s) ? Date.parse(`${s.replace(/-(\d)(?=-|$)/g, '-0$1')}T00:00:00Z`) : NaN;
      return Number.isNaN(ms) ? bad(v) : Math.floor(ms / 86_400_000);
    };
  }
  if (t === 'TIME') {
    return (v) => {
      const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec((v as string).trim());
      if (!m) return bad(v);
      return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3] ?? 0)) * 1000 + Number((m[4] ?? '').padEnd(3, '0').slice(0, 3));
    };
  }
  if (TIMESTAMPS.has(t)) {
    const trunc = truncateTo(len(to, 6));
    return (v) => {
      const s = (v as string).trim();
      if (!/^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$/.test(s)) return bad(v);
      const [d, time] = s.split(/[ T]/);
      const date = d!.split('-').map((x, i) => (i === 0 ? x : x.padStart(2, '0'))).join('-');
      const clock = (time ?? '00:00:00').split(':').map((x, i) => (i < 2 ? x.padStart(2, '0') : x)).join(':');
      try { return trunc(toEpochNanos(`${date}T${clock.length === 5 ? `${clock}:00` : clock}`)); } catch { return bad(v); }
    };
  }
  if (BYTES.has(t)) {
    const n = len(to, MAX_LENGTH);
    return (v) => fitBytes(new TextEncoder().encode(v as string), n, t === 'BINARY');
  }
  return null;
}
