import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, type EncodedBatch } from '../../../runtime/exchange/batch-codec.ts';
import { MAX_ENTRIES, ReceivedStrings, SentStrings } from '../../../runtime/exchange/channel-strings.ts';
import { BadRecordError } from '../../../runtime/errors.ts';

/** One channel: batches encoded against its sent strings, decoded in order against its received ones (from a copy of the bytes, as after a transfer). */
function channel() {
  const sent = new SentStrings();
  const received = new ReceivedStrings();
  return {
    sent,
    encode: (values: unknown[]) => encodeBatch(values, values.map(() => 0), undefined, undefined, sent),
    decode: (b: EncodedBatch) => decodeBatch({ ...b, buf: b.buf.slice(0) }, received).values,
  };
}

const URLS = Array.from({ length: 500 }, (_, i) => `https://www.nexmark.com/item.htm?query=1&channel_id=${i * 7919}`);
const bids = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ url: URLS[(from + i * 13) % URLS.length]!, extra: `unique-${from + i}-${'x'.repeat(i % 20)}`, price: from + i }));

describe("a channel's strings", () => {
  it('carry a column whose values recur across batches as numbers once the receiver has them, and decode to the same records', () => {
    const ch = channel();
    const sizes: number[] = [];
    for (let b = 0; b < 5; b++) {
      const values = bids(b * 1000, 1000);
      const encoded = ch.encode(values);
      sizes.push(encoded.buf.byteLength);
      expect(ch.decode(encoded)).toEqual(values);
    }
    // The first batch brings the 500 URLs; the later ones only their numbers (4 bytes a record, not about 60).
    const withoutChannel = encodeBatch(bids(4000, 1000), new Array(1000).fill(0)).buf.byteLength;
    expect(sizes[0]).toBeGreaterThan(sizes[4]! + 500 * 50);
    expect(withoutChannel - sizes[4]!).toBeGreaterThan(1000 * 40);
  });

  it('share one string object per value among the decoded records', () => {
    const ch = channel();
    ch.decode(ch.encode(bids(0, 1000)));
    const later = ch.decode(ch.encode(bids(1000, 1000))) as { url: string }[];
    const again = ch.decode(ch.encode(bids(1000, 1000))) as { url: string }[];
    expect(again[0]!.url).toBe(later[0]!.url);
    const byValue = new Map<string, string>();
    for (const r of [...later, ...again]) {
      const first = byValue.get(r.url);
      if (first === undefined) byValue.set(r.url, r.url);
      else expect(Object.is(first, r.url)).toBe(true);
    }
  });

  it('send a column of values that do not recur as UTF-8, as without a channel, but for trials ever further apart, and hold none of them', () => {
    const sent = new SentStrings();
    const received = new ReceivedStrings();
    const unique = (from: number) => Array.from({ length: 1000 }, (_, i) => ({ id: `user-${from + i}-${(from + i) * 31}` }));
    const plainBytes = (values: unknown[]) => encodeBatch(values, values.map(() => 0)).buf.byteLength;
    const trials: number[] = [];
    for (let b = 0; b < 30; b++) {
      const values = unique(b * 1000);
      const encoded = encodeBatch(values, values.map(() => 0), undefined, undefined, sent);
      expect(decodeBatch(encoded, received).values).toEqual(values);
      // A trial against the dictionary carries a number per record more.
      const extra = encoded.buf.byteLength - plainBytes(values);
      expect([0, 1000 * 4]).toContain(extra);
      if (extra > 0) trials.push(b);
      expect(sent.column('id').ids.size).toBe(trials.at(-1) === b && trials.at(-2) !== b - 1 ? 1000 : 0);
    }
    // Trials in pairs (the first on an empty dictionary cannot tell): the first two batches, then after 8 without, then after 16.
    expect(trials).toEqual([0, 1, 10, 11, 28, 29]);
  });

  it('learn a column of evenly spread values, most of them new in its first batch', () => {
    const ch = channel();
    // 10,000 values drawn evenly at random (a fixed sequence).
    const pick = (j: number) => (Math.imul(j + 1, 0x9e3779b1) ^ (Math.imul(j + 1, 0x85ebca6b) >>> 13)) >>> 0;
    const values = (b: number) => Array.from({ length: 4096 }, (_, i) => ({ city: `city-${pick(b * 4096 + i) % 10_000}` }));
    const sizes: number[] = [];
    for (let b = 0; b < 8; b++) {
      const v = values(b);
      const encoded = ch.encode(v);
      sizes.push(encoded.buf.byteLength);
      expect(ch.decode(encoded)).toEqual(v);
    }
    // All but a few of the 10,000 are known by then: the last batch is mostly its numbers.
    expect(ch.sent.column('city').ids.size).toBeGreaterThan(9000);
    expect(sizes[7]).toBeLessThan(4096 * (8 + 4) + 4000); // times and numbers, and a few new strings
    expect(sizes[0]).toBeGreaterThan(4096 * (8 + 4) + 25_000); // the first batch brought about 3,400 strings
  });

  it('keep plain string records and several string fields apart', () => {
    const ch = channel();
    for (let b = 0; b < 3; b++) {
      const strings = Array.from({ length: 300 }, (_, i) => URLS[(b + i) % 40]!);
      expect(ch.decode(ch.encode(strings))).toEqual(strings);
      const pairs = Array.from({ length: 300 }, (_, i) => ({ a: `a-${(i + b) % 30}`, b: `b-${(i * 7) % 25}`, c: URLS[i % 50]! }));
      expect(ch.decode(ch.encode(pairs))).toEqual(pairs);
    }
  });

  it('start again, at both ends, when a column would hold more than its bound', () => {
    const ch = channel();
    const hot = Array.from({ length: 40 }, (_, i) => `hot-value-${i}`);
    // Each batch: 2100 hot values first, then 1900 new ones (less than half new: the column stays in the dictionary).
    const batch = (b: number) => Array.from({ length: 4000 }, (_, i) => ({ s: i < 2100 ? hot[i % 40]! : `cold-${b}-${i}` }));
    let largest = 0;
    let restarted = false;
    for (let b = 0; b < Math.ceil(MAX_ENTRIES / 1900) + 2; b++) {
      const values = batch(b);
      expect(ch.decode(ch.encode(values))).toEqual(values);
      const size = ch.sent.column('s').ids.size;
      if (size < largest) restarted = true;
      largest = Math.max(largest, size);
    }
    expect(restarted).toBe(true);
    expect(largest).toBeLessThanOrEqual(MAX_ENTRIES);
  });

  it('fail at once when batches are decoded out of order or twice, naming the field', () => {
    const ch = channel();
    // Each batch brings 100 URLs the one before did not have.
    const growing = (k: number) => Array.from({ length: 1000 }, (_, i) => ({ url: URLS[i % (100 * (k + 1))]! }));
    const first = ch.encode(growing(0));
    const second = ch.encode(growing(1));
    const third = ch.encode(growing(2));
    ch.decode(first);
    expect(() => ch.decode(third)).toThrow(/string field 'url'.*holds 100 strings, but the batch continues from 200/);
    ch.decode(second);
    expect(() => ch.decode(second)).toThrow(/string field 'url'.*holds 200 strings, but the batch continues from 100/);
    expect(() => decodeBatch(third)).toThrow(/string field 'url' refers to the strings of its channel/);
  });

  it('start again after a batch that failed on a bad record, so the receiver, which never got it, stays in step', () => {
    const ch = channel();
    class Money {
      constructor(readonly cents: number) {}
    }
    // 200 records: the first 100 over 50 URLs the channel knows, the rest over `fresh` URLs it does not (the URL comes before the amount).
    const values = (fresh: number, bad: boolean) =>
      Array.from({ length: 200 }, (_, i) => ({ url: i < 100 ? URLS[i % 50]! : URLS[50 + fresh + (i % 20)]!, amount: bad && i === 150 ? new Money(1) : { cents: i } }));
    expect(ch.decode(ch.encode(values(0, false)))).toEqual(values(0, false));
    // The URL column learns 20 new strings, then the record at 150 cannot be carried.
    expect(() => ch.encode(values(100, true))).toThrow(BadRecordError);
    const next = values(200, false);
    expect(ch.decode(ch.encode(next))).toEqual(next);
    expect(ch.decode(ch.encode(values(0, false)))).toEqual(values(0, false));
  });
});
