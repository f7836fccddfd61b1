/**
 * The file system a table lives on. Paths are strings: absolute local paths, or `s3://bucket/key`.
 *
 * `writeIfAbsent` is what snapshot commits rely on: it must create the file only if no file of that
 * name exists, and report which happened. Where the store cannot do that atomically by itself
 * (`atomicCreate` false, e.g. S3 here), callers hold a CommitLock around check-and-write.
 */
export interface FileStatus {
  path: string;
  size: number;
  /** Last modification, milliseconds since the epoch. */
  modifiedMs: number;
}

export interface FileIO {
  /** True if writeIfAbsent is atomic against concurrent writers without any lock. */
  readonly atomicCreate: boolean;
  read(path: string): Promise<Uint8Array>;
  /** `length` bytes from `offset` (explicit ranges only). */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Creates or replaces the file; readers never see a partial file. */
  write(path: string, data: Uint8Array | string): Promise<void>;
  /** Creates the file if no file has that path; false if one already existed. */
  writeIfAbsent(path: string, data: Uint8Array | string): Promise<boolean>;
  exists(path: string): Promise<boolean>;
  /** Files directly under `dir` (not directories); empty if the directory does not exist. */
  list(dir: string): Promise<FileStatus[]>;
  /** Every file under `dir`, at any depth. */
  listRecursive(dir: string): Promise<FileStatus[]>;
  /** Deletes the file; no error if it does not exist. */
  delete(path: string): Promise<void>;
  /** Size in bytes, or null if the file does not exist. */
  size(path: string): Promise<number | null>;
}

export function joinPath(...parts: string[]): string {
  let out = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '') continue;
    out = `${out.replace(/\/+$/, '')}/${p.replace(/^\/+/, '')}`;
  }
  return out;
}

export function baseName(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}
