/**
 * A snapshot of an LMDB backend whose whole state is in its cache: nothing was ever sent to LMDB
 * and nothing is buffered below the cache (small state, the common case). The entries are encoded
 * on the processing thread at the barrier, as the heap backend does, into the same file format as
 * the writer thread's snapshots; the writer thread is not involved, and the dirty entries need not
 * be written to LMDB and read back. Compared with writing them back, the synchronous part is the
 * same encoding (the backend leaves this path once more than its dirty bound would be encoded).
 */
import type { KeyGroupRange } from '../key-groups.ts';
import { encodeKeyView, stateKeyPrefix } from '../layout.ts';
import { EntryWriter } from '../snapshot/entry-file.ts';
import type { KeyGroupBlock } from '../snapshot/keyed-state-handle.ts';
import { DELETED, type StateTable } from './layers.ts';
import type { CachedPoint } from './point-cache.ts';

export interface EncodedSnapshot {
  chunks: Buffer[];
  blocks: KeyGroupBlock[];
  entries: number;
}

/** Encodes the live entries of the point states' caches, one block per key group (expired TTL entries left out). */
export function encodeCacheSnapshot(tables: Iterable<StateTable>, range: KeyGroupRange, now: number, encode: (v: unknown) => Uint8Array): EncodedSnapshot {
  const byGroup: CachedPoint[][] = [];
  let entries = 0;
  for (const t of tables) {
    const ttl = t.ttl !== undefined;
    for (const e of t.cache.values()) {
      const s = e.stored;
      if (s === DELETED) continue;
      if (ttl && (s as [number])[0] <= now) continue;
      const i = e.kg - range.start;
      (byGroup[i] ??= []).push(e);
      entries++;
    }
  }
  const w = new EntryWriter();
  for (let i = 0; i < byGroup.length; i++) {
    const group = byGroup[i];
    if (group === undefined) continue;
    w.beginKeyGroup(range.start + i);
    for (let j = 0; j < group.length; j++) {
      const e = group[j]!;
      // Both encoders hand out views into shared buffers: the value is encoded first, then the key; add copies both.
      const value = encode(e.stored);
      w.add(encodeKeyView(stateKeyPrefix(e.kg, (e.owner as StateTable).name, e.key)), value);
    }
    w.endKeyGroup();
  }
  return { chunks: w.finish(), blocks: w.blocks, entries };
}
