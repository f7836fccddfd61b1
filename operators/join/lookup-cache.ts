/**
 * Caches in front of a lookup table (Flink's lookup.cache): rows per key, held in the subtask's
 * memory only (a cache is not state: after a restart it fills again).
 *
 *  - partial: least recently used keys are evicted past `maxRows` cached keys; an entry expires
 *    `ttlMs` after it was loaded; keys with no rows are cached too unless `cacheMissingKeys: false`.
 *  - full: the whole table is read at start and read again every `reloadIntervalMs`; lookups never
 *    go to the table (a key that is not there has no rows until the next reload).
 */
import { ConfigError } from '../../runtime/errors.ts';
import { keyId, type KeyId } from '../../state/key-codec.ts';
import type { StateKey } from '../../state/key-groups.ts';

export type LookupCacheOptions =
  | { kind: 'none' }
  | { kind: 'partial'; maxRows: number; ttlMs?: number; cacheMissingKeys?: boolean }
  | { kind: 'full'; reloadIntervalMs: number };

export function validateCacheOptions(table: string, c: LookupCacheOptions): void {
  if (c.kind === 'partial') {
    if (!(Number.isInteger(c.maxRows) && c.maxRows > 0)) throw new ConfigError('lookup.cache.maxRows', `lookup of table '${table}': must be a whole number > 0, got ${c.maxRows}`);
    if (c.ttlMs !== undefined && !(c.ttlMs > 0)) throw new ConfigError('lookup.cache.ttlMs', `lookup of table '${table}': must be > 0 ms, got ${c.ttlMs}`);
  } else if (c.kind === 'full') {
    if (!(c.reloadIntervalMs > 0)) throw new ConfigError('lookup.cache.reloadIntervalMs', `lookup of table '${table}': must be > 0 ms, got ${c.reloadIntervalMs}`);
  } else if (c.kind !== 'none') {
    throw new ConfigError('lookup.cache.kind', `lookup of table '${table}': '${String((c as { kind: unknown }).kind)}' is not a cache kind: use none, partial or full`);
  }
}

interface Cached<D> {
  rows: D[];
  expiresAt: number;
}

/** LRU with expiry: a JS Map keeps insertion order, so re-inserting on a hit moves a key to the back. */
export class PartialCache<D> {
  private readonly entries = new Map<KeyId, Cached<D>>();
  private readonly ttlMs: number;
  private readonly cacheMissing: boolean;

  constructor(
    private readonly maxRows: number,
    ttlMs: number | undefined,
    cacheMissingKeys: boolean | undefined,
    private readonly now: () => number,
  ) {
    this.ttlMs = ttlMs ?? Infinity;
    this.cacheMissing = cacheMissingKeys ?? true;
  }

  get(key: StateKey): D[] | undefined {
    const id = keyId(key);
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    this.entries.delete(id);
    if (e.expiresAt <= this.now()) return undefined;
    this.entries.set(id, e);
    return e.rows;
  }

  put(key: StateKey, rows: D[]): void {
    if (rows.length === 0 && !this.cacheMissing) return;
    const id = keyId(key);
    this.entries.delete(id);
    this.entries.set(id, { rows, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.maxRows) {
      const oldest = this.entries.keys().next().value as KeyId;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The whole table by key, swapped in one assignment when a reload finishes. */
export class FullCache<D> {
  private table = new Map<KeyId, D[]>();
  private static readonly NONE: never[] = [];

  load(rows: Iterable<[StateKey, D]>): number {
    const next = new Map<KeyId, D[]>();
    let n = 0;
    for (const [k, row] of rows) {
      const id = keyId(k);
      const list = next.get(id);
      if (list === undefined) next.set(id, [row]);
      else list.push(row);
      n++;
    }
    this.table = next;
    return n;
  }

  get(key: StateKey): D[] {
    return this.table.get(keyId(key)) ?? FullCache.NONE;
  }
}
