/**
 * Which keys of a state may have entries in LMDB: a Bloom filter of every key written back to the
 * write-back buffer (so to LMDB). A cache miss on a key the filter has never seen (a new window's
 * key, a new auction) is answered without encoding an LMDB key and reading LMDB, as the heap backend
 * answers it with one Map lookup; like RocksDB's Bloom filters, 10 or more bits per key, a false
 * "maybe" (about 1%) only costs the read it would have cost anyway.
 *
 * Scalable: when a filter holds its capacity, a new one twice as large is added and lookups ask
 * all of them. Keys are never removed (a key deleted from LMDB stays a "maybe"). Bounded: past
 * MAX_BITS over its filters it gives up (`mightHave` is then always true, the memory is freed),
 * and a restore, which writes LMDB without passing here, makes it give up too.
 */
import type { KeyId } from '../key-codec.ts';

const FIRST_BITS = 1 << 17; // 16 KiB
/**
 * Bits per key of the first filter; the next three have 2 more each, so each one's false "maybe"
 * rate is about 0.4x the one before, and later ones stay at 16 bits (0.07%): the rates summed over
 * all filters stay near 1.5% up to 1M keys, 2% at the bound. With 10 bits
 * and 6 probes in every filter the rates added up: 13k of 500k new keys (2.6%) read LMDB in a
 * temporal join's 1M-row table load (six filters), each read a key encoded and a cold B-tree walk.
 */
const FIRST_BITS_PER_KEY = 10;
const MORE_BITS_PER_KEY = 2;
const TIGHTER_FILTERS = 3;
const PROBES = 7;
/** 32 MiB of filters: about 17M keys. */
const MAX_BITS = 1 << 28;

interface Filter {
  bits: Int32Array;
  mask: number;
  count: number;
  capacity: number;
  probes: number;
}

/**
 * Filter number `n` (0 first) of `bits` bits. Probes: 7 (the optimum for 10 bits a key) in every
 * filter, not bits x ln 2 (11 for 16 bits): each probe of an add is a cache miss in a large filter,
 * and 7 probes at 16 bits a key still give 0.07% (11: 0.05%).
 */
function newFilter(bits: number, n: number): Filter {
  const perKey = FIRST_BITS_PER_KEY + MORE_BITS_PER_KEY * Math.min(n, TIGHTER_FILTERS);
  return { bits: new Int32Array(bits >>> 5), mask: bits - 1, count: 0, capacity: Math.floor(bits / perKey), probes: PROBES };
}

let h2 = 0;

/** Two 32-bit hashes of a key id: the first returned, the second in h2. */
function hash(id: KeyId): number {
  let a: number;
  let b: number;
  if (typeof id === 'number') {
    const lo = id | 0;
    const hi = Number.isInteger(id) ? (id / 4294967296) | 0 : Math.floor(id * 1e6) | 0;
    a = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi, 0xc2b2ae35);
    b = Math.imul(lo, 0x27d4eb2f) ^ Math.imul(hi ^ 0x165667b1, 0x9e3779b1);
  } else {
    const s = typeof id === 'string' ? id : typeof id === 'boolean' ? (id ? '\u0001T' : '\u0001F') : `\u0001${id}`;
    a = 0x811c9dc5;
    b = 0x01000193;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x7feb352d);
  a ^= a >>> 15;
  b ^= b >>> 13;
  b = Math.imul(b, 0x846ca68b);
  b ^= b >>> 16;
  h2 = b | 1;
  return a;
}

export class KeyFilter {
  private filters: Filter[] = [newFilter(FIRST_BITS, 0)];
  private totalBits = FIRST_BITS;
  /** False once given up: every key is a "maybe". */
  private active = true;
  /** Keys added (for tests). */
  added = 0;

  /** Notes that `id` has (or may have) entries in LMDB. */
  add(id: KeyId): void {
    if (!this.active) return;
    let f = this.filters[this.filters.length - 1]!;
    if (f.count >= f.capacity) {
      const bits = (f.mask + 1) * 2;
      if (this.totalBits + bits > MAX_BITS) {
        this.giveUp();
        return;
      }
      f = newFilter(bits, this.filters.length);
      this.filters.push(f);
      this.totalBits += bits;
    }
    const a = hash(id);
    const b = h2;
    const words = f.bits;
    const probes = f.probes;
    for (let i = 0; i < probes; i++) {
      const bit = (a + Math.imul(i, b)) & f.mask;
      words[bit >>> 5]! |= 1 << (bit & 31);
    }
    f.count++;
    this.added++;
  }

  /** False if `id` was certainly never added. */
  mightHave(id: KeyId): boolean {
    if (!this.active) return true;
    // Nothing written back yet (a state still all in the cache): no hash.
    if (this.added === 0) return false;
    const a = hash(id);
    const b = h2;
    const fs = this.filters;
    for (let j = 0; j < fs.length; j++) {
      const f = fs[j]!;
      if (f.count === 0) continue;
      const words = f.bits;
      const probes = f.probes;
      let i = 0;
      for (; i < probes; i++) {
        const bit = (a + Math.imul(i, b)) & f.mask;
        if ((words[bit >>> 5]! & (1 << (bit & 31))) === 0) break;
      }
      if (i === probes) return true;
    }
    return false;
  }

  /** From now on every key is a "maybe" (after a restore wrote LMDB directly, or past MAX_BITS). */
  giveUp(): void {
    this.active = false;
    this.filters = [];
    this.totalBits = 0;
  }
}
