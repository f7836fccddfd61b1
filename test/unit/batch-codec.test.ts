import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeBatch, encodeBatch } from '../../runtime/exchange/batch-codec.ts';
import { BadRecordError } from '../../runtime/errors.ts';

class Money {
  constructor(readonly cents: number) {}
}

function encodeError(values: unknown[]): BadRecordError {
  try {
    encodeBatch(values, values.map(() => 0));
  } catch (e) {
    expect(e).toBeInstanceOf(BadRecordError);
    return e as BadRecordError;
  }
  throw new Error('expected a BadRecordError');
}

function roundTrip(values: unknown[], times?: number[]): { values: unknown[]; times: number[] } {
  const t = times ?? values.map((_, i) => i * 10);
  const encoded = encodeBatch(values, t);
  // The buffer crosses threads by transfer: decoding must work from a copy of it.
  const copy = { ...encoded, buf: encoded.buf.slice(0) };
  const decoded = decodeBatch(copy);
  return { values: decoded.values, times: Array.from(decoded.times) };
}

describe('batch codec', () => {
  it('encodes a string column whose values repeat each distinct string once (dictionary), others string by string', () => {
    const rooms = ['room-a', 'röom-b', '', 'room-🚀'];
    const repeated = Array.from({ length: 1000 }, (_, i) => ({ room: rooms[i % 4]!, n: i }));
    const unique = Array.from({ length: 1000 }, (_, i) => ({ room: `room-${i}`, n: i }));
    for (const values of [repeated, unique, repeated.map((r) => r.room), unique.map((r) => r.room)]) {
      expect(roundTrip(values).values).toEqual(values);
    }
    // The UTF-8 run holds the four distinct strings, not 1000: the batch is the numbers plus the indexes and little more.
    const bytes = (values: unknown[]) => encodeBatch(values, values.map(() => 0)).buf.byteLength;
    expect(bytes(repeated)).toBeLessThan(1000 * (8 + 8 + 4) + 100);
    expect(bytes(unique)).toBeGreaterThan(1000 * (8 + 8 + 4 + 6));
  });

  it('carries key groups and key hashes with the records when given, in every layout', () => {
    for (const values of [
      Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, n: i })),
      Array.from({ length: 50 }, (_, i) => `k${i}`),
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? { key: `k${i}` } : { other: [i] })),
    ]) {
      const keyGroups = values.map((_, i) => (i * 37) % 128);
      const keyHashes = values.map((_, i) => (Math.imul(i, 0x9e3779b1) | 0) - 5);
      const encoded = encodeBatch(values, values.map(() => 0), keyGroups, keyHashes);
      const decoded = decodeBatch({ ...encoded, buf: encoded.buf.slice(0) });
      expect(decoded.values).toEqual(values);
      expect(Array.from(decoded.keyGroups!)).toEqual(keyGroups);
      expect(Array.from(decoded.keyHashes!)).toEqual(keyHashes);
      const plain = decodeBatch(encodeBatch(values, values.map(() => 0)));
      expect(plain.keyGroups).toBeUndefined();
      expect(plain.keyHashes).toBeUndefined();
    }
  });

  it('round-trips uniform objects through typed columns', () => {
    const values = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % 37}`, ts: i * 1000, value: i / 3, ok: i % 2 === 0 }));
    const encoded = encodeBatch(values, values.map((v) => v.ts));
    expect(encoded.shape.startsWith('o:')).toBe(true);
    expect(roundTrip(values, values.map((v) => v.ts))).toEqual({ values, times: values.map((v) => v.ts) });
  });

  it('keeps non-ASCII strings, empty strings and NaN times', () => {
    const values = [{ s: 'héllo wörld' }, { s: '' }, { s: '日本語 🚀' }, { s: 'plain' }];
    expect(roundTrip(values, [NaN, 1, 2, NaN])).toEqual({ values, times: [NaN, 1, 2, NaN] });
  });

  it('keeps strings shorter and longer than a V8 slice (13 characters) side by side, ASCII or not, plain and as a dictionary', () => {
    const long = (i: number): string => `https://www.nexmark.com/item.htm?query=${i}`;
    const mixed = Array.from({ length: 200 }, (_, i) => ({ s: i % 3 === 0 ? long(i) : i % 3 === 1 ? `k${i}` : '', d: i % 2 === 0 ? long(i % 4) : 'short' }));
    expect(roundTrip(mixed)).toEqual({ values: mixed, times: mixed.map((_, i) => i * 10) });
    const allLong = Array.from({ length: 100 }, (_, i) => ({ s: long(i) }));
    expect(roundTrip(allLong).values).toEqual(allLong);
    const nonAscii = Array.from({ length: 100 }, (_, i) => ({ s: i % 2 === 0 ? `${long(i)}-ünïcödé-${i}` : `é${i}` }));
    expect(roundTrip(nonAscii).values).toEqual(nonAscii);
    const allLongNonAscii = Array.from({ length: 100 }, (_, i) => ({ s: i % 7 === 0 ? `${long(i)}-ünïcödé` : long(i) }));
    expect(roundTrip(allLongNonAscii).values).toEqual(allLongNonAscii);
  });

  it('falls back per field for nested, null and bigint fields', () => {
    const values = [
      { id: 1, tags: ['a', 'b'], owner: { name: 'x' }, big: 2n ** 60n, none: null },
      { id: 2, tags: [], owner: { name: 'y' }, big: -5n, none: null },
    ];
    expect(roundTrip(values).values).toEqual(values);
  });

  it('falls back to the whole batch when shapes differ', () => {
    const values = [{ a: 1, b: 'x' }, { a: 2 }, { a: 3, b: 'z', c: true }, { b: 'y', a: 4 }, { a: 'five', b: 'w' }];
    const encoded = encodeBatch(values, [0, 0, 0, 0, 0]);
    expect(encoded.shape).toBe('m');
    expect(roundTrip(values).values).toEqual(values);
  });

  it('round-trips primitive records and tuples', () => {
    expect(roundTrip(['a', 'bb', 'ccc']).values).toEqual(['a', 'bb', 'ccc']);
    expect(roundTrip([1.5, 2, -3]).values).toEqual([1.5, 2, -3]);
    expect(roundTrip([true, false]).values).toEqual([true, false]);
    expect(roundTrip([['w', 1], ['v', 2]]).values).toEqual([['w', 1], ['v', 2]]);
    expect(roundTrip(['a', 1, null]).values).toEqual(['a', 1, null]);
  });

  it('round-trips an empty batch', () => {
    expect(roundTrip([], [])).toEqual({ values: [], times: [] });
  });

  it('carries Map, Set, Date, bigint and typed arrays as they are, in columns and in whole-batch msgpack', () => {
    const rich = (i: number) => ({
      id: i,
      counts: new Map<unknown, unknown>([
        ['a', i],
        [2, { nested: new Set([i]) }],
      ]),
      tags: new Set(['x', `t${i}`]),
      at: new Date(1_700_000_000_000 + i),
      big: 2n ** 70n + BigInt(i),
      bytes: new Uint8Array([i, 1]),
      plain: { '2': 'two', k: [1, 2] },
    });
    const columnar = [rich(1), rich(2)];
    expect(encodeBatch(columnar, [0, 0]).shape.startsWith('o:')).toBe(true);
    const back = roundTrip(columnar).values as ReturnType<typeof rich>[];
    expect(back).toEqual(columnar);
    expect(back[0]!.counts).toBeInstanceOf(Map);
    expect(back[0]!.counts.get(2)).toEqual({ nested: new Set([1]) });
    expect(back[1]!.plain).not.toBeInstanceOf(Map);
    const mixed = [rich(1), { other: new Map([['k', 1]]) }, 'text'];
    expect(encodeBatch(mixed, [0, 0, 0]).shape).toBe('m');
    const m = roundTrip(mixed).values;
    expect(m).toEqual(mixed);
    expect((m[1] as { other: unknown }).other).toBeInstanceOf(Map);
  });

  it('rejects what it cannot carry unchanged, naming the field', () => {
    // A field of the columnar shape.
    let e = encodeError([{ id: 1, price: new Money(5) }, { id: 2, price: new Money(6) }]);
    expect(e.message).toContain("record field 'price' holds an instance of class Money");
    expect(e.field).toBe('price');
    expect(e.record).toContain('"id":1');
    // Nested inside a field.
    e = encodeError([{ id: 1, order: { lines: [{ total: new Money(1) }] } }]);
    expect(e.message).toContain("record field 'order.lines[0].total' holds an instance of class Money");
    // Whole-batch msgpack (shapes differ), a function inside a Map.
    e = encodeError([{ a: 1 }, { b: new Map([['f', () => 1]]) }]);
    expect(e.message).toContain("record field 'b<Map value of \"f\">' holds a function");
    // A record that is a class instance.
    e = encodeError([new Money(1)]);
    expect(e.message).toContain('the record holds an instance of class Money');
  });
});

describe('batch codec and V8 object layouts', () => {
  it('keeps numbers exactly: integers at the 32-bit edges, -0, fractions, NaN and infinities', () => {
    const xs = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 0.5, -2.25, Number.MAX_SAFE_INTEGER, 1e300, NaN, Infinity, -Infinity];
    const values = xs.map((x) => ({ x, tag: 'n' }));
    const back = roundTrip(values).values as { x: number }[];
    back.forEach((r, i) => expect(Object.is(r.x, xs[i]), `x = ${xs[i]}`).toBe(true));
  });

  it("decodes records with the layout the sender's records of that shape have in the thread (a small integer stays one)", () => {
    // A number read from a Float64Array is a heap number: put in a field that the thread's own
    // records hold as a small integer, it changed the shape's layout, and every record the source
    // then made had to be migrated (about a fifth of a task manager thread in Nexmark q18 at p2).
    const fixture = fileURLToPath(new URL('./fixtures/codec-object-layout.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', fixture], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ decodedLikeSource: true, sourceUnchanged: true });
  });
});
