/**
 * Key-group hashing is a compatibility contract: keyed state is stored by key group
 * (`murmur3(key) mod maxParallelism`), so a savepoint taken by one version restores into the next
 * only if every key still lands in the same group. These golden values must never change; a change
 * to key hashing needs a state migration, not a new golden value.
 */
import { describe, expect, it } from 'vitest';
import { hashKey, keyGroupOf, keyGroupOfHash, keyGroupRangeFor, subtaskForKeyGroup } from '../../../state/key-groups.ts';

/** Murmur3_x86_32 over bytes, written from the reference algorithm, independent of the runtime's word-wise code. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const blocks = bytes.length >> 2;
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  for (let i = 0; i < blocks; i++) {
    let k = bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24);
    k = Math.imul(rotl(Math.imul(k, c1), 15), c2);
    h = (Math.imul(rotl(h ^ k, 13), 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k1 = 0;
    for (let i = rest - 1; i >= 0; i--) k1 = (k1 << 8) | bytes[tail + i]!;
    h ^= Math.imul(rotl(Math.imul(k1, c1), 15), c2);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

const utf16le = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));

describe('key-group hashing (compatibility contract)', () => {
  it('the reference murmur3 matches the published test vectors', () => {
    expect(murmur3Bytes(new Uint8Array(0), 0)).toBe(0);
    expect(murmur3Bytes(new Uint8Array(0), 1) >>> 0).toBe(0x514e28b7);
    expect(murmur3Bytes(new Uint8Array(Buffer.from('The quick brown fox jumps over the lazy dog')), 0x9747b28c) >>> 0).toBe(0x2fa826cd);
  });

  it('a string key hashes as murmur3 (seed 0) of its UTF-16LE bytes', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'shop-7', 'user-42', 'Zürich', '🙂', 'a longer key with spaces']) {
      expect(hashKey(s)).toBe(murmur3Bytes(utf16le(s), 0));
    }
  });

  // key -> [hash, key group at maxParallelism 128]
  const golden: [string | number, number, number][] = [
    ['', 0, 0],
    ['a', 1867108634, 26],
    ['shop-7', -375604689, 47],
    ['user-42', -1591625367, 105],
    ['Zürich', -1975622730, 54],
    ['🙂', 443350068, 52],
    [0, 593689054, 94],
    [1, -68075478, 42],
    [-1, 1982413648, 80],
    [42, -1134849565, 99],
    [2 ** 31, -1752133708, 52],
    [3.5, 1347587445, 117],
    [1e15, -1260146495, 65],
  ];

  for (const [key, hash, group] of golden) {
    it(`${JSON.stringify(key)} -> hash ${hash} -> key group ${group} of 128`, () => {
      expect(hashKey(key)).toBe(hash);
      expect(keyGroupOf(key, 128)).toBe(group);
    });
  }

  it('a key group is the unsigned hash modulo maxParallelism, also where it is computed as a mask (powers of two)', () => {
    const hashes = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456789, -987654321, ...Array.from({ length: 200 }, (_, i) => Math.imul(i + 1, 0x9e3779b1))];
    for (const m of [1, 2, 3, 7, 64, 100, 128, 1000, 4096, 32768]) {
      for (const h of hashes) expect(keyGroupOfHash(h, m)).toBe((h >>> 0) % m);
    }
  });

  it('key groups map to subtasks in contiguous ranges (Flink operator-index ranges)', () => {
    expect(keyGroupRangeFor(0, 2, 128)).toEqual({ start: 0, end: 63 });
    expect(keyGroupRangeFor(1, 2, 128)).toEqual({ start: 64, end: 127 });
    expect([26, 47, 105, 94].map((g) => subtaskForKeyGroup(g, 3, 128))).toEqual([0, 1, 2, 2]);
  });
});
