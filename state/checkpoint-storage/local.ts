/** Checkpoints in a local directory (the default): state files streamed to disk, `_metadata` by temp file + rename. */
import { close, fsync, mkdir, open, readAt, readdir, readFile, rename, rm, stat, writeAll, writeFile } from '../../runtime/worker-safe-fs.ts';
import path from 'node:path';
import {
  type CheckpointListing,
  type CheckpointScope,
  type CheckpointStorage,
  CheckpointStorageError,
  type CompletedCheckpoint,
  type FileData,
  METADATA_FILE,
  type StateFileHandle,
  type WriteOptions,
  checkpointDirName,
  chunksOf,
  collectStateFiles,
  crc32,
  crc32Hex,
  decodeMetadata,
  encodeMetadata,
  missingFileError,
  parseCheckpointDirName,
  validateFileName,
} from './storage.ts';

export interface LocalCheckpointStorageOptions {
  /** Root directory shared by all jobs. */
  root: string;
  jobId: string;
  /** Completed checkpoints to keep; older ones are deleted after each `writeMetadata`. Default 3. */
  retainedCheckpoints?: number;
  /** Where skipped checkpoints are reported; default console.warn. */
  log?: (message: string) => void;
}

export class LocalCheckpointStorage implements CheckpointStorage {
  readonly location: string;
  private readonly retained: number;
  private readonly log: (message: string) => void;

  constructor(options: LocalCheckpointStorageOptions) {
    this.location = path.join(options.root, options.jobId);
    this.retained = options.retainedCheckpoints ?? 3;
    this.log = options.log ?? ((m) => console.warn(m));
  }

  private dir(checkpointId: number, scope: CheckpointScope): string {
    return path.join(this.location, checkpointDirName(checkpointId, scope));
  }

  async writeFile(checkpointId: number, name: string, data: FileData, options: WriteOptions = {}): Promise<StateFileHandle> {
    validateFileName(name);
    const scope = options.scope ?? 'checkpoint';
    const dir = this.dir(checkpointId, scope);
    await mkdir(dir, { recursive: true });
    const fd = await open(path.join(dir, name), 'w');
    let size = 0;
    let crc = 0;
    try {
      for await (const chunk of chunksOf(data)) {
        size += chunk.length;
        crc = crc32(chunk, crc);
        await writeAll(fd, chunk);
      }
      // Durable before `_metadata` can refer to it.
      await fsync(fd);
    } catch (cause) {
      throw new CheckpointStorageError(`writing state file '${name}' of ${scope} ${checkpointId} under ${dir} failed: ${(cause as Error).message}`, { cause, retriable: true });
    } finally {
      await close(fd);
    }
    return { type: 'weir.state-file', scope, checkpointId, name, size, crc32: crc.toString(16).padStart(8, '0') };
  }

