/**
 * Keyed state of a savepoint lives under the savepoint's own directory (both backends, also when the
 * LMDB backend streams it from its writer thread), so checkpoint retention never deletes it and it
 * restores after any number of later checkpoints.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { valueState } from '../../../state/index.ts';
import { at, BACKENDS, makeFixture, type Fixture } from '../state/helpers.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

describe('savepoint keyed state', () => {
  const cases: [(typeof BACKENDS)[number], number | undefined][] = [['heap', undefined], ['lmdb', undefined], ['lmdb', 1]];
  for (const [kind, flushEvery] of cases) {
    it(`${kind}${flushEvery ? ' (state written through to LMDB)' : ''}: files under savepoints/sp-<id>, kept by retention, restorable`, async () => {
      const f = (fixture = await makeFixture());
      const b = await f.open(kind, flushEvery ? { flushEvery } : {});
      const count = b.getValueState(valueState<number>('count'));
      for (let k = 0; k < 200; k++) {
        at(b, `k${k}`);
        count.update(k);
      }
      const handle = await b.snapshot(5, 'savepoint');
      expect(handle.file).toMatchObject({ scope: 'savepoint', checkpointId: 5 });
      await f.storage.writeMetadata(5, { handle }, { scope: 'savepoint' });
      expect(existsSync(path.join(f.storage.location, 'savepoints', 'sp-5', handle.file!.name))).toBe(true);
      expect(existsSync(path.join(f.storage.location, 'chk-5'))).toBe(false);

      // later checkpoints, and retention keeping only the newest
      for (const id of [6, 7, 8]) {
        const h = await b.snapshot(id);
        expect(h.file?.scope).toBe('checkpoint');
        await f.storage.writeMetadata(id, { h });
      }
      expect(await f.storage.applyRetention(1)).toEqual([6, 7]);

      const saved = await f.storage.readCompleted(5, { scope: 'savepoint' });
      const restored = await f.open(kind, { restore: [(saved.metadata as { handle: typeof handle }).handle] });
      const again = restored.getValueState(valueState<number>('count'));
      for (const k of [0, 99, 199]) {
        at(restored, `k${k}`);
        expect(again.value()).toBe(k);
      }
    });
  }
});
