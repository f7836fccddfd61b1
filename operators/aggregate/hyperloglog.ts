/**
 * HyperLogLog (Flajolet et al. 2007) over Weir's Murmur3 key hash, as a plain Uint8Array of
 * 2^precision registers, so the sketch itself is what keyed state stores (msgpack keeps typed
 * arrays as binary) and two sketches merge by taking register maxima. Standard error is
 * 1.04 / sqrt(2^precision): 1.6 % at the default precision 12 (4 KiB per sketch).
 *
 * Why not a library: bloom-filters' HyperLogLog (the maintained pure-JS one on npm) took 170 us per
 * update and was 49 % low at 1000 distinct values; the others need native builds.
 */
import { hashKey, type StateKey } from '../../state/key-groups.ts';

export const DEFAULT_HLL_PRECISION = 12;

export function createSketch(precision = DEFAULT_HLL_PRECISION): Uint8Array {
  if (!(Number.isInteger(precision) && precision >= 4 && precision <= 16)) throw new RangeError(`HyperLogLog precision must be a whole number in 4..16, got ${precision}`);
  return new Uint8Array(1 << precision);
}

function precisionOf(sketch: Uint8Array): number {
  return 31 - Math.clz32(sketch.length);
}

/** A second mix so that values whose hashes share low bits (keys of one key group) spread over registers. */
function mix(h: number): number {
  h ^= 0x9e3779b9;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Adds a value; returns true if a register grew (so the sketch needs writing back). */
export function sketchAdd(sketch: Uint8Array, value: StateKey): boolean {
  const p = precisionOf(sketch);
  const h = mix(hashKey(value));
  const idx = h >>> (32 - p);
  const w = (h << p) >>> 0;
  const rank = w === 0 ? 32 - p + 1 : Math.clz32(w) + 1;
  if (rank <= sketch[idx]!) return false;
  sketch[idx] = rank;
  return true;
}

export function sketchMerge(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`cannot merge HyperLogLog sketches of ${a.length} and ${b.length} registers: use one precision`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! > b[i]! ? a[i]! : b[i]!;
  return out;
}

const TWO_32 = 2 ** 32;

export function sketchEstimate(sketch: Uint8Array): number {
  const m = sketch.length;
  let z = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    const r = sketch[i]!;
    z += 1 / 2 ** r;
    if (r === 0) zeros++;
  }
  const alpha = m >= 128 ? 0.7213 / (1 + 1.079 / m) : m === 64 ? 0.709 : m === 32 ? 0.697 : 0.673;
  const e = (alpha * m * m) / z;
  // Linear counting is the better estimate up to about 3 m (raw HLL is biased high there).
  if (zeros > 0) {
    const lc = m * Math.log(m / zeros);
    if (lc <= 3 * m) return lc;
  }
  if (e > TWO_32 / 30) return -TWO_32 * Math.log(1 - e / TWO_32);
  return e;
}
