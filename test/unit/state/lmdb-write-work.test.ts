/**
 * Work per key of the LMDB backend when a large table is loaded (a temporal join's dimension table:
 * every key new, written once), counted, not timed: the LMDB gets new keys cost through false
 * "maybe"s of the key filter, and the key encoding of write-backs (the state name's bytes once
 * per key group, not once per key).
 */
import { expect, it } from 'vitest';
import { decodeKeyBytes, encodeKeyView, stateKeyPrefix, StateKeyEncoder } from '../../../state/layout.ts';
import { KeyFilter } from '../../../state/lmdb/key-filter.ts';

it('a key filter of 500k keys answers "maybe" for fewer than 2% of new keys (its later filters are tighter)', () => {
  // Six filters by then; at 10 bits and 6 probes each their false rates added up to about 4%.
  for (const id of [(i: number) => i, (i: number) => `room-${i}`]) {
    const f = new KeyFilter();
    for (let i = 0; i < 500_000; i++) f.add(id(i));
    for (let i = 0; i < 500_000; i += 997) expect(f.mightHave(id(i))).toBe(true);
    let maybe = 0;
    for (let i = 500_000; i < 600_000; i++) if (f.mightHave(id(i))) maybe++;
    expect(maybe).toBeLessThan(2000);
  }
});

it('a state key encoded as a cached [keyGroup, name] prefix and its key tail is the bytes of the whole key', () => {
  const keys = [0, -0, 1, -1, 7.5, -7.5, 2 ** 40, -(2 ** 53), 1e-300, Number.MAX_VALUE, '', 'a', '\u0001x', '\u0003', 'é€😀', 'x'.repeat(80), true, false, 12n, -3n, [1, 'a'], ['', 0, true], [5n, -0]] as const;
  for (const name of ['temporal-join-dimension', 'v', 'ü\u0004']) {
    const enc = new StateKeyEncoder(name);
    for (const kg of [0, 1, 127, 32767]) {
      for (const key of keys) {
        const k = key as Parameters<typeof stateKeyPrefix>[2];
        const whole = Buffer.from(encodeKeyView(stateKeyPrefix(kg, name, k)));
        const head = enc.prefix(kg);
        const split = Buffer.concat([head, enc.tail(k)]);
        expect(split.equals(whole), `${name} ${kg} ${String(key)}`).toBe(true);
        expect(decodeKeyBytes(split)).toEqual(stateKeyPrefix(kg, name, k));
        expect(enc.prefix(kg)).toBe(head); // encoded once per key group
      }
    }
  }
});

it("loading a table writes each new key back once (from the first snapshot's bytes when it fits in the cache), without a layer entry; reads stay right when entries are evicted before their batch commits", async () => {
  const { makeFixture, at } = await import('./helpers.ts');
  const { valueState, sharedPlainData } = await import('../../../state/index.ts');
  type Row = { id: number; name: string };
  const fx = await makeFixture();
  try {
    for (const [cacheEntries, flushEvery] of [[1_000_000, 64], [64, 16]] as const) {
      const b = (await fx.open('lmdb', { flushEvery, cacheEntries })) as import('../../../state/index.ts').LmdbKeyedStateBackend;
      const v = b.getValueState(valueState<[number, Row]>('versions', { serializer: sharedPlainData() }));
      const n = 3000;
      for (let k = 0; k < n; k++) {
        at(b, k);
        expect(v.value()).toBeUndefined();
        v.update([0, { id: k, name: `room-${k}` }]);
        // a key read back a few keys later: from the cache, a layer (evicted) or LMDB
        if (k >= 5) {
          at(b, k - 5);
          expect(v.value()).toEqual([0, { id: k - 5, name: `room-${k - 5}` }]);
        }
      }
      const work = b.pointWriteBacks;
      if (cacheEntries > n) {
        // The table fits in the cache, which is the whole state until the first snapshot: nothing
        // is encoded or sent to LMDB while it loads.
        expect(work).toEqual({ direct: 0, layered: 0 });
        expect(b.batchesSent).toBe(0);
      } else {
        // Entries written into a batch are evicted soon after, often before it commits: a layer
        // holds them then (the reads above check they are found).
        expect(work.direct).toBeGreaterThan(0);
        expect(work.layered).toBeGreaterThan(0);
      }
      for (let k = 0; k < n; k++) {
        at(b, k);
        expect(v.value()).toEqual([0, { id: k, name: `room-${k}` }]);
      }
      const handle = await b.snapshot(1);
      await b.snapshotWriteBackDone();
      if (cacheEntries > n) {
        // The first snapshot encodes each row once, from the cache, and LMDB gets those bytes:
        // each new key written back once, with no layer entry and no second encoding.
        expect(b.cacheSnapshotWork.valuesEncoded).toBe(n);
        expect(b.pointWriteBacks).toEqual({ direct: n, layered: 0 });
        expect(b.batchesSent).toBeGreaterThan(0);
      }
      const restored = await fx.open('heap', { restore: [handle] });
      const rv = restored.getValueState(valueState<[number, Row]>('versions', { serializer: sharedPlainData() }));
      for (let k = 0; k < n; k += 7) {
        at(restored, k);
        expect(rv.value()).toEqual([0, { id: k, name: `room-${k}` }]);
      }
    }
  } finally {
    await fx.cleanup();
  }
});
