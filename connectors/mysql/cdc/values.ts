/**
 * Column values, made identical whether they come from a snapshot SELECT (mysql2, text protocol,
 * `dateStrings`, session time zone UTC) or from a binlog row image (zongji, `dateStrings`, zone 'Z').
 * One converter per column, built from its `COLUMN_TYPE`; the mapping is in types.ts (`CdcValue`).
 */
import { ConfigError } from '../../../runtime/errors.ts';
import type { CdcColumn, CdcValue } from './types.ts';

export type Converter = (v: unknown) => CdcValue;

/** 'bigint(20) unsigned' -> 'bigint'. */
export function baseType(columnType: string): string {
  return /^[a-z]+/i.exec(columnType.trim())![0]!.toLowerCase();
}

function scaleOf(columnType: string): number {
  const m = /\(\s*\d+\s*,\s*(\d+)\s*\)/.exec(columnType);
  return m ? Number(m[1]) : 0;
}

function fractionDigits(columnType: string): number {
  const m = /\(\s*(\d+)\s*\)/.exec(columnType);
  return m ? Number(m[1]) : 0;
}

function bitWidth(columnType: string): number {
  const m = /\(\s*(\d+)\s*\)/.exec(columnType);
  return m ? Number(m[1]) : 1;
}

/** A decimal in plain notation with exactly `scale` fraction digits ('-0.50'); never through a float. */
export function canonicalDecimal(v: unknown, scale: number): string {
  // Fast path: MySQL's own text ('-12.30', '7') is canonical already.
  if (typeof v === 'string' && (scale === 0 ? /^-?(0|[1-9]\d*)$/.test(v) : v.charCodeAt(v.length - scale - 1) === 46 && /^-?(0|[1-9]\d*)\.\d+$/.test(v))) {
    return v === `-0${scale > 0 ? `.${'0'.repeat(scale)}` : ''}` ? v.slice(1) : v;
  }
  const text = String(v).trim();
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new TypeError(`'${text}' is not a decimal`);
  const int = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const frac = (m[3] ?? '').padEnd(scale, '0').slice(0, scale);
  const neg = m[1] === '-' && /[1-9]/.test(int + frac);
  return `${neg ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}

/** The shortest decimal that reads back as the same float32 (MySQL prints FLOAT that way; the binlog has the raw float). */
export function canonicalFloat32(v: number): number {
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return f;
}

/** '2026-01-02 03:04:05.12' -> same text with exactly `digits` fraction digits. */
function fixFraction(text: string, digits: number): string {
  const dot = text.indexOf('.');
  if (digits === 0 ? dot < 0 : dot >= 0 && text.length - dot - 1 === digits) return text; // as MySQL prints it
  const [whole, frac = ''] = text.split('.');
  return digits > 0 ? `${whole}.${frac.padEnd(digits, '0').slice(0, digits)}` : whole!;
}

/** '+02:00' -> 120, 'UTC' -> 0. */
export function zoneOffsetMinutes(zone: string): number {
  if (/^(utc|z|gmt)$/i.test(zone)) return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (!m) throw new ConfigError('mysql-cdc.serverTimeZone', `'${zone}' is not a zone offset: use 'UTC' or '+HH:MM'`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Wall-clock text in a zone -> ISO instant with `digits` fraction digits. */
function wallClockToInstant(text: string, offsetMinutes: number, digits: number): string {
  const [whole, frac = ''] = text.split('.');
  const millis = Date.parse(`${whole!.replace(' ', 'T')}Z`) - offsetMinutes * 60_000;
  const iso = new Date(millis).toISOString().slice(0, 19);
  return `${iso}${digits > 0 ? `.${frac.padEnd(digits, '0').slice(0, digits)}` : ''}Z`;
}

function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'latin1'));
  throw new TypeError(`expected bytes, got ${typeof v}`);
}

const SUPPORTED = new Set([
  'tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year', 'decimal', 'numeric', 'float', 'double', 'real',
  'char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set', 'json',
  'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit', 'date', 'time', 'datetime', 'timestamp',
]);

export function isSupportedType(columnType: string): boolean {
  return SUPPORTED.has(baseType(columnType));
}

/** The converter of one column; an unsupported type is a ConfigError naming the table and column. */
export function converterFor(table: string, column: CdcColumn, serverTimeZone?: string): Converter {
  const t = baseType(column.type);
  if (!SUPPORTED.has(t)) {
    throw new ConfigError(
      'mysql-cdc.tables',
      `column '${column.name}' of table '${table}' has type '${column.type}', which the MySQL CDC source does not read; leave the table out of 'tables' or change the column's type`,
    );
  }
  const nullable = (f: (v: unknown) => CdcValue): Converter => (v) => (v === null || v === undefined ? null : f(v));
  switch (t) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'year':
      return nullable((v) => Number(v));
    case 'bigint':
      return nullable((v) => BigInt(v as string | number | bigint));
    case 'decimal':
    case 'numeric': {
      const scale = scaleOf(column.type);
      return nullable((v) => canonicalDecimal(v, scale));
    }
    case 'float':
      return nullable((v) => canonicalFloat32(Number(v)));
    case 'double':
    case 'real':
      return nullable((v) => Number(v));
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return nullable(bytes);
    case 'bit': {
      const width = bitWidth(column.type);
      if (width === 1) return nullable((v) => bytes(v).some((b) => b !== 0));
      const size = Math.ceil(width / 8);
      return nullable((v) => {
        const b = bytes(v);
        const out = new Uint8Array(size);
        out.set(b.subarray(Math.max(0, b.length - size)), Math.max(0, size - b.length));
        return out;
      });
    }
    case 'date':
      return nullable((v) => String(v));
    case 'time': {
      const digits = fractionDigits(column.type);
      return nullable((v) => fixFraction(String(v), digits));
    }
    case 'datetime': {
      const digits = fractionDigits(column.type);
      if (serverTimeZone === undefined) return nullable((v) => fixFraction(String(v), digits));
      const offset = zoneOffsetMinutes(serverTimeZone);
      return nullable((v) => wallClockToInstant(String(v), offset, digits));
    }
    case 'timestamp': {
      // Both paths give the UTC wall clock (snapshot sessions run with time_zone '+00:00').
      const digits = fractionDigits(column.type);
      return nullable((v) => wallClockToInstant(String(v), 0, digits));
    }
    default:
      // char, varchar, text, enum, set, json (MariaDB keeps JSON as its text)
      return nullable((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v)));
  }
}

/** Converters of a table's columns, by name. */
export function rowConverter(table: string, columns: readonly CdcColumn[], serverTimeZone?: string): (raw: Record<string, unknown>) => Record<string, CdcValue> {
  const convs = columns.map((c) => [c.name, converterFor(table, c, serverTimeZone)] as const);
  return (raw) => {
    const out: Record<string, CdcValue> = {};
    for (const [name, f] of convs) out[name] = f(raw[name]);
    return out;
  };
}
