/**
 * Local disk. Writes go to a temp file in the same directory and are renamed into place, so readers
 * never see partial files; writeIfAbsent links the temp file to the target, which fails if the
 * target exists (atomic exclusive create on POSIX file systems).
 */
import type { Dirent } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as fs from '../../../runtime/worker-safe-fs.ts';
import { ExternalError } from '../errors.ts';
import { type FileIO, type FileStatus, toBytes } from './file-io.ts';

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function wrap(op: string, p: string, e: unknown): never {
  throw new ExternalError(`local file system: ${op} '${p}' failed: ${(e as Error).message}`, { cause: e, retriable: false });
}

export class LocalFileIO implements FileIO {
  readonly atomicCreate = true;

  async read(p: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await fs.readFile(p));
    } catch (e) {
      return wrap('read', p, e);
    }
  }

  async readRange(p: string, offset: number, length: number): Promise<Uint8Array> {
    const fd = await fs.open(p, 'r').catch((e: unknown) => wrap('open', p, e));
    try {
      const out = new Uint8Array(length);
      const bytesRead = await fs.readAt(fd, out, length, offset);
      return out.subarray(0, bytesRead);
    } finally {
      await fs.close(fd);
    }
  }

  private async writeTemp(p: string, data: Uint8Array | string): Promise<string> {
    await fs.mkdir(path.dirname(p), { recursive: true });
    const tmp = path.join(path.dirname(p), `.${path.basename(p)}.${randomUUID()}.tmp`);
    await fs.writeFile(tmp, toBytes(data));
    return tmp;
  }

  async write(p: string, data: Uint8Array | string): Promise<void> {
    try {
      const tmp = await this.writeTemp(p, data);
      await fs.rename(tmp, p);
    } catch (e) {
      wrap('write', p, e);
    }
  }

  async writeIfAbsent(p: string, data: Uint8Array | string): Promise<boolean> {
    let tmp: string | undefined;
    try {
      tmp = await this.writeTemp(p, data);
      await fs.link(tmp, p);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException)?.code === 'EEXIST') return false;
      return wrap('create', p, e);
    } finally {
      if (tmp) await fs.unlink(tmp).catch(() => undefined);
    }
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fs.stat(p);
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      return wrap('stat', p, e);
    }
  }

  async size(p: string): Promise<number | null> {
    try {
      return (await fs.stat(p)).size;
    } catch (e) {
      if (isMissing(e)) return null;
      return wrap('stat', p, e);
    }
  }

  async list(dir: string): Promise<FileStatus[]> {
    let names: Dirent[];
    try {
      names = await fs.readdirEntries(dir);
    } catch (e) {
      if (isMissing(e)) return [];
      return wrap('list', dir, e);
    }
    const out: FileStatus[] = [];
    for (const d of names) {
      if (!d.isFile()) continue;
      const full = path.join(dir, d.name);
      const st = await fs.stat(full).catch(() => null);
      if (st) out.push({ path: full, size: st.size, modifiedMs: st.mtimeMs });
    }
    return out;
  }

  async listRecursive(dir: string): Promise<FileStatus[]> {
    let entries: Dirent[];
    try {
      entries = await fs.readdirEntries(dir);
    } catch (e) {
      if (isMissing(e)) return [];
      return wrap('list', dir, e);
    }
    const out: FileStatus[] = [];
    for (const d of entries) {
      const full = path.join(dir, d.name);
      if (d.isDirectory()) out.push(...(await this.listRecursive(full)));
      else if (d.isFile()) {
        const st = await fs.stat(full).catch(() => null);
        if (st) out.push({ path: full, size: st.size, modifiedMs: st.mtimeMs });
      }
    }
    return out;
  }

  async delete(p: string): Promise<void> {
    try {
      await fs.unlink(p);
    } catch (e) {
      if (!isMissing(e)) wrap('delete', p, e);
    }
  }
}
