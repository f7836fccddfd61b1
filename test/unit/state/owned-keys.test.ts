/**
 * State keeps its own copy of a new key's strings (ownKey in state/key-codec.ts). A string decoded
 * from an exchange batch is a slice of the batch's column, and V8 keeps the whole parent string
 * alive for a slice of 13 or more characters: a key kept in state would hold its batch column for
 * the life of the job. Here each key is a 30-character slice of its own 1 MB string; with the slices
 * kept, the 200 keys below held about 200 MB after a full GC, with copies a few MB.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mapState, valueState } from '../../../state/index.ts';
import type { KeyedStateBackend } from '../../../state/index.ts';
import { BACKENDS, at, makeFixture, type Fixture } from './helpers.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const KEYS = 200;
const PARENT = 1_000_000;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}

/** A 30-character slice of a fresh 1 MB string, as a decoded key is a slice of its batch column. */
function slicedKey(i: number): string {
  const parent = `key-${i}-`.padEnd(PARENT, 'x') + i;
  return parent.slice(0, 30);
}

describe.each(BACKENDS)('keys kept by %s state hold no batch strings, and one copy of a new key', (kind) => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  /** Writes the key's number under the key, and reads it back: by value state or by map state user key. */
  interface Access {
    put(b: KeyedStateBackend, key: string, i: number): void;
    get(b: KeyedStateBackend, key: string): unknown;
  }
  const n = valueState<number>('n');
  const m = mapState<string, number>('m');
  const byValueState: Access = {
    put: (b, key, i) => {
      at(b, key);
      b.getValueState(n).update(i);
    },
    get: (b, key) => {
      at(b, key);
      return b.getValueState(n).value();
    },
  };
  const byMapKey: Access = {
    put: (b, key, i) => {
      at(b, 'one-key');
      b.getMapState(m).put(key, i);
    },
    get: (b, key) => {
      at(b, 'one-key');
      return b.getMapState(m).get(key);
    },
  };

  /** Heap growth (MB) after `put` of `count` keys made by `keyOf`; reading one back checks the state kept them. */
  async function growth(keyOf: (i: number) => string, count: number, access: Access): Promise<number> {
    const b = await fx.open(kind);
    const before = heapMb();
    for (let i = 0; i < count; i++) access.put(b, keyOf(i), i);
    const after = heapMb();
    expect(access.get(b, keyOf(7))).toBe(7);
    return after - before;
  }

  // Held slices would be KEYS MB; a tenth of that leaves room for the state's own structures.
  const bound = (KEYS * PARENT) / 1e6 / 10;

  it('value state keys', async () => {
    expect(await growth(slicedKey, KEYS, byValueState)).toBeLessThan(bound);
  });

  it('map state user keys', async () => {
    expect(await growth(slicedKey, KEYS, byMapKey)).toBeLessThan(bound);
  });

  // Each new key is copied once: a string key is its own id, and the copy is shared by both.
  const LONG_KEYS = 10_000;
  const CHARS = 2_000;
  /** Each key a fresh flat string the caller drops: what stays is the state's copies. */
  const longKey = (i: number): string => `${i}-`.padEnd(CHARS, 'k');
  /** One copy of every long key is 20 MB; two (an entry's id and its key copied apart) would be 40. */
  const oneCopy = (LONG_KEYS * CHARS) / 1e6;

  it('value state keys of 2,000 characters, copied once', async () => {
    const mb = await growth(longKey, LONG_KEYS, byValueState);
    expect(mb).toBeGreaterThan(oneCopy * 0.9);
    expect(mb).toBeLessThan(oneCopy * 1.5);
  });

  it('map state user keys of 2,000 characters, copied once', async () => {
    const mb = await growth(longKey, LONG_KEYS, byMapKey);
    expect(mb).toBeGreaterThan(oneCopy * 0.9);
    expect(mb).toBeLessThan(oneCopy * 1.5);
  });
});
