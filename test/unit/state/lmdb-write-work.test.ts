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
