/**
 * Deterministic text the generator slices its strings from. Taking an O(1) substring of a large
 * random pool replaces building each string character by character (the reference's way), which
 * was most of the cost of generation; the characters still follow the reference's alphabet rules.
 */

const INV32 = 1 / 4294967296;

/** A small counter-based PRNG (mulberry32); the generator inlines the same steps per event. */
export class Mulberry32 {
  constructor(private s: number) {}
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), this.s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  next(): number {
    return this.u32() * INV32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Size of the letter pool `extra` fields are cut from; larger than any extra (avg sizes are < 1 KiB). */
export const LETTERS_POOL_SIZE = 1 << 20;
/** Size of the pool for names and descriptions (letters with about 1 in 13 spaces). */
export const WORDS_POOL_SIZE = 1 << 16;
/** Credit card pool: groups of 4 digits each followed by a space. */
export const CARD_GROUPS = 1 << 16;
export const CHANNELS = 10_000;
export const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'] as const;

export interface Pools {
  /** Only 'a'..'z' (the reference's nextExactString alphabet). */
  readonly letters: string;
  /** 'a'..'z' and ' ' with probability 1/13 (the reference's nextString alphabet). */
  readonly words: string;
  /** "dddd dddd ..." so a card is a 19-character slice starting at a multiple of 5. */
  readonly cards: string;
  readonly channelNames: readonly string[];
  readonly channelUrls: readonly string[];
  readonly hotUrls: readonly string[];
}

/** A concatenated string is a tree of parts in V8; converting it to a number flattens it in place, once. */
export function flatten(s: string): string {
  Number(s);
  return s;
}

function poolString(bytes: Uint8Array): string {
  // latin1 decoding yields a flat one-byte string, which V8 slices without copying.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function wordChars(rng: Mulberry32, len: number, space: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(rng.int(13) === 0 ? space : 97 + rng.int(26));
  return s;
}

/** Java's Integer.reverse: the 32 bits of `v` in reverse order, as a signed int. */
export function reverseBits32(v: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) {
    r = (r << 1) | ((v >>> i) & 1);
  }
  return r | 0;
}

function baseUrl(rng: Mulberry32): string {
  const part = () => wordChars(rng, 3 + rng.int(2), 95 /* '_' */);
  return flatten(`https://www.nexmark.com/${part()}/${part()}/${part()}/item.htm?query=1`);
}

const cache = new Map<number, Pools>();

export function poolsForSeed(seed: number): Pools {
  let pools = cache.get(seed);
  if (pools !== undefined) return pools;
  const rng = new Mulberry32(Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) ^ 0x1234567);
  const letters = new Uint8Array(LETTERS_POOL_SIZE);
  for (let i = 0; i < letters.length; i++) letters[i] = 97 + rng.int(26);
  const words = new Uint8Array(WORDS_POOL_SIZE);
  for (let i = 0; i < words.length; i++) words[i] = rng.int(13) === 0 ? 32 : 97 + rng.int(26);
  const cards = new Uint8Array(CARD_GROUPS * 5);
  for (let i = 0; i < cards.length; i++) cards[i] = i % 5 === 4 ? 32 : 48 + rng.int(10);
  const hotUrls = HOT_CHANNELS.map(() => baseUrl(rng));
  const channelNames: string[] = [];
  const channelUrls: string[] = [];
  for (let k = 0; k < CHANNELS; k++) {
    channelNames.push(`channel-${k}`);
    const url = baseUrl(rng);
    // As in the reference, 9 in 10 channel urls carry the channel id (bit-reversed).
    channelUrls.push(rng.int(10) > 0 ? flatten(`${url}&channel_id=${Math.abs(reverseBits32(k))}`) : url);
  }
  pools = Object.freeze({
    letters: poolString(letters),
    words: poolString(words),
    cards: poolString(cards),
    channelNames,
    channelUrls,
    hotUrls,
  });
  cache.set(seed, pools);
  return pools;
}
