import { describe, expect, it } from 'vitest';
import {
  BinaryRowWriter, decodeBinaryRow, decodeSerializedRow, encodeSerializedRow, hashBinaryRow, nullBitsSize,
} from '../../../connectors/lake/format/binary-row.ts';
import { T, type DataType } from '../../../connectors/lake/schema/types.ts';
import { rng } from './helpers.ts';

const ALL: DataType[] = [
  T.boolean(), T.tinyint(), T.smallint(), T.int(), T.bigint(), T.float(), T.double(), T.decimal(10, 2), T.decimal(30, 5),
  T.string(), T.bytes(), T.date(), T.timestamp(3), T.timestamp(9), T.timestampLtz(6), T.char(3), T.varchar(20),
];

describe('BinaryRow', () => {
  it('round trips every atomic type, with nulls and long and short variable-length values', () => {
    const rows: unknown[][] = [
      [true, -128, 32767, -2147483648, -(2n ** 63n), 1.5, -2.25, '12345678.99', '-1234567890123456789012345.12345',
        'short', new Uint8Array([1, 2, 3]), 19000, 1_700_000_000_123_000_000n, -1_234_567_890_123_456_789n, 5_000n, 'abc', 'a much longer string here'],
      ALL.map(() => null),
      [false, 0, 0, 0, 0n, 0, 0, '0.00', '0.00000', '', new Uint8Array(0), 0, 0n, 0n, 0n, '', 'exactly7'],
    ];
    for (const r of rows) {
      const bytes = encodeSerializedRow(ALL, r);
      expect(decodeSerializedRow(ALL, bytes)).toEqual(r);
    }
  });

  it('matches Java bytes for a partition row and a key row (from a Java manifest)', () => {
    const partition = Buffer.from('0000000100000000000000000a00000000000000', 'hex');
    expect(decodeSerializedRow([T.int()], partition)).toEqual([10]);
    expect(Buffer.from(encodeSerializedRow([T.int()], [10])).equals(partition)).toBe(true);
    const key = Buffer.from('000000020000000000000000416c6963650000850100000000000000', 'hex');
    expect(decodeSerializedRow([T.string(), T.int()], key)).toEqual(['Alice', 1]);
    expect(Buffer.from(encodeSerializedRow([T.string(), T.int()], ['Alice', 1])).equals(key)).toBe(true);
  });

  it('random rows round trip and hash like a fresh encode', () => {
    const r = rng(7);
    const types = [T.int(), T.string(), T.bigint(), T.decimal(20, 4), T.timestamp(6)];
    const w = new BinaryRowWriter(types);
    for (let i = 0; i < 500; i++) {
      const row = [
        r() < 0.1 ? null : Math.floor(r() * 2 ** 31) - 2 ** 30,
        r() < 0.1 ? null : 'x'.repeat(Math.floor(r() * 30)),
        r() < 0.1 ? null : BigInt(Math.floor(r() * 2 ** 52)) * (r() < 0.5 ? -1n : 1n),
        r() < 0.1 ? null : `${Math.floor(r() * 1e9)}.${String(Math.floor(r() * 1e4)).padStart(4, '0')}`,
        r() < 0.1 ? null : BigInt(Math.floor(r() * 2 ** 50)) * 1000n,
      ];
      const size = w.encode(row);
      expect(size % 8).toBe(0);
      expect(size).toBeGreaterThanOrEqual(nullBitsSize(types.length) + 8 * types.length);
      const copy = w.copy();
      expect(decodeBinaryRow(types, copy)).toEqual(row);
      expect(w.hash()).toBe(hashBinaryRow(copy));
    }
  });
});
