/**
 * The LMDB backend's background TTL sweep: looks at a slice of the TTL states' entries at a time
 * (going on where it stopped, round the key groups) and returns deletes for the expired ones. An
 * entry with a buffered write in any layer is left alone: its newer value must not be deleted (and
 * reads hide expired entries anyway).
 */
import type { Database } from 'lmdb';
import type { KeyGroupRange } from '../key-groups.ts';
import { encodeKeyBytes, prefixRange, type KeyPart } from '../layout.ts';
import { bufferedFor, type StateTable } from './layers.ts';

export class TtlSweeper {
  private readonly cursor: { kg: number; state: number; after: KeyPart[] | undefined } = { kg: 0, state: 0, after: undefined };

  constructor(
    private readonly db: Database<unknown, KeyPart[]>,
    private readonly range: KeyGroupRange,
  ) {}

  sweep(ttl: readonly StateTable[], now: number, budget: number): Uint8Array[] {
    const deletes: Uint8Array[] = [];
    if (ttl.length === 0) return deletes;
    const r = this.range;
    const groups = r.end - r.start + 1;
    let seen = 0;
    let advanced = 0;
    const c = this.cursor;
    if (c.kg < r.start || c.kg > r.end) c.kg = r.start;
    while (seen < budget) {
      if (c.state >= ttl.length) {
        c.state = 0;
        c.after = undefined;
        c.kg = c.kg >= r.end ? r.start : c.kg + 1;
        if (++advanced >= groups) break; // one full round per call at most
        continue;
      }
      const t = ttl[c.state]!;
      const range = prefixRange([c.kg, t.name]);
      const start = c.after ? encodeKeyBytes(c.after) : range.start;
      let finished = true;
      for (const { key, value } of this.db.getRange({ start, end: range.end } as never) as Iterable<{ key: KeyPart[]; value: unknown }>) {
        if (c.after && encodeKeyBytes(key).equals(start)) continue;
        if (++seen > budget) {
          finished = false;
          break;
        }
        c.after = key;
        if ((value as [number])[0] > now || bufferedFor(t, key)) continue;
        deletes.push(encodeKeyBytes(key));
      }
      if (finished) {
        c.after = undefined;
        c.state++;
      }
    }
    return deletes;
  }
}
