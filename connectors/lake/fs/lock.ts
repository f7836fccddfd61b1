/**
 * Commit locks: mutual exclusion around "is snapshot-N free? then write it" on stores without an
 * atomic create (S3 here).
 *
 * Why a lock file on a local (or shared, e.g. NFS) disk and not a lock object in the bucket: an
 * S3 object written and read back cannot exclude a second writer (both PUT, both read their own
 * write, both proceed) unless the store has conditional PUT, which s3rver lacks. Exclusive file
 * creation (O_EXCL) on one file system is atomic. The lock file holds the owner and an expiry; a
 * lock past its expiry (a crashed holder) is broken. Writers on different hosts need the lock
 * directory on a file system they share, or another CommitLock (a lock service) behind this interface.
 */
import path from 'node:path';
import os from 'node:os';
import { randomUUID, createHash } from 'node:crypto';
import * as fs from '../../../runtime/worker-safe-fs.ts';
import { ExternalError } from '../errors.ts';

export interface CommitLock {
  /** Runs `fn` while holding the lock named `key` (e.g. the table path). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** For stores whose writeIfAbsent is atomic already: no lock. */
export const NO_LOCK: CommitLock = { withLock: (_key, fn) => fn() };

export interface LocalFileLockOptions {
  /** Directory of the lock files; default WEIR_LAKE_LOCK_DIR or <tmp>/weir-lake-locks. */
  dir?: string;
  /** A lock older than this is taken to be left by a crashed holder. */
  expiryMs?: number;
  /** Give up after waiting this long. */
  timeoutMs?: number;
}

const inProcess = new Map<string, Promise<void>>();

export class LocalFileLock implements CommitLock {
  readonly dir: string;
  private readonly expiryMs: number;
  private readonly timeoutMs: number;

  constructor(options: LocalFileLockOptions = {}) {
    this.dir = options.dir ?? process.env.WEIR_LAKE_LOCK_DIR ?? path.join(os.tmpdir(), 'weir-lake-locks');
    this.expiryMs = options.expiryMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  private fileFor(key: string): string {
    return path.join(this.dir, `${createHash('sha1').update(key).digest('hex')}.lock`);
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const file = this.fileFor(key);
    // queue callers of this process first, so they do not poll the file against each other
    const previous = inProcess.get(file) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const chained = previous.then(() => mine);
    inProcess.set(file, chained);
    await previous;
    try {
      const owner = await this.acquire(file, key);
      try {
        return await fn();
      } finally {
        await this.releaseFile(file, owner);
      }
    } finally {
      release();
      if (inProcess.get(file) === chained) inProcess.delete(file);
    }
  }

  private async acquire(file: string, key: string): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    const owner = `${os.hostname()}:${process.pid}:${randomUUID()}`;
    const deadline = Date.now() + this.timeoutMs;
    let wait = 5;
    for (;;) {
      try {
        const fd = await fs.open(file, 'wx');
        try {
          await fs.writeFile(fd, JSON.stringify({ owner, key, expiresAt: Date.now() + this.expiryMs }));
        } finally {
          await fs.close(fd);
        }
        return owner;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ExternalError(`commit lock '${file}': ${(e as Error).message}`, { cause: e });
      }
      await this.breakIfExpired(file);
      if (Date.now() > deadline) {
        throw new ExternalError(`commit lock for '${key}' (${file}) still held after ${this.timeoutMs} ms; if no writer is running, delete the lock file`);
      }
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 200);
    }
  }

  private async breakIfExpired(file: string): Promise<void> {
    try {
      const held = JSON.parse(await fs.readTextFile(file)) as { expiresAt?: number };
      if ((held.expiresAt ?? 0) < Date.now()) {
        const aside = `${file}.${randomUUID()}.stale`;
        await fs.rename(file, aside);
        await fs.unlink(aside).catch(() => undefined);
      }
    } catch {
      // the holder released it meanwhile, or is still writing it: try again
    }
  }

  private async releaseFile(file: string, owner: string): Promise<void> {
    try {
      const held = JSON.parse(await fs.readTextFile(file)) as { owner?: string };
      if (held.owner === owner) await fs.unlink(file);
    } catch {
      // already gone
    }
  }
}
