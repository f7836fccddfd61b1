/**
 * A snapshot of an LMDB backend whose whole state is in its cache: nothing was ever sent to LMDB
 * and nothing is buffered below the cache (small state, the common case, and any state between
 * its first write and its first snapshot while it fits in the cache: see StateAccess.tick). The
 * writer thread is not involved, and the dirty entries need not be written to LMDB and read back.
 *
 * At the barrier only the view is fixed: the live entries are grouped by key group, values that
 * cannot change afterwards are kept as they are (primitives, TTL wrappers of primitives: the
 * backend replaces wrappers, never mutates them, and every value of a value state whose values
 * are only ever replaced: StateTable.valuesImmutable), and every other value (an accumulator the
 * user's function changes in place) is encoded at once. Map states' cached maps are complete then
 * (nothing of them is below the cache): each one's present entries are copied at the barrier, their
 * values kept or encoded by the same rule, and written after the key group's single values. The entries are then encoded into the snapshot file
 * format (the same as the writer thread's) in slices between the processing of records.
 *
 * The bytes of the last such snapshot are kept (when at most RETAIN_BYTES; a cache snapshot has at
 * most 2 x flushEvery entries, e.g. about 1.5 MiB for 65k counters) and each entry remembers where
 * it was written there (`CachedPoint.recordAt`, `recordGen`): the next snapshot copies its key from
 * there instead of encoding it, and copies the whole entry when the value is an immutable one
 * that was written there (`recordOf`: an unchanged counter). Per entry that is three fields, no
 * extra object or string (strings made every entry's record a GC cost larger than the encoding).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { KeyGroupRange } from '../key-groups.ts';
import { encodeKeyView, pushKey, type KeyPart } from '../layout.ts';
import { EntryWriter } from '../snapshot/entry-file.ts';
import type { KeyGroupBlock } from '../snapshot/keyed-state-handle.ts';
import type { StateKey } from '../key-groups.ts';
import { DELETED, type StateTable } from './layers.ts';
import { CachedMap } from './map-cache.ts';
import { entryKeyGroup, entryOwnerIndex, isLive, type CachedPoint } from './point-cache.ts';

/** A value encoded at the barrier (its own copy of the bytes). */
class Encoded {
  constructor(readonly bytes: Uint8Array) {}
}

interface Group {
  kg: number;
  entries: CachedPoint[];
  /** As stored at the barrier, or Encoded. */
  values: unknown[];
  /** The map states' maps of the key group, as they were at the barrier. */
  maps?: MapAtBarrier[];
}

/** One key's map of a map state at the barrier: user keys and values (as stored, or Encoded), alternating. */
interface MapAtBarrier {
  state: string;
  key: StateKey;
  pairs: unknown[];
}

/** `CachedPoint.recordOf` of an entry whose written value cannot be reused (an object, which may have changed in place). */
const NOT_REUSABLE = Symbol('not reusable');
/** The last cache snapshot's bytes are kept for the next one up to this size. */
const RETAIN_BYTES = 16 << 20;

/** Work done by cache snapshots, for tests that bound it. */
export interface CacheSnapshotWork {
  /** LMDB keys encoded (an entry not found in the last snapshot's bytes). */
  keysEncoded: number;
  /** Values encoded (at the barrier or while writing). */
  valuesEncoded: number;
  /** Entries copied whole from the last snapshot's bytes (key and value unchanged). */
  entriesReused: number;
}

/** The bytes of one finished cache snapshot, by file offset. */
interface Written {
  gen: number;
  chunks: Buffer[];
  /** File offset of each chunk's first byte. */
  starts: number[];
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

/** Cache snapshots of one backend (keeps the last one's bytes for the next). */
export class CacheSnapshotter {
  readonly work: CacheSnapshotWork = { keysEncoded: 0, valuesEncoded: 0, entriesReused: 0 };
  private gen = 0;
  private last: Written | undefined;

  /** Forgets the last snapshot's bytes (restore: the cache is dropped). */
  reset(): void {
    this.last = undefined;
  }

