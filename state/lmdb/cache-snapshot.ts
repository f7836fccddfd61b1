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
 *
 * Each entry keeps what it was written as (`CachedPoint.record`, a latin1 string of the entry's
 * bytes in the file): the next snapshot copies the key from it instead of encoding it again, and
 * copies the whole entry when the value is an immutable one it still holds (an unchanged counter).
 * Only entries of such snapshots keep a record, and they happen only while the whole cache holds
 * at most 2 x flushEvery entries, so the records take at most about that many times 50 bytes.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { KeyGroupRange } from '../key-groups.ts';
import { encodeKeyView, pushKey, type KeyPart } from '../layout.ts';
import { EntryWriter, recordKeyEnd } from '../snapshot/entry-file.ts';
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

/** `CachedPoint.recordOf` of an entry whose record's value cannot be reused (an object, which may have changed in place). */
const NOT_REUSABLE = Symbol('not reusable');
/** Longest value a record keeps (a longer one, e.g. a long string, would take its size again in memory). */
const MAX_KEPT_VALUE = 24;

/** Work done by cache snapshots, for tests that bound it. */
export interface CacheSnapshotWork {
  /** LMDB keys encoded (an entry without a record from an earlier snapshot). */
  keysEncoded: number;
  /** Values encoded (at the barrier or while writing). */
  valuesEncoded: number;
  /** Entries copied whole from their record (key and value unchanged). */
  entriesReused: number;
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
export function snapshotCache(
  tables: Iterable<StateTable>,
  range: KeyGroupRange,
  now: number,
  encode: (v: unknown) => Uint8Array,
  work: CacheSnapshotWork = { keysEncoded: 0, valuesEncoded: 0, entriesReused: 0 },
): CacheSnapshot {
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
      if (immutable(ttl ? (s as [number, unknown])[1] : s)) {
        g.values.push(s);
      } else {
        g.values.push(new Encoded(Uint8Array.from(encode(s))));
        work.valuesEncoded++;
      }
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
        const record = e.record;
        const encoded = v instanceof Encoded;
        if (record !== undefined && !encoded && Object.is(v, e.recordOf)) {
          // Unchanged since the last snapshot (=== on an immutable value: a primitive or a TTL wrapper the backend replaces on write).
          w.addRecord(record);
          work.entriesReused++;
        } else {
          // Both encoders hand out views into shared buffers: the value is encoded first, then the key; add copies both.
          let bytes: Uint8Array;
          if (encoded) {
            bytes = v.bytes;
          } else {
            bytes = encode(v);
            work.valuesEncoded++;
          }
          if (record !== undefined) {
            w.addWithKeyOf(record, bytes);
          } else {
            parts.length = 0;
            parts.push(e.kg, (e.owner as StateTable).name);
            w.add(encodeKeyView(pushKey(parts, e.key)), bytes);
            work.keysEncoded++;
          }
          // A live entry only (one evicted since the barrier is no longer the cache's). An object's
          // record keeps only the key, made once: its value is encoded at every snapshot anyway.
          if (e.live && (!encoded || record === undefined)) {
            const r = w.lastRecord(encoded ? -1 : MAX_KEPT_VALUE);
            e.record = r;
            e.recordOf = encoded || r.length === recordKeyEnd(r) ? NOT_REUSABLE : v;
          }
        }
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
