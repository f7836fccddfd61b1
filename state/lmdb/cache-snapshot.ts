/**
 * A snapshot of an LMDB backend whose whole state is in its cache: nothing was ever sent to LMDB
 * and nothing is buffered below the cache (small state, the common case). The writer thread is not
 * involved, and the dirty entries need not be written to LMDB and read back.
 *
 * At the barrier only the view is fixed: the live entries are grouped by key group, values that
 * cannot change afterwards are kept as they are (primitives, and TTL wrappers of primitives: the
 * backend replaces wrappers, never mutates them), and every other value (an object the operator
 * may mutate in place) is encoded at once. The entries are then encoded into the snapshot file
 * format (the same as the writer thread's) in slices between the processing of records.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { KeyGroupRange } from '../key-groups.ts';
import { encodeKeyView, pushKey, type KeyPart } from '../layout.ts';
import { EntryWriter } from '../snapshot/entry-file.ts';
import type { KeyGroupBlock } from '../snapshot/keyed-state-handle.ts';
import { DELETED, type StateTable } from './layers.ts';
import type { CachedPoint } from './point-cache.ts';

/** A value encoded at the barrier (its own copy of the bytes). */
class Encoded {
  constructor(readonly bytes: Uint8Array) {}
}

interface Group {
  kg: number;
  entries: CachedPoint[];
  /** As stored at the barrier, or Encoded. */
  values: unknown[];
}

export interface CacheSnapshot {
  entries: number;
  chunks: AsyncIterable<Uint8Array>;
  /** Valid once `chunks` is exhausted. */
  blocks(): KeyGroupBlock[];
}

function immutable(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

/**
 * Time spent encoding between yields to the event loop (checked every CHECK_EVERY entries). By
 * time, not count: each yield waits for one batch of every task on the thread, which is long for a
 * slow, back-pressured task, so a fixed count made snapshots take many such waits.
 */
const SLICE_MS = 8;
const CHECK_EVERY = 512;

/** Fixes the view of the point states' caches now (expired TTL entries left out) and encodes it as it is read. */
export function snapshotCache(tables: Iterable<StateTable>, range: KeyGroupRange, now: number, encode: (v: unknown) => Uint8Array): CacheSnapshot {
  const byGroup: Group[] = [];
  let entries = 0;
  for (const t of tables) {
    const ttl = t.ttl !== undefined;
    for (const e of t.cache.values()) {
      const s = e.stored;
      if (s === DELETED) continue;
      if (ttl && (s as [number])[0] <= now) continue;
      const i = e.kg - range.start;
      const g = (byGroup[i] ??= { kg: e.kg, entries: [], values: [] });
      g.entries.push(e);
      g.values.push(immutable(ttl ? (s as [number, unknown])[1] : s) ? s : new Encoded(Uint8Array.from(encode(s))));
      entries++;
    }
  }
  const w = new EntryWriter();
  async function* chunks(): AsyncIterable<Uint8Array> {
    let n = 0;
    // One array for every entry's key parts (stateKeyPrefix's layout), not a new one each.
    const parts: KeyPart[] = [];
    let sliceStart = performance.now();
    for (const g of byGroup) {
      if (g === undefined) continue;
      w.beginKeyGroup(g.kg);
      const { entries: es, values } = g;
      for (let j = 0; j < es.length; j++) {
        const e = es[j]!;
        const v = values[j];
        // Both encoders hand out views into shared buffers: the value is encoded first, then the key; add copies both.
        const bytes = v instanceof Encoded ? v.bytes : encode(v);
        parts.length = 0;
        parts.push(e.kg, (e.owner as StateTable).name);
        w.add(encodeKeyView(pushKey(parts, e.key)), bytes);
        if (++n % CHECK_EVERY === 0 && performance.now() - sliceStart >= SLICE_MS) {
          yield* w.takeReady();
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      w.endKeyGroup();
    }
    yield* w.finish();
  }
  return { entries, chunks: chunks(), blocks: () => w.blocks };
}