  /** Fixes the view of the point states' caches now (expired TTL entries left out) and encodes it as it is read. */
  snapshot(
    tables: Iterable<StateTable>,
    range: KeyGroupRange,
    now: number,
    encode: (v: unknown) => Uint8Array,
    /** Called once every byte is handed out, with them: chunk `i` starts at file offset `starts[i]`. */
    afterWritten?: (gen: number, entries: number, chunks: readonly Buffer[], starts: readonly number[]) => void,
  ): CacheSnapshot {
    const work = this.work;
    const byGroup: Group[] = [];
    /** The states by their index in the cache (an entry names its state by that index). */
    const byIndex: StateTable[] = [];
    let entries = 0;
    for (const t of tables) {
      byIndex[t.cacheIndex] = t;
      const ttl = t.ttl !== undefined;
      if (t.kind === 'map') {
        entries += this.mapsAtBarrier(t, range, now, encode, byGroup);
        continue;
      }
      for (const e of t.cache.values()) {
        const s = e.stored;
        if (s === DELETED) continue;
        if (ttl && (s as [number])[0] <= now) continue;
        const kg = entryKeyGroup(e);
        const g = (byGroup[kg - range.start] ??= { kg, entries: [], values: [] });
        g.entries.push(e);
        if (t.valuesImmutable || immutable(ttl ? (s as [number, unknown])[1] : s)) {
          g.values.push(s);
        } else {
          g.values.push(new Encoded(Uint8Array.from(encode(s))));
          work.valuesEncoded++;
        }
        entries++;
      }
    }
    const gen = ++this.gen;
    const w = new EntryWriter();
    const self = this;
    async function* chunks(): AsyncIterable<Uint8Array> {
      // What the last snapshot wrote, when it is kept: entries written there are copied from it.
      const last = self.last;
      const lastGen = last?.gen ?? -2; // never an entry's recordGen (-1: not written yet)
      let ci = 0;
      const written: Buffer[] = [];
      let n = 0;
      // One array for every entry's key parts (stateKeyPrefix's layout), not a new one each.
      const parts: KeyPart[] = [];
      let sliceStart = performance.now();
      /** Once the slice's time is up: hands out the chunks filled so far and yields to the event loop. */
      async function* pause(): AsyncGenerator<Uint8Array> {
        if (performance.now() - sliceStart < SLICE_MS) return;
        for (const c of w.takeReady()) {
          written.push(c);
          yield c;
        }
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
      for (const g of byGroup) {
        if (g === undefined) continue;
        w.beginKeyGroup(g.kg);
        const { entries: es, values } = g;
        for (let j = 0; j < es.length; j++) {
          const e = es[j]!;
          const v = values[j];
          const encoded = v instanceof Encoded;
          let src: Buffer | undefined;
          let at = 0;
          if (e.recordGen === lastGen) {
            // Entries come in about the same order every time: the chunk is found by moving on from the last one.
            at = e.recordAt;
            const starts = last!.starts;
            if (at < starts[ci]!) ci = 0;
            while (ci + 1 < starts.length && at >= starts[ci + 1]!) ci++;
            src = last!.chunks[ci]!;
            at -= starts[ci]!;
          }
          if (src !== undefined && !encoded && Object.is(v, e.recordOf)) {
            // Unchanged since the last snapshot (an immutable value: a primitive, or a TTL wrapper the backend replaces on write).
            w.addEntryFrom(src, at);
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
            if (src !== undefined) {
              w.addWithKeyFrom(src, at, bytes);
            } else {
              parts.length = 0;
              parts.push(g.kg, byIndex[entryOwnerIndex(e)]!.name);
              w.add(encodeKeyView(pushKey(parts, e.key)), bytes);
              work.keysEncoded++;
            }
          }
          if (isLive(e)) {
            e.recordGen = gen;
            e.recordAt = w.lastOffset;
            e.recordOf = encoded ? NOT_REUSABLE : v;
          }
          if (++n % CHECK_EVERY === 0) yield* pause();
        }
        for (const m of g.maps ?? []) {
          parts.length = 0;
          parts.push(g.kg, m.state);
          pushKey(parts, m.key);
          const prefix = parts.length;
          const pairs = m.pairs;
          for (let i = 0; i < pairs.length; i += 2) {
            const v = pairs[i + 1];
            // The value first, then the key (both encoders hand out views into shared buffers; add copies both).
            let bytes: Uint8Array;
            if (v instanceof Encoded) bytes = v.bytes;
            else {
              bytes = encode(v);
              work.valuesEncoded++;
            }
            parts.length = prefix;
            w.add(encodeKeyView(pushKey(parts, pairs[i] as StateKey)), bytes);
            work.keysEncoded++;
            if (++n % CHECK_EVERY === 0) yield* pause();
          }
        }
        w.endKeyGroup();
      }
      for (const c of w.finish()) {
        written.push(c);
        yield c;
      }
      const starts: number[] = [];
      let off = 0;
      for (const c of written) {
        starts.push(off);
        off += c.length;
      }
      if (w.totalBytes <= RETAIN_BYTES && self.gen === gen) {
        self.last = { gen, chunks: written, starts };
      } else if (self.gen === gen) {
        self.last = undefined;
      }
      afterWritten?.(gen, entries, written, starts);
    }
    return { entries, chunks: chunks(), blocks: () => w.blocks };
  }

  /**
   * Fixes the view of map state `t`'s cached maps (complete: nothing of them is below the cache)
   * into their key groups: each map's present entries as pairs, a value encoded at once unless it
   * cannot change afterwards (the map's values are only ever replaced, or a primitive). Returns how
   * many entries.
   */
  private mapsAtBarrier(t: StateTable, range: KeyGroupRange, now: number, encode: (v: unknown) => Uint8Array, byGroup: Group[]): number {
    const ttl = t.ttl !== undefined;
    let entries = 0;
    for (const e of t.cache.values()) {
      const cm = e.stored;
      if (!(cm instanceof CachedMap) || !cm.complete) throw new Error(`cache snapshot of map state '${t.name}': a cached map is not complete (the cache is not the whole state)`);
      const pairs: unknown[] = [];
      for (const k of cm.known.values()) {
        const s = k.stored;
        if (s === DELETED) continue;
        if (ttl && (s as [number])[0] <= now) continue;
        if (t.valuesImmutable || immutable(ttl ? (s as [number, unknown])[1] : s)) pairs.push(k.uk, s);
        else {
          pairs.push(k.uk, new Encoded(Uint8Array.from(encode(s))));
          this.work.valuesEncoded++;
        }
      }
      if (pairs.length === 0) continue;
      const kg = entryKeyGroup(e);
      const g = (byGroup[kg - range.start] ??= { kg, entries: [], values: [] });
      (g.maps ??= []).push({ state: t.name, key: e.key, pairs });
      entries += pairs.length / 2;
    }
    return entries;
  }
}
