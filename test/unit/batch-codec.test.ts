import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../runtime/exchange/batch-codec.ts';

function roundTrip(values: unknown[], times?: number[]): { values: unknown[]; times: number[] } {
  const t = times ?? values.map((_, i) => i * 10);
  const encoded = encodeBatch(values, t);
  // The buffer crosses threads by transfer: decoding must work from a copy of it.
  const copy = { ...encoded, buf: encoded.buf.slice(0) };
  const decoded = decodeBatch(copy);
  return { values: decoded.values, times: Array.from(decoded.times) };
}

describe('batch codec', () => {
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
});
