/**
 * The steps of Murmur3_32 (x86, 32-bit), shared by key-group hashing (`state/key-groups.ts`) and
 * Paimon's bucket hash over BinaryRow words (`connectors/lake/format/binary-row.ts`).
 * A hash is `finalize(mixBlock(...mixBlock(seed, scramble(k1))..., scramble(kn)), lengthInBytes)`.
 */

/** Scrambles one 32-bit block. */
export function scramble(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

/** Mixes a scrambled block into the running hash. */
export function mixBlock(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The final avalanche, with the input length in bytes. */
export function finalize(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
