/**
 * Snapshots of an LMDB backend taken from its cache (cache-snapshot.ts) copy each entry's key from
 * the last one's bytes, and the whole entry when the value is an unchanged immutable one (a
 * primitive, or any value of a value state, whose values are only ever replaced): a later
 * snapshot encodes no key again and no unchanged value. Counted, and every snapshot restored into both
 * backends must hold exactly the state at its barrier.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type KeyedStateBackend, type KeyedStateHandle, type LmdbKeyedStateBackend, reducingState, valueState } from '../../../state/index.ts';
import { type Fixture, at, makeFixture } from './helpers.ts';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

const count = reducingState<number>('count', (a, b) => a + b);
const obj = valueState<{ n: number }>('obj');
const mixed = valueState<unknown>('mixed');
const ttl = valueState<number>('ttl', { ttl: { ttlMs: 1_000 } });
const KEYS = 200;
const LONG = 'x'.repeat(100);

function read(b: KeyedStateBackend): unknown[] {
  const c = b.getReducingState(count);
  const o = b.getValueState(obj);
  const m = b.getValueState(mixed);
  const t = b.getValueState(ttl);
  const out: unknown[] = [];
  for (let k = 0; k < KEYS; k++) {
    at(b, k);
    out.push([c.get(), o.value(), m.value(), t.value()]);
  }
  return out;
}

async function expectRestores(handle: KeyedStateHandle, expected: unknown[]): Promise<void> {
  for (const kind of ['lmdb', 'heap'] as const) {
    const restored = await fx.open(kind, { restore: [handle] });
    expect(read(restored)).toEqual(expected);
  }
}

it('a later cache snapshot encodes no key again and no unchanged immutable value', async () => {
  const b = (await fx.open('lmdb')) as LmdbKeyedStateBackend;
  const c = b.getReducingState(count);
  const o = b.getValueState(obj);
  const m = b.getValueState(mixed);
  const t = b.getValueState(ttl);
  const mixedValue = (k: number, round: number): unknown => [k, 0.5, NaN, LONG, { k }, `s${k}`][(k + round) % 6];
  for (let k = 0; k < KEYS; k++) {
    at(b, k);
    c.add(k);
    o.update({ n: k });
    m.update(mixedValue(k, 0));
    t.update(k);
  }
  const entries = 4 * KEYS;
  const w = b.cacheSnapshotWork;
  const expected1 = structuredClone(read(b));
  const first = b.snapshot(1);
  // Changed after the barrier: must not reach the first snapshot.
  for (let k = 0; k < KEYS; k++) {
    at(b, k);
    c.add(1_000);
  }
  await expectRestores(await first, expected1);
  expect(w.keysEncoded).toBe(entries);
  expect(w.valuesEncoded).toBe(entries);
  expect(w.entriesReused).toBe(0);

  // Round 2: count changed on every key (above); on even keys the object, the mixed value and the TTL value change too.
  for (let k = 0; k < KEYS; k += 2) {
    at(b, k);
    o.update({ n: -k - 1 });
    m.update(mixedValue(k, 1));
    t.update(k + 1);
  }
  const expected2 = structuredClone(read(b));
  await expectRestores(await b.snapshot(2), expected2);
  expect(w.keysEncoded).toBe(entries); // no key encoded again
  // Encoded again: every count and the changed half of the object, mixed and TTL values. The
  // value states' objects are only ever replaced (the default serializer copies them in and out),
  // so an unchanged one is copied whole like a number.
  expect(w.valuesEncoded - entries).toBe(KEYS + 3 * (KEYS / 2));
  expect(w.entriesReused).toBe(3 * (KEYS / 2)); // the odd keys' object, mixed and TTL values
  const afterSecond = { ...w };

  // Round 3: nothing changed: every entry (the long string and the objects too) is copied whole, nothing is encoded.
  await expectRestores(await b.snapshot(3), expected2);
  expect(w.keysEncoded).toBe(entries);
  expect(w.valuesEncoded - afterSecond.valuesEncoded).toBe(0);
  expect(w.entriesReused - afterSecond.entriesReused).toBe(entries);

  // A TTL entry expiring is left out, whatever its record holds; a key cleared and written again gets its new value.
  fx.clock.advance(2_000);
  at(b, 7);
  m.clear();
  at(b, 8);
  m.clear();
  m.update(LONG.length);
  const expected4 = structuredClone(read(b));
  expect(expected4[0]).toEqual([1_000, { n: -1 }, 0.5, undefined]);
  await expectRestores(await b.snapshot(4), expected4);
  expect(b.cacheSnapshots).toBe(4);
});

it('entries are found in a last snapshot of several chunks, and not after a restore', async () => {
  const b = (await fx.open('lmdb')) as LmdbKeyedStateBackend;
  const s = b.getValueState(valueState<string>('s'));
  const n = 40_000; // about 2.4 MB of entries: three 1 MiB chunks
  const value = (k: number, round: number): string => `${round}:${k}:`.padEnd(48, 'v');
  for (let k = 0; k < n; k++) {
    at(b, k);
    s.update(value(k, 0));
  }
  await b.snapshot(1);
  for (let k = 0; k < n; k += 3) {
    at(b, k);
    s.update(value(k, 1));
  }
  const handle = await b.snapshot(2);
  const w = b.cacheSnapshotWork;
  expect(w.keysEncoded).toBe(n);
  expect(w.entriesReused).toBe(n - Math.ceil(n / 3));
  for (const kind of ['lmdb', 'heap'] as const) {
    const r = await fx.open(kind, { restore: [handle] });
    const rs = r.getValueState(valueState<string>('s'));
    for (let k = 0; k < n; k++) {
      at(r, k);
      if (rs.value() !== value(k, k % 3 === 0 ? 1 : 0)) expect([k, rs.value()]).toEqual([k, value(k, k % 3 === 0 ? 1 : 0)]);
    }
  }
  // A restore drops the cache: the next cache snapshot encodes every key again.
  const restored = (await fx.open('lmdb', { restore: [handle] })) as LmdbKeyedStateBackend;
  const rs = restored.getValueState(valueState<string>('s'));
  at(restored, 1);
  rs.update('x');
  await restored.snapshot(3);
  expect(restored.cacheSnapshotWork.keysEncoded).toBe(0); // LMDB holds state now: through the writer thread
  expect(restored.cacheSnapshots).toBe(0);
});