  async readFile(file: StateFileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    const p = path.join(this.dir(file.checkpointId, file.scope), file.name);
    const where = this.dir(file.checkpointId, file.scope);
    if (range) {
      let fd: number;
      try {
        fd = await open(p, 'r');
      } catch (cause) {
        throw missingFileError(where, file, `is missing (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      try {
        const buf = Buffer.allocUnsafe(range.length);
        const bytesRead = await readAt(fd, buf, range.length, range.offset);
        if (bytesRead !== range.length) throw missingFileError(where, file, `is shorter than recorded (wanted bytes ${range.offset}..${range.offset + range.length})`);
        return buf;
      } finally {
        await close(fd);
      }
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(p);
    } catch (cause) {
      throw missingFileError(where, file, `is missing (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (bytes.length !== file.size) throw missingFileError(where, file, `has ${bytes.length} bytes, ${file.size} recorded`);
    const crc = crc32Hex(bytes);
    if (crc !== file.crc32) throw missingFileError(where, file, `is corrupt (CRC-32 ${crc}, ${file.crc32} recorded)`);
    return bytes;
  }

  async writeMetadata(checkpointId: number, metadata: unknown, options: WriteOptions = {}): Promise<CompletedCheckpoint> {
    const scope = options.scope ?? 'checkpoint';
    const dir = this.dir(checkpointId, scope);
    const files = collectStateFiles(metadata);
    for (const f of files) await this.checkFile(dir, f);
    await mkdir(dir, { recursive: true });
    const bytes = encodeMetadata(checkpointId, scope, metadata, files);
    const tmp = path.join(dir, `.${METADATA_FILE}.${process.pid}.tmp`);
    const fd = await open(tmp, 'w');
    try {
      await writeFile(fd, bytes);
      await fsync(fd);
    } finally {
      await close(fd);
    }
    await rename(tmp, path.join(dir, METADATA_FILE));
    // The rename itself durable too.
    const dirFd = await open(dir, 'r');
    try {
      await fsync(dirFd);
    } finally {
      await close(dirFd);
    }
    const completed = decodeMetadata(bytes, dir, dir);
    if (scope === 'checkpoint') await this.applyRetention(this.retained);
    return completed;
  }

  private async checkFile(dir: string, f: StateFileHandle): Promise<void> {
    const p = path.join(this.dir(f.checkpointId, f.scope), f.name);
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      throw missingFileError(dir, f, `is missing at ${p}`);
    }
    if (size !== f.size) throw missingFileError(dir, f, `has ${size} bytes at ${p}, ${f.size} recorded`);
  }

  async readCompleted(checkpointId: number, options: WriteOptions = {}): Promise<CompletedCheckpoint> {
    const scope = options.scope ?? 'checkpoint';
    const dir = this.dir(checkpointId, scope);
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, METADATA_FILE));
    } catch {
      throw new CheckpointStorageError(`${dir}: no _metadata, so ${scope} ${checkpointId} never completed (or was deleted): use an earlier one`);
    }
    const completed = decodeMetadata(bytes, dir, dir);
    for (const f of completed.files) await this.checkFile(dir, f);
    return completed;
  }

  async latestCompleted(): Promise<CompletedCheckpoint | undefined> {
    const all = (await this.listCheckpoints()).reverse();
    for (const c of all) {
      try {
        return await this.readCompleted(c.checkpointId);
      } catch (e) {
        this.log(`skipping checkpoint ${c.checkpointId}: ${(e as Error).message}`);
      }
    }
    return undefined;
  }

  private async list(scope: CheckpointScope): Promise<CheckpointListing[]> {
    const base = scope === 'savepoint' ? path.join(this.location, 'savepoints') : this.location;
    let names: string[];
    try {
      names = await readdir(base);
    } catch {
      return [];
    }
    const out: CheckpointListing[] = [];
    for (const n of names) {
      const id = parseCheckpointDirName(n, scope);
      if (id === undefined) continue;
      const hasMetadata = await stat(path.join(base, n, METADATA_FILE)).then(() => true, () => false);
      out.push({ checkpointId: id, scope, hasMetadata });
    }
    return out.sort((a, b) => a.checkpointId - b.checkpointId);
  }

  listCheckpoints(): Promise<CheckpointListing[]> {
    return this.list('checkpoint');
  }

  listSavepoints(): Promise<CheckpointListing[]> {
    return this.list('savepoint');
  }

  async applyRetention(keep: number): Promise<number[]> {
    const all = await this.listCheckpoints();
    const completed = all.filter((c) => c.hasMetadata);
    if (completed.length <= keep) return [];
    const oldestKept = completed[completed.length - keep]?.checkpointId ?? Infinity;
    const doomed = all.filter((c) => c.checkpointId < oldestKept).map((c) => c.checkpointId);
    for (const id of doomed) await this.discard(id);
    return doomed;
  }

  async discard(checkpointId: number, options: WriteOptions = {}): Promise<void> {
    const dir = this.dir(checkpointId, options.scope ?? 'checkpoint');
    // `_metadata` first, so a half-deleted checkpoint is never taken for a complete one.
    await rm(path.join(dir, METADATA_FILE), { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

