/**
 * Consumers (`consumer/consumer-<id>`, JSON `{"nextSnapshot": N}`), as Java Paimon keeps them: a
 * streaming reader with a `consumer-id` records the next snapshot it needs, and snapshot expiration
 * never removes that snapshot or a later one. A consumer whose file was not updated for
 * `consumer.expiration-time` (a table option; unset: consumers never expire) is dead: expiration
 * deletes its file and no longer waits for it.
 */
import { type FileIO, joinPath, baseName } from '../fs/file-io.ts';
import { LakeFormatError } from '../errors.ts';
import { parseDuration } from './options.ts';

export interface Consumer {
  id: string;
  nextSnapshot: number;
  /** When the consumer last recorded its position (the file's modification time). */
  modifiedMs: number;
}

const PREFIX = 'consumer-';

export class ConsumerManager {
  constructor(readonly io: FileIO, readonly tablePath: string) {}

  get dir(): string {
    return joinPath(this.tablePath, 'consumer');
  }

  consumerPath(id: string): string {
    return joinPath(this.dir, `${PREFIX}${id}`);
  }

  async list(): Promise<Consumer[]> {
    if (!(await this.io.exists(this.dir))) return [];
    const out: Consumer[] = [];
    for (const f of await this.io.list(this.dir)) {
      const name = baseName(f.path);
      if (!name.startsWith(PREFIX)) continue;
      const id = name.slice(PREFIX.length);
      const next = await this.readNext(f.path);
      if (next !== null) out.push({ id, nextSnapshot: next, modifiedMs: f.modifiedMs });
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  private async readNext(p: string): Promise<number | null> {
    let text: string;
    try {
      text = new TextDecoder().decode(await this.io.read(p));
    } catch {
      return null; // deleted meanwhile
    }
    try {
      const n = (JSON.parse(text) as { nextSnapshot?: unknown }).nextSnapshot;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error('nextSnapshot is not an integer');
      return n;
    } catch (e) {
      throw new LakeFormatError(`consumer file ${p} is not valid ({"nextSnapshot": N} expected): ${(e as Error).message}; delete it if the consumer is gone`, { cause: e });
    }
  }

  async get(id: string): Promise<number | null> {
    const p = this.consumerPath(id);
    return (await this.io.exists(p)) ? this.readNext(p) : null;
  }

  /** Records the consumer's next snapshot (overwrites). */
  async reset(id: string, nextSnapshot: number): Promise<void> {
    await this.io.write(this.consumerPath(id), JSON.stringify({ nextSnapshot }, null, 2));
  }

  async delete(id: string): Promise<void> {
    await this.io.delete(this.consumerPath(id));
  }

  /**
   * The least next snapshot over live consumers (null if none). Consumers idle for longer than
   * `expirationMs` are deleted first, as Java's expiration does.
   */
  async minNextSnapshot(opts: { expirationMs?: number | null; now?: number } = {}): Promise<number | null> {
    let min: number | null = null;
    const now = opts.now ?? Date.now();
    for (const c of await this.list()) {
      if (opts.expirationMs != null && now - c.modifiedMs > opts.expirationMs) {
        await this.delete(c.id);
        continue;
      }
      min = min === null ? c.nextSnapshot : Math.min(min, c.nextSnapshot);
    }
    return min;
  }
}

/** `consumer.expiration-time` of the table (ms), or null: consumers never expire. */
export function consumerExpiration(options: Record<string, string>): number | null {
  const v = options['consumer.expiration-time'];
  return v === undefined ? null : parseDuration(v, 'consumer.expiration-time');
}
